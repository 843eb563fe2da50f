"""Hashed n-gram features, bit-for-bit those of scikit-learn's ``HashingVectorizer``.

The second step of the data path: one combined ticket string becomes one sparse vector, computed
once and shared by every head. Training builds the same vector with scikit-learn
(``HashingVectorizer(ngram_range=(1, 2), alternate_sign=False, norm=None)`` followed by
``TfidfTransformer(sublinear_tf=True)``, per block); this module reproduces it with numpy and
``mmh3`` so that serving never imports scikit-learn or scipy (about a second of cold start and
200 MB of package).

The hashed space has up to three blocks (:attr:`FeatureConfig.blocks`), each weighted with its
own TF-IDF, L2-normalised on its own and scaled by its weight: word n-grams (always), the
``char_wb`` character n-grams of scikit-learn (with ``char_ngram_range``: they catch typos,
inflections, German compounds and error-code shapes that whole words miss), and the subject's own
word n-grams (with ``subject_weight``: a word in the subject says more than the same word deep in
an e-mail). A model without the later blocks is exactly a model of schema 1 before they existed.

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
from itertools import chain
from typing import Any

import numpy as np

from ticket_triage.core.errors import ArtifactError
from ticket_triage.core.ngrams import bucket_of, char_wb_ngrams, fragment, ngrams
from ticket_triage.core.text import TOKEN_PATTERN, subject_of

try:  # the C hot loop (_featurize.c); the pure-Python path below gives identical features
    from ticket_triage.core._featurize import hash_ngrams as _compiled_hash_ngrams
    from ticket_triage.core._featurize import new_workspace as _new_workspace
    from ticket_triage.core._featurize import score_batch as compiled_score_batch
    from ticket_triage.core._featurize import score_text as compiled_score_text
except ImportError:  # pragma: no cover - installed where no C compiler was available
    _compiled_hash_ngrams = compiled_score_text = compiled_score_batch = _new_workspace = None

__all__ = [
    "COMPILED",
    "Block",
    "FeatureConfig",
    "Featurizer",
    "SparseRows",
    "bucket_of",
    "char_wb_ngrams",
    "compiled_score_batch",
    "compiled_score_text",
    "fragment",
    "hash_features",
    "ngrams",
]

#: Whether the compiled featuriser is installed (it makes long tickets ~2x faster to score).
COMPILED = _compiled_hash_ngrams is not None


@dataclass(frozen=True)
class Block:
    """One block of the hashed space: features ``start .. start + width`` of every row."""

    name: str  # "word", "char" or "subject"
    start: int
    width: int
    weight: float


@dataclass(frozen=True)
class FeatureConfig:
    """How text becomes a feature vector. Stored in the artifact; training and serving share it.

    The defaults are a model without char or subject blocks, which is what an artifact written
    before those blocks existed describes; training's defaults
    (:class:`~ticket_triage.training.config.TrainConfig`) turn them on.

    Parameters
    ----------
    n_features : int, default=2**20
        Width of the word block. 2**18 scored the same on the shared data; 2**20 leaves room for
        customers' larger corpora at 32 MB of serving memory for 8 classes.
    ngram_range : tuple of int, default=(1, 2)
        Smallest and largest word n-gram (also of the subject block).
    token_pattern : str, default=:data:`ticket_triage.core.text.TOKEN_PATTERN`
        Regex for tokens; unlike scikit-learn's default it keeps ``!!!`` and one-letter words.
    sublinear_tf : bool, default=True
        Use ``1 + log(count)`` instead of the raw count.
    use_idf : bool, default=True
        Multiply by inverse document frequency learned at training time.
    tokenizer : {"regex", "spacy"}, default="regex"
        ``"spacy"`` runs spaCy's rule-based tokenizer before the regex (the ``spacy`` extra).
    char_ngram_range : tuple of int or None, default=None
        Smallest and largest ``char_wb`` n-gram (code points inside a space-padded word); None:
        no char block.
    char_n_features : int, default=2**19
        Width of the char block.
    char_weight : float, default=1.0
        The char block's weight; the word block's is 1.
    char_max_words : int or None, default=None
        Char n-grams of the first this many words only (None: every word). The start of a ticket
        (its subject and first lines) says most of what it is about; a long tail of logs and
        quoted mail would cost char n-grams in proportion and add noise.
    subject_weight : float or None, default=None
        The subject block's weight; None: no subject block (texts need no subject mark).
    subject_n_features : int, default=2**18
        Width of the subject block.
    """

    n_features: int = 2**20
    ngram_range: tuple[int, int] = (1, 2)
    token_pattern: str = TOKEN_PATTERN
    sublinear_tf: bool = True
    use_idf: bool = True
    tokenizer: str = "regex"
    char_ngram_range: tuple[int, int] | None = None
    char_n_features: int = 2**19
    char_weight: float = 1.0
    char_max_words: int | None = None
    subject_weight: float | None = None
    subject_n_features: int = 2**18
    norm: str = field(default="l2", init=False)

    def __post_init__(self) -> None:
        low, high = self.ngram_range
        if not 1 <= low <= high <= 3:
            raise ValueError(
                f"ngram_range must satisfy 1 <= min <= max <= 3, got {self.ngram_range}"
            )
        for name in ("n_features", "char_n_features", "subject_n_features"):
            if not 2**10 <= getattr(self, name) <= 2**24:
                raise ValueError(f"{name} must be in [2**10, 2**24], got {getattr(self, name)}")
        if self.tokenizer not in ("regex", "spacy"):
            raise ValueError(f"tokenizer must be 'regex' or 'spacy', got {self.tokenizer!r}")
        if self.char_ngram_range is not None:
            low, high = self.char_ngram_range
            if not 1 <= low <= high <= 8:
                raise ValueError(
                    "char_ngram_range must satisfy 1 <= min <= max <= 8, "
                    f"got {self.char_ngram_range}"
                )
        if self.char_max_words is not None and self.char_max_words < 1:
            raise ValueError(f"char_max_words must be at least 1, got {self.char_max_words}")
        weights = (self.char_weight, 1.0 if self.subject_weight is None else self.subject_weight)
        if not all(0 < weight <= 10 for weight in weights):
            raise ValueError("char_weight and subject_weight must be in (0, 10]")

    @property
    def blocks(self) -> tuple[Block, ...]:
        """The blocks of the hashed space in index order: word, then char, then subject."""
        blocks = [Block("word", 0, self.n_features, 1.0)]
        if self.char_ngram_range is not None:
            blocks.append(Block("char", self.n_features, self.char_n_features, self.char_weight))
        if self.subject_weight is not None:
            start = blocks[-1].start + blocks[-1].width
            blocks.append(Block("subject", start, self.subject_n_features, self.subject_weight))
        return tuple(blocks)

    @property
    def width(self) -> int:
        """Width of the whole hashed space, every block included."""
        last = self.blocks[-1]
        return last.start + last.width

    @property
    def layout(self) -> tuple[int, ...]:
        """The block arguments of the compiled functions: char features, char min, char max,
        char words, subject features (0 for an absent block, or every word)."""
        low, high = self.char_ngram_range or (0, 0)
        char = self.char_n_features if self.char_ngram_range else 0
        subject = self.subject_n_features if self.subject_weight else 0
        return char, low, high, self.char_max_words or 0, subject

    def to_json(self) -> dict[str, Any]:
        """The config as plain JSON types, for ``model.json``."""
        data = asdict(self)
        data["ngram_range"] = list(self.ngram_range)
        if self.char_ngram_range is not None:
            data["char_ngram_range"] = list(self.char_ngram_range)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureConfig:
        """Rebuild a config written by :meth:`to_json`; refuses what this version cannot honour.

        A config without the block keys (an artifact from before they existed) is a word-only
        model and scores as it always did.
        """
        try:
            data = dict(data)
            if data.pop("norm", "l2") != "l2":
                raise ValueError("only norm 'l2' is supported")
            data["ngram_range"] = tuple(data["ngram_range"])
            if data.get("char_ngram_range") is not None:
                data["char_ngram_range"] = tuple(data["char_ngram_range"])
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
    return _counted(indices, lengths, n_features)


def _counted(indices: np.ndarray, lengths: np.ndarray, width: int) -> SparseRows:
    """Rows of ``lengths[i]`` consecutive ``indices`` each -> sorted unique indices and counts."""
    # One sort for the whole batch: key = row * width + index keeps rows apart and ordered.
    rows = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    keys, counts = np.unique(rows * width + indices, return_counts=True)
    row_of_key = keys // width
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of_key, minlength=len(lengths)), out=indptr[1:])
    return SparseRows(indptr, keys % width, counts.astype(np.float64))


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
        #: The compiled calls' reusable buffers and cache of words' char n-grams (None on the
        #: Python path): one per featuriser, so per model, as the cache is for its char block.
        self.workspace: object | None = _new_workspace() if self.compiled else None

    def grams(self, text: str) -> list[str]:
        """The word n-grams of one combined text (the first block)."""
        return ngrams(self._findall(text), self.config.ngram_range)

    def _block_grams(self, text: str) -> list[tuple[Block, list[str]]]:
        """Each block with the n-grams of ``text`` it hashes (the Python reference)."""
        out = []
        for block in self.config.blocks:
            if block.name == "word":
                grams = self.grams(text)
            elif block.name == "char":
                grams = char_wb_ngrams(
                    text, self.config.char_ngram_range or (1, 1), self.config.char_max_words
                )
            else:
                grams = ngrams(self._findall(subject_of(text)), self.config.ngram_range)
            out.append((block, grams))
        return out

    def _indices(self, text: str) -> np.ndarray:
        """Every block's feature index of each n-gram of ``text``, duplicates kept."""
        parts = [
            bucket_of(grams, block.width) + block.start for block, grams in self._block_grams(text)
        ]
        return np.concatenate(parts)

    def named(self, text: str) -> tuple[SparseRows, dict[int, list[str]]]:
        """One text's features, and per feature index the text's own n-grams that hash to it.

        What an explanation needs, from one pass over the n-grams: the same :class:`SparseRows`
        as calling the featuriser (tested), and names for its hashed indices: word n-grams as
        they are, char n-grams as readable :func:`fragment`\\ s, subject n-grams prefixed
        ``subject:``.
        """
        names: dict[int, list[str]] = {}
        parts = []
        for block, grams in self._block_grams(text):
            buckets = bucket_of(grams, block.width) + block.start
            parts.append(buckets)
            for gram, index in zip(grams, buckets.tolist(), strict=True):
                name = _name(block.name, gram)
                if name not in names.setdefault(index, []):
                    names[index].append(name)
        indices, counts = np.unique(np.concatenate(parts), return_counts=True)
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
            if len(self.config.blocks) == 1:  # word n-grams only: hashed in one batch
                grams = [ngrams(self._findall(text), (low, high)) for text in texts]
                return hash_features(grams, n_features)
            per_text = [self._indices(text) for text in texts]
            lengths = np.fromiter(map(len, per_text), dtype=np.int64, count=len(per_text))
            flat = np.concatenate(per_text) if per_text else np.zeros(0, dtype=np.int64)
            return _counted(flat, lengths, self.config.width)
        layout = self.config.layout
        work = self.workspace
        rows = [_compiled_hash_ngrams(text, n_features, low, high, *layout, work) for text in texts]
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


def _name(block: str, gram: str) -> str:
    """How an explanation shows an n-gram of ``block``."""
    if block == "char":
        return fragment(gram)
    if block == "subject":
        return f"subject:{gram}"
    return gram
