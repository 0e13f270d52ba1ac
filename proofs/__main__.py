"""Run every proof script, in the order of the claim ledger, and print its narrative."""
import sys

from theory.claims import proof_modules, run_proof


def main() -> int:
    for name in proof_modules():
        print(f"\n{'=' * 78}\nproofs/{name}.py\n{'=' * 78}")
        run_proof(name, verbose=True)
    print(f"\n{len(proof_modules())} proof scripts ran; every assertion holds.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
