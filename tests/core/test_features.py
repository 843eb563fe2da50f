"""The numpy featuriser against scikit-learn's HashingVectorizer on fixed strings (golden)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer

from ticket_triage.core.features import FeatureConfig, hash_features, ngrams
from ticket_triage.core.ngrams import _bucket
from ticket_triage.core.text import TOKEN_PATTERN, clean_text, tokenize

DOCS = [
    "payment failed!!! error code 402 please help plan:pro product:billing",
    "zahlung fehlgeschlagen?! fehler 0x80070005 bei der überweisung",
    "server on fire 🔥🔥 since 10:30 e1234",
    "a",
    "重复扣款 请退款",
    "",
]


@pytest.mark.parametrize("n_features", [2**10, 1000, 2**20])
@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (1, 3), (2, 2)])
def test_counts_match_hashing_vectorizer(n_features, ngram_range):
    # GIVEN scikit-learn's vectorizer with our token pattern, no sign flipping, raw counts
    reference = HashingVectorizer(
        n_features=n_features,
        ngram_range=ngram_range,
        token_pattern=TOKEN_PATTERN,
        lowercase=False,
        alternate_sign=False,
        norm=None,
    ).transform(DOCS)
    # WHEN our featuriser hashes the same documents
    rows = hash_features([ngrams(tokenize(d), ngram_range) for d in DOCS], n_features)
    # THEN indices, counts and row boundaries are identical
    assert rows.indptr.tolist() == reference.indptr.tolist()
    assert rows.indices.tolist() == reference.indices.tolist()
    assert np.array_equal(rows.counts, reference.data)


def test_single_document_paths_match_batch_path():
    # DOCS are short (the plain-Python path); the long one takes the single-document numpy path
    long_doc = " ".join(f"word{i % 37} e{i % 11}!!!" for i in range(120))
    grams = [ngrams(tokenize(clean_text(d)), (1, 2)) for d in [*DOCS, long_doc]]
    assert min(map(len, grams)) < 32 < max(map(len, grams))
    batch = hash_features(grams, 2**20)
    for i, g in enumerate(grams):
        one = hash_features([g], 2**20)
        start, stop = batch.indptr[i], batch.indptr[i + 1]
        assert one.indices.tolist() == batch.indices[start:stop].tolist()
        assert one.counts.tolist() == batch.counts[start:stop].tolist()


@pytest.mark.parametrize("n_features", [2**20, 1000, 12345])
def test_most_negative_hash_goes_where_scikit_learn_puts_it(n_features):
    # -2**31 has no positive abs() in int32; scikit-learn special-cases it (see _hashing_fast.pyx)
    hashes = np.array([-(2**31), -5, 7], dtype=np.int64)
    expected = [(2**31 - 1 - (n_features - 1)) % n_features, 5 % n_features, 7 % n_features]
    assert _bucket(hashes, n_features).tolist() == expected


def test_feature_config_round_trips_and_rejects_nonsense():
    config = FeatureConfig(n_features=2**18, ngram_range=(1, 3))
    assert FeatureConfig.from_json(config.to_json()) == config
    with pytest.raises(ValueError, match="ngram_range"):
        FeatureConfig(ngram_range=(2, 1))
    with pytest.raises(ValueError, match="tokenizer"):
        FeatureConfig(tokenizer="bert")
