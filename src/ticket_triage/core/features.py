"""Hashed word n-gram features, bit-for-bit those of scikit-learn's ``HashingVectorizer``.

The second step of the data path: one combined ticket string becomes one sparse vector, computed
once and shared by every head. Training builds the same vector with scikit-learn
(``HashingVectorizer(ngram_range=(1, 2), alternate_sign=False, norm=None)`` followed by
``TfidfTransformer(sublinear_tf=True)``); this module reproduces it with numpy and ``mmh3`` so that
serving never imports scikit-learn or scipy (about a second of cold start and 200 MB of package).

Why hashing: there is no vocabulary to fit or ship, memory is fixed by ``n_features``, and a new
word costs nothing. The price is that a feature index cannot be turned back into its n-gram; the
explanation code maps indices back through the ticket's own n-grams instead.

Why sublinear TF-IDF on top of raw counts: measured on ``../shared/datasets`` it is the only
weighting that keeps both the NLBSE'24 topic head and the support-ticket urgency head at or above
the TF-IDF + LinearSVC baseline (see README, "How the defaults were chosen").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import chain, pairwise
from typing import Any

import mmh3
import numpy as np

from ticket_triage.core.errors import ArtifactError
from ticket_triage.core.text import TOKEN_PATTERN

try:  # the C hot loop (_featurize.c); the pure-Python path below gives identical features
    from ticket_triage.core._featurize import hash_ngrams as _compiled_hash_ngrams
    from ticket_triage.core._featurize import score_text as compiled_score_text
except ImportError:  # pragma: no cover - installed where no C compiler was available
    _compiled_hash_ngrams = compiled_score_text = None

__all__ = [
    "COMPILED",
    "FeatureConfig",
    "Featurizer",
    "SparseRows",
    "bucket_of",
    "compiled_score_text",
    "hash_features",
    "ngrams",
]

#: Whether the compiled featuriser is installed (it makes long tickets ~2x faster to score).
COMPILED = _compiled_hash_ngrams is not None

# MurmurHash3 gives a signed 32-bit value; scikit-learn maps -2**31 (whose abs() overflows int32)
# to this index instead of abs(h) % n_features. Reproduced here so every n_features agrees.
_INT32_MIN = -(2**31)


@dataclass(frozen=True)
class FeatureConfig:
    """How text becomes a feature vector. Stored in the artifact; training and serving share it.

    Parameters
    ----------
    n_features : int, default=2**20
        Width of the hashed space. 2**18 scored the same on the shared data; 2**20 leaves room for
        customers' larger corpora at 32 MB of serving memory for 8 classes.
    ngram_range : tuple of int, default=(1, 2)
        Smallest and largest word n-gram.
    token_pattern : str, default=:data:`ticket_triage.core.text.TOKEN_PATTERN`
        Regex for tokens; unlike scikit-learn's default it keeps ``!!!`` and one-letter words.
    sublinear_tf : bool, default=True
        Use ``1 + log(count)`` instead of the raw count.
    use_idf : bool, default=True
        Multiply by inverse document frequency learned at training time.
    tokenizer : {"regex", "spacy"}, default="regex"
        ``"spacy"`` runs spaCy's rule-based tokenizer before the regex (the ``spacy`` extra).
    """

    n_features: int = 2**20
    ngram_range: tuple[int, int] = (1, 2)
    token_pattern: str = TOKEN_PATTERN
    sublinear_tf: bool = True
    use_idf: bool = True
    tokenizer: str = "regex"
    norm: str = field(default="l2", init=False)

    def __post_init__(self) -> None:
        low, high = self.ngram_range
        if not 1 <= low <= high <= 3:
            raise ValueError(
                f"ngram_range must satisfy 1 <= min <= max <= 3, got {self.ngram_range}"
            )
        if not 2**10 <= self.n_features <= 2**24:
            raise ValueError(f"n_features must be in [2**10, 2**24], got {self.n_features}")
        if self.tokenizer not in ("regex", "spacy"):
            raise ValueError(f"tokenizer must be 'regex' or 'spacy', got {self.tokenizer!r}")

    def to_json(self) -> dict[str, Any]:
        """The config as plain JSON types, for ``model.json``."""
        data = asdict(self)
        data["ngram_range"] = list(self.ngram_range)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureConfig:
        """Rebuild a config written by :meth:`to_json`; refuses what this version cannot honour."""
        try:
            data = dict(data)
            if data.pop("norm", "l2") != "l2":
                raise ValueError("only norm 'l2' is supported")
            data["ngram_range"] = tuple(data["ngram_range"])
            config = cls(**data)
            re.compile(config.token_pattern)
            return config
        except (KeyError, TypeError, ValueError, re.error) as exc:
            raise ArtifactError(f"model.json: unsupported feature config: {exc}") from exc


@dataclass(frozen=True)
class SparseRows:
    """A CSR-style batch of feature vectors without scipy: row ``i`` is ``indptr[i]:indptr[i+1]``.

    Attributes
    ----------
    indptr : ndarray of int64, shape (n_rows + 1,)
    indices : ndarray of int64, shape (nnz,)
        Feature indices, sorted and unique within each row.
    counts : ndarray of float64, shape (nnz,)
        How often each hashed feature occurs in its row.
    """

    indptr: np.ndarray
    indices: np.ndarray
    counts: np.ndarray

    @property
    def row_ids(self) -> np.ndarray:
        """The row each stored value belongs to."""
        return np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))


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


def hash_features(grams_per_row: Sequence[Sequence[str]], n_features: int) -> SparseRows:
    """Hash each row's n-grams into ``n_features`` buckets and count them.

    Parameters
    ----------
    grams_per_row : sequence of sequences of str
        The n-grams of each document, as returned by :func:`ngrams`.
    n_features : int
        Width of the hashed space.

    Returns
    -------
    SparseRows
        Sorted unique indices and their counts per row (duplicates summed, as scikit-learn does).

    Examples
    --------
    >>> rows = hash_features([["a", "b", "a"], []], n_features=16)
    >>> rows.indptr.tolist(), rows.counts.tolist()
    ([0, 2, 2], [2.0, 1.0])
    """
    lengths = np.fromiter(map(len, grams_per_row), dtype=np.int64, count=len(grams_per_row))
    indices = bucket_of(list(chain.from_iterable(grams_per_row)), n_features)
    # One sort for the whole batch: key = row * n_features + index keeps rows apart and ordered.
    rows = np.repeat(np.arange(len(grams_per_row), dtype=np.int64), lengths)
    keys, counts = np.unique(rows * n_features + indices, return_counts=True)
    row_of_key = keys // n_features
    indptr = np.zeros(len(grams_per_row) + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of_key, minlength=len(grams_per_row)), out=indptr[1:])
    return SparseRows(indptr, keys % n_features, counts.astype(np.float64))


class Featurizer:
    """Combined ticket texts -> hashed n-gram counts, as the artifact's feature config says.

    Uses the compiled hot loop when it is installed and the config uses the default token
    pattern (the one it implements); otherwise tokenizes with the configured regex in Python.
    Both paths give the same :class:`SparseRows` (tested against each other and scikit-learn).

    Parameters
    ----------
    config : FeatureConfig
    compiled : bool, default=True
        Set False to force the pure-Python path (the tests compare the two).
    """

    def __init__(self, config: FeatureConfig, *, compiled: bool = True) -> None:
        self.config = config
        self.compiled = compiled and COMPILED and config.token_pattern == TOKEN_PATTERN
        self._findall = re.compile(config.token_pattern).findall

    def grams(self, text: str) -> list[str]:
        """The n-grams of one combined text (for explanations; scoring never builds them)."""
        return ngrams(self._findall(text), self.config.ngram_range)

    def named(self, text: str) -> tuple[SparseRows, dict[int, list[str]]]:
        """One text's features, and per feature index the text's own n-grams that hash to it.

        What an explanation needs, from one pass over the n-grams: the same :class:`SparseRows`
        as calling the featuriser (tested), and names for its hashed indices.
        """
        grams = self.grams(text)
        buckets = bucket_of(grams, self.config.n_features)
        indices, counts = np.unique(buckets, return_counts=True)
        names: dict[int, list[str]] = {}
        for gram, index in zip(grams, buckets.tolist(), strict=True):
            if gram not in names.setdefault(index, []):
                names[index].append(gram)
        rows = SparseRows(
            np.array([0, len(indices)], dtype=np.int64),
            indices.astype(np.int64),
            counts.astype(np.float64),
        )
        return rows, names

    def __call__(self, texts: Sequence[str]) -> SparseRows:
        """Sorted unique feature indices and their counts for each text."""
        low, high = self.config.ngram_range
        n_features = self.config.n_features
        if not self.compiled:
            grams = [ngrams(self._findall(text), (low, high)) for text in texts]
            return hash_features(grams, n_features)
        rows = [_compiled_hash_ngrams(text, n_features, low, high) for text in texts]
        if len(rows) == 1:
            indices, counts = rows[0]
            return SparseRows(
                np.array([0, len(indices) // 8], dtype=np.int64),
                np.frombuffer(indices, dtype=np.int64),
                np.frombuffer(counts, dtype=np.float64),
            )
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(indices) // 8 for indices, _ in rows], out=indptr[1:])
        return SparseRows(
            indptr,
            np.frombuffer(b"".join(indices for indices, _ in rows), dtype=np.int64),
            np.frombuffer(b"".join(counts for _, counts in rows), dtype=np.float64),
        )
