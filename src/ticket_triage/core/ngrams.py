"""The n-grams of each block, spelled and hashed exactly as scikit-learn spells and hashes them.

The primitives of :mod:`~ticket_triage.core.features` (which builds sparse rows from them) and of
explanations (which name hashed features by the n-grams behind them): word n-grams joined by one
space (``HashingVectorizer(analyzer="word")``), ``char_wb`` n-grams (``analyzer="char_wb"``),
MurmurHash3 of the UTF-8 bytes and scikit-learn's bucket rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import mmh3
import numpy as np

__all__ = ["bucket_of", "char_wb_ngrams", "first_words", "fragment", "ngrams"]

# MurmurHash3 gives a signed 32-bit value; scikit-learn maps -2**31 (whose abs() overflows int32)
# to this index instead of abs(h) % n_features. Reproduced here so every n_features agrees.
_INT32_MIN = -(2**31)


def ngrams(tokens: Sequence[str], ngram_range: tuple[int, int]) -> list[str]:
    """Word n-grams in scikit-learn's order and spelling (tokens joined by one space).

    Examples
    --------
    >>> ngrams(["payment", "failed", "!!!"], (1, 2))
    ['payment', 'failed', '!!!', 'payment failed', 'failed !!!']
    """
    low, high = ngram_range
    grams = list(tokens) if low == 1 else []
    if low <= 2 <= high:
        grams.extend([f"{a} {b}" for a, b in pairwise(tokens)])  # the common case, fast
    for n in range(max(low, 3), high + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def char_wb_ngrams(
    text: str, ngram_range: tuple[int, int], max_words: int | None = None
) -> list[str]:
    """scikit-learn's ``char_wb`` n-grams, in its order: inside each white-space separated word
    (of the first ``max_words`` only, if given: :func:`first_words` as its preprocessor), padded
    with one space on each side; a padded word shorter than ``n`` counts once, whole.

    Examples
    --------
    >>> char_wb_ngrams("a fail", (2, 3))
    [' a', 'a ', ' a ', ' f', 'fa', 'ai', 'il', 'l ', ' fa', 'fai', 'ail', 'il ']
    >>> char_wb_ngrams("a fail", (2, 3), max_words=1)
    [' a', 'a ', ' a ']
    """
    low, high = ngram_range
    grams: list[str] = []
    for word in text.split()[:max_words]:
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            if n >= size:
                grams.append(padded)
                break
            grams.extend([padded[i : i + n] for i in range(size - n + 1)])
    return grams


def first_words(text: str, n: int) -> str:
    """The first ``n`` white-space separated words of ``text``, joined by one space.

    Examples
    --------
    >>> first_words("payment  failed\x1ferror 402", 3)
    'payment failed error'
    """
    return " ".join(text.split()[:n])


def fragment(gram: str) -> str:
    """A char n-gram as a person reads it: ``…`` where the word goes on, a whole word in ``‹›``.

    Examples
    --------
    >>> [fragment(g) for g in (" fa", "ail", "ed ", " ab ")]
    ['fa…', '…ail…', '…ed', '‹ab›']
    """
    inner = gram.strip(" ")
    starts, ends = gram.startswith(" "), gram.endswith(" ")
    if starts and ends:
        return f"‹{inner}›"
    return ("" if starts else "…") + inner + ("" if ends else "…")


def _bucket(hashes: np.ndarray, n_features: int) -> np.ndarray:
    """Map signed MurmurHash3 values to feature indices exactly as scikit-learn does."""
    indices = np.abs(hashes) % n_features
    if hashes.size and hashes.min() == _INT32_MIN:
        indices[hashes == _INT32_MIN] = (2**31 - 1 - (n_features - 1)) % n_features
    return indices


def bucket_of(grams: Sequence[str], n_features: int) -> np.ndarray:
    """The feature index of each n-gram, in order (duplicates kept).

    Examples
    --------
    >>> bucket_of(["payment", "payment failed"], 2**20).tolist()
    [485606, 130231]
    """
    hashes = np.fromiter(map(mmh3.hash, grams), dtype=np.int64, count=len(grams))
    return _bucket(hashes, n_features)
