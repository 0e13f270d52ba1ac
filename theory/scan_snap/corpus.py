"""A real English corpus for Tian et al. 2023's real-data experiment, read offline.

**The text.**  The authors train on WikiText-2 (torchtext downloads it).  Nothing is
downloaded here: the default corpus is the King James Bible as Debian packages it
(``bible-kjv-text`` 4.38 with its reader ``bible-kjv``; public domain): 31,102 verses,
about 820,000 words, printed by ``bible -f gen1:1-rev22:21`` one verse a line
(``Ge1:1 In the beginning God created …``).  :func:`load_verses` runs that program and drops
each line's reference; install it with ``apt-get install bible-kjv-text`` (CI does).  Any
other plain-text file (one passage a line) can be given instead.

**Tokens.**  torchtext's ``basic_english`` rules, which the authors use: lower case; ``'``
becomes a token of its own; ``"`` removed; ``. , ( ) ! ?`` become tokens; ``; :`` and line
breaks become spaces; split on white space.  **Vocabulary**: ``<unk>`` (id 0) and the
``vocab − 1`` most frequent types of the training part, ties broken alphabetically; every
other type reads as ``<unk>`` (the authors keep every WikiText type: its 33,278 types
already have rare words mapped to ``<unk>`` by WikiText's makers).

**Split.**  Every tenth passage (lines 10, 20, …) is held out for validation, the rest
trains; each part's passages are joined into one token stream and cut into ``batch``
parallel streams as the tutorial's ``batchify`` does (batch first here).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core._validate import integer_array, positive_int

__all__ = ["KJV_COMMAND", "UNK", "load_verses", "tokenize", "build_vocab", "encode", "Corpus", "load_corpus",
           "batchify", "get_batch"]

KJV_COMMAND = ("bible", "-f", "gen1:1-rev22:21")     # Debian bible-kjv: every verse, one a line
UNK = "<unk>"

# torchtext.data.utils._basic_english_normalize: (pattern, replacement), in this order
_BASIC_ENGLISH = [(re.compile(p), r) for p, r in (
    (r"\'", " '  "), (r"\"", ""), (r"\.", " . "), (r"<br \/>", " "), (r",", " , "), (r"\(", " ( "),
    (r"\)", " ) "), (r"\!", " ! "), (r"\?", " ? "), (r"\;", " "), (r"\:", " "), (r"\s+", " "))]
_REFERENCE = re.compile(r"^\S*\d+:\d+ ")            # the verse reference that starts a line


def load_verses(path=None) -> list[str]:
    """The passages of the corpus, one string each: the King James Bible through Debian's
    ``bible`` program (``path=None``), or the non-empty lines of the text file ``path``."""
    if path is not None:
        p = Path(path) if isinstance(path, (str, Path)) else None
        if p is None or not p.is_file():
            raise ValueError(f"path must name a text file; got {path!r}")
        lines = [line.strip() for line in p.read_text(encoding="utf-8").splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise ValueError(f"path {str(p)!r} holds no text")
        return lines
    if shutil.which(KJV_COMMAND[0]) is None:
        raise RuntimeError("the default corpus is the King James Bible of Debian's bible-kjv-text package, read "
                           "through its 'bible' program, which is not installed: run "
                           "'apt-get install bible-kjv-text', or pass path= a plain-text file")
    out = subprocess.run(KJV_COMMAND, capture_output=True, text=True, check=False)
    lines = out.stdout.splitlines()
    if out.returncode != 0 or not all(_REFERENCE.match(line) for line in lines[:3]):
        raise RuntimeError(f"{' '.join(KJV_COMMAND)!r} failed (exit {out.returncode}): {out.stderr[:200]!r}")
    return [_REFERENCE.sub("", line, count=1) for line in lines if line.strip()]


def tokenize(text: str) -> list[str]:
    """torchtext's ``basic_english`` tokens of ``text`` (module docstring)."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a string; got {type(text).__name__}")
    text = text.lower()
    for pattern, replacement in _BASIC_ENGLISH:
        text = pattern.sub(replacement, text)
    return text.split()


def _strings(name: str, tokens) -> list:
    if isinstance(tokens, str) or not isinstance(tokens, (list, tuple)) or not all(isinstance(t, str) for t in tokens):
        raise ValueError(f"{name} must be a list of strings (tokenize makes one); got {tokens!r:.60}")
    return list(tokens)


def build_vocab(tokens, size: int) -> tuple[str, ...]:
    """``(<unk>, the size − 1 most frequent types of tokens)``, ties alphabetical."""
    size = positive_int("size", size)
    if size < 2:
        raise ValueError(f"size must be at least 2 (<unk> and one type); got {size}")
    tokens = _strings("tokens", tokens)
    counts = Counter(tokens)
    counts.pop(UNK, None)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return (UNK,) + tuple(w for w, _ in ranked[:size - 1])


def encode(tokens, vocab) -> np.ndarray:
    """Token ids (int64) of ``tokens`` in ``vocab``; a type not in it is ``<unk>`` (0)."""
    if not isinstance(vocab, (tuple, list)) or not vocab or vocab[0] != UNK:
        raise ValueError(f"vocab must be a tuple starting with {UNK!r} (build_vocab makes one); got {vocab!r:.60}")
    index = {w: i for i, w in enumerate(vocab)}
    return np.fromiter((index.get(w, 0) for w in _strings("tokens", tokens)), dtype=np.int64)


@dataclass(frozen=True)
class Corpus:
    """Token ids of the training and validation parts, and the vocabulary."""
    train: np.ndarray           # (N_train,) int64
    val: np.ndarray             # (N_val,) int64
    vocab: tuple                # the types, <unk> first
    source: str                 # where the text came from

    @property
    def unk_share(self) -> float:
        """Share of the training tokens that read as <unk>."""
        return float(np.mean(self.train == 0))


def load_corpus(vocab: int = 2000, path=None, *, max_tokens: int | None = None) -> Corpus:
    """The corpus tokenised and split (module docstring); ``max_tokens`` keeps the first
    that many training tokens (and a tenth as many validation tokens) for quick runs."""
    vocab = positive_int("vocab", vocab)
    if max_tokens is not None:
        max_tokens = positive_int("max_tokens", max_tokens)
    verses = load_verses(path)
    train_tok = [t for i, v in enumerate(verses) if i % 10 != 9 for t in tokenize(v)]
    val_tok = [t for i, v in enumerate(verses) if i % 10 == 9 for t in tokenize(v)]
    if max_tokens is not None:
        train_tok, val_tok = train_tok[:max_tokens], val_tok[:max(max_tokens // 10, 1)]
    if not val_tok:
        raise ValueError(f"the corpus has {len(verses)} passage(s): at least 10 are needed for a validation part")
    words = build_vocab(train_tok, vocab)
    source = " ".join(KJV_COMMAND) if path is None else str(path)
    return Corpus(encode(train_tok, words), encode(val_tok, words), words, source)


def batchify(ids, batch: int) -> np.ndarray:
    """``(batch, N // batch)``: the stream cut into ``batch`` consecutive pieces, one a row
    (the tutorial's ``batchify``, transposed); the last ``N mod batch`` ids are dropped."""
    ids = integer_array("ids", ids, low=0)
    batch = positive_int("batch", batch)
    if ids.ndim != 1 or len(ids) < 2 * batch:
        raise ValueError(f"ids must be a 1-d stream of at least 2·batch = {2 * batch} ids; got shape {ids.shape}")
    n = len(ids) // batch
    return ids[:n * batch].reshape(batch, n)


def get_batch(streams, i: int, bptt: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``, each (batch, ≤ bptt): columns i … i + bptt − 1 and the next ids (the
    tutorial's ``get_batch``; the last window may be shorter)."""
    streams = integer_array("streams", streams, low=0)
    bptt = positive_int("bptt", bptt)
    if streams.ndim != 2 or streams.shape[1] < 2:
        raise ValueError(f"streams must be (batch, N) with N >= 2 (batchify makes them); got shape {streams.shape}")
    if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)) or not 0 <= i < streams.shape[1] - 1:
        raise ValueError(f"i must be a column in [0, {streams.shape[1] - 1}) of streams (batch, N); got {i!r}")
    n = min(bptt, streams.shape[1] - 1 - i)
    return streams[:, i:i + n], streams[:, i + 1:i + 1 + n]
