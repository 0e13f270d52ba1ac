"""Run proof scripts (all by default, in the order of the claim ledger) and print them."""
import argparse
import sys

from theory.claims import proof_modules, run_proof


def main(argv=None) -> int:
    names = proof_modules()
    p = argparse.ArgumentParser(prog="python -m proofs", description=__doc__)
    p.add_argument("names", nargs="*", metavar="NAME",
                   help=f"proof scripts to run (default: all): {', '.join(names)}")
    args = p.parse_args(argv)
    unknown = [n for n in args.names if n not in names]
    if unknown:
        p.error(f"unknown proof {', '.join(unknown)}; choose from {', '.join(names)}")
    chosen = args.names or names
    for name in chosen:
        print(f"\n{'=' * 78}\nproofs/{name}.py\n{'=' * 78}")
        run_proof(name, verbose=True)
    print(f"\n{len(chosen)} proof script{'s' * (len(chosen) > 1)} ran; every assertion holds.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
