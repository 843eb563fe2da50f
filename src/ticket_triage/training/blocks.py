"""The scikit-learn side of the hashed feature blocks: the reference the inference core matches.

A :class:`~ticket_triage.core.features.FeatureConfig` lays out up to three blocks in one hashed
space (word n-grams, ``char_wb`` n-grams, the subject's word n-grams). Training builds them with
scikit-learn, one ``HashingVectorizer`` per block side by side (:class:`BlockHasher`, the bytes
``Featurizer`` gives, tested), and weighs each block with its own ``TfidfTransformer``, its own L2
norm and its weight (:class:`BlockWeighting`): what ``TriageModel`` computes with numpy and C.

Why a norm per block and not one for the whole row: a ticket has about ten times more char
n-grams than words, so under one norm the char block drowns the word block whatever its weight,
and a ticket's subject would weigh less the longer its body is. With a norm per block each
block's weight is its share of the row, and a model with only the word block is exactly the
model from before the blocks existed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

from ticket_triage.core.features import Block, FeatureConfig
from ticket_triage.core.ngrams import first_words
from ticket_triage.core.text import subject_of

__all__ = ["BlockHasher", "BlockWeighting"]


def _vectorizer(features: FeatureConfig, block: Block) -> HashingVectorizer:
    """The block's hasher: raw counts (``norm=None``), the weighting comes after; no
    lower-casing, :func:`~ticket_triage.core.text.clean_text` has done it."""
    common: dict[str, Any] = {
        "n_features": block.width,
        "lowercase": False,
        "alternate_sign": False,
        "norm": None,
    }
    if block.name == "char":
        if features.char_max_words is not None:
            common["preprocessor"] = partial(first_words, n=features.char_max_words)
        return HashingVectorizer(
            analyzer="char_wb", ngram_range=features.char_ngram_range, **common
        )
    if block.name == "subject":
        common["preprocessor"] = subject_of
    return HashingVectorizer(
        ngram_range=features.ngram_range, token_pattern=features.token_pattern, **common
    )


class BlockHasher(TransformerMixin, BaseEstimator):
    """Combined texts -> raw hashed counts of every block of ``features``, side by side.

    Stateless, like ``HashingVectorizer``: ``fit`` does nothing.

    Parameters
    ----------
    features : FeatureConfig
    """

    def __init__(self, features: FeatureConfig) -> None:
        self.features = features

    def fit(self, texts: Sequence[str] | None = None, y: Any = None) -> BlockHasher:
        """Nothing to learn (a hashed space has no vocabulary)."""
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Counts of shape (n_texts, ``features.width``), indices sorted within each row."""
        parts = [
            _vectorizer(self.features, block).transform(texts) for block in self.features.blocks
        ]
        matrix = parts[0] if len(parts) == 1 else sp.hstack(parts, format="csr")
        matrix.sort_indices()
        return matrix


class BlockWeighting(TransformerMixin, BaseEstimator):
    """Raw counts -> per block TF-IDF (or sublinear TF, or counts), L2-normalised within the
    block and multiplied by the block's weight.

    An n-gram no training ticket had gets idf 0 when ``use_idf``, like an out-of-vocabulary word
    in ``TfidfVectorizer``. Left at the maximum idf it would only inflate a ticket's norm and
    shrink its known n-grams toward the class priors: measured, -0.02 topic macro-F1 on
    support_tickets_sample.

    Parameters
    ----------
    features : FeatureConfig

    Attributes
    ----------
    transformers_ : list of TfidfTransformer
        One per block, in block order.
    """

    def __init__(self, features: FeatureConfig) -> None:
        self.features = features

    def _transformer(self) -> TfidfTransformer:
        return TfidfTransformer(
            sublinear_tf=self.features.sublinear_tf, use_idf=self.features.use_idf
        )

    def fit(self, counts: sp.csr_matrix, y: Any = None) -> BlockWeighting:
        """Learn each block's idf from the training rows' counts."""
        frequency = np.bincount(counts.indices, minlength=self.features.width)
        self.transformers_ = []
        for block in self.features.blocks:
            tfidf = self._transformer().fit(counts[:, block.start : block.start + block.width])
            if self.features.use_idf:
                seen = frequency[block.start : block.start + block.width] > 0
                tfidf.idf_ = np.where(seen, tfidf.idf_, 0.0)
            self.transformers_.append(tfidf)
        return self

    def fit_frequency(self, frequency: np.ndarray, n_documents: int) -> BlockWeighting:
        """:meth:`fit` from document frequencies alone (streaming training never holds the
        matrix): ``TfidfTransformer(smooth_idf=True)`` computes ``ln((1 + n) / (1 + df)) + 1``."""
        self.transformers_ = []
        for block in self.features.blocks:
            tfidf = self._transformer()
            tfidf.n_features_in_ = block.width
            if self.features.use_idf:
                df = frequency[block.start : block.start + block.width]
                idf = np.log((1.0 + n_documents) / (1.0 + df)) + 1.0
                tfidf.idf_ = np.where(df > 0, idf, 0.0)
            self.transformers_.append(tfidf)
        return self

    def transform(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """The weighted matrix every head reads."""
        parts = [
            tfidf.transform(counts[:, block.start : block.start + block.width]) * block.weight
            for block, tfidf in zip(self.features.blocks, self.transformers_, strict=True)
        ]
        return parts[0] if len(parts) == 1 else sp.hstack(parts, format="csr")

    @property
    def idf_(self) -> np.ndarray:
        """Every block's idf side by side, one per feature of the whole space."""
        return np.concatenate([tfidf.idf_ for tfidf in self.transformers_])
