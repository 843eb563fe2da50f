"""The char and subject blocks of the hashed space (issue 13): scikit-learn's spelling of every
n-gram, and artifacts from before the blocks existed scoring exactly as they did."""

from __future__ import annotations

import json
import shutil
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from ticket_triage.core.artifact import seal
from ticket_triage.core.features import FeatureConfig, Featurizer, char_wb_ngrams, fragment
from ticket_triage.core.model import TriageModel
from ticket_triage.core.ngrams import first_words
from ticket_triage.core.text import SUBJECT_MARK, TOKEN_PATTERN, combine_fields, subject_of

LEGACY = Path(__file__).parent / "data" / "legacy"
TICKETS = [
    ("Payment failed!!!", "Card declined, error 402 plan:pro"),
    ("", "zahlung fehlgeschlagen?! fehler 0x80070005 bei der überweisung"),
    ("Server on fire 🔥🔥", ""),
    ("a", "重复扣款 请退款 \u00a0 x\u2003y"),
    ("", ""),
]
BLOCKS = FeatureConfig(
    n_features=2**12,
    char_ngram_range=(2, 5),
    char_n_features=3001,
    char_max_words=4,
    subject_weight=0.5,
)


def _texts() -> list[str]:
    return [combine_fields(s, b, {"plan": "pro"}, mark_subject=True) for s, b in TICKETS]


@pytest.mark.parametrize("ngram_range", [(1, 1), (2, 5), (3, 5), (1, 8)])
def test_char_wb_ngrams_are_scikit_learns(ngram_range):
    analyzer = HashingVectorizer(
        analyzer="char_wb", ngram_range=ngram_range, lowercase=False
    ).build_analyzer()
    first_two = HashingVectorizer(
        analyzer="char_wb", ngram_range=ngram_range, preprocessor=partial(first_words, n=2)
    ).build_analyzer()
    for text in [*_texts(), "ab", "  a  b ", "\u2003tab\tand\nnewline\x1fmark"]:
        assert char_wb_ngrams(text, ngram_range) == analyzer(text)
        assert char_wb_ngrams(text, ngram_range, max_words=2) == first_two(text)


def test_every_block_hashes_as_scikit_learns_hashing_vectorizer():
    # GIVEN the three blocks as independent scikit-learn vectorizers, side by side
    texts = _texts()
    common = {"lowercase": False, "alternate_sign": False, "norm": None}
    word = {"ngram_range": (1, 2), "token_pattern": TOKEN_PATTERN, **common}
    reference = sp.hstack(
        [
            HashingVectorizer(n_features=2**12, **word).transform(texts),
            HashingVectorizer(
                n_features=3001,
                analyzer="char_wb",
                ngram_range=(2, 5),
                preprocessor=partial(first_words, n=4),
                **common,
            ).transform(texts),
            HashingVectorizer(n_features=2**18, preprocessor=subject_of, **word).transform(texts),
        ],
        format="csr",
    )
    reference.sort_indices()
    # WHEN both featuriser paths hash the same texts, THEN indices and counts are identical
    for compiled in (True, False):
        rows = Featurizer(BLOCKS, compiled=compiled)(texts)
        assert rows.indptr.tolist() == reference.indptr.tolist()
        assert rows.indices.tolist() == reference.indices.tolist()
        assert np.array_equal(rows.counts, reference.data)


def test_the_subject_mark_changes_no_word_or_char_ngram():
    config = FeatureConfig(char_ngram_range=(2, 5))
    for subject, body in TICKETS:
        plain, marked = (
            combine_fields(subject, body),
            combine_fields(subject, body, mark_subject=True),
        )
        assert SUBJECT_MARK in marked or not subject or not body
        one, other = Featurizer(config)([plain]), Featurizer(config)([marked])
        assert one.indices.tolist() == other.indices.tolist()
        assert one.counts.tolist() == other.counts.tolist()


def test_named_features_read_as_words_fragments_and_subject_ngrams():
    # GIVEN a ticket "Payment" / "failed" featurised with names, for an explanation
    text = combine_fields("Payment", "failed", mark_subject=True)
    rows, names = Featurizer(BLOCKS).named(text)
    # THEN the features are the featuriser's, and every name is readable: words as they are,
    # subject n-grams prefixed, char n-grams with "…" where the word goes on
    assert rows.indices.tolist() == Featurizer(BLOCKS)([text]).indices.tolist()
    every = {name for grams in names.values() for name in grams}
    assert {"payment", "failed", "payment failed", "subject:payment"} <= every
    assert {"pa…", "…ail…", "…ed", "fa…", "…led"} <= every
    assert not any(name != name.strip() for name in every)
    assert [fragment(g) for g in (" ab ", " a", "b ", "xy")] == ["‹ab›", "a…", "…b", "…xy…"]


def test_a_config_without_blocks_is_the_word_only_model():
    config = FeatureConfig()
    assert [b.name for b in config.blocks] == ["word"]
    assert config.width == config.n_features
    assert config.layout == (0, 0, 0, 0, 0)
    assert FeatureConfig.from_json(BLOCKS.to_json()) == BLOCKS
    with pytest.raises(ValueError, match="char_ngram_range"):
        FeatureConfig(char_ngram_range=(3, 2))
    with pytest.raises(ValueError, match="char_weight"):
        FeatureConfig(char_ngram_range=(2, 5), char_weight=0)


@pytest.mark.parametrize("compiled", [True, False])
def test_an_artifact_from_before_the_blocks_scores_exactly_as_it_did(compiled):
    # GIVEN an artifact written by the code before issue 13 (tests/core/data/legacy: its
    # model.json has no block keys) and the probabilities that code gave for 40 tickets
    model = TriageModel.load(LEGACY / "model")
    model.featurize = Featurizer(model.features, compiled=compiled)
    expected = json.loads((LEGACY / "expected.json").read_text())
    assert "char_ngram_range" not in json.loads((LEGACY / "model" / "model.json").read_text())
    # WHEN this code scores them one by one and as a batch
    tickets = [row["ticket"] for row in expected]
    for results in ([model.triage(t) for t in tickets], model.triage_many(tickets)):
        # THEN every probability is the one it was
        for row, result in zip(expected, results, strict=True):
            for head in model.head_names:
                for label, value in row[head].items():
                    assert result[head].probabilities[label] == pytest.approx(value, abs=1e-12)
    assert SUBJECT_MARK not in model.text_of(tickets[0])


def test_the_legacy_artifact_still_verifies(tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(LEGACY / "model", copy)
    seal(copy)  # sealing again changes nothing: the files are what the manifest says
    assert (copy / "manifest.json").read_text() == (LEGACY / "model" / "manifest.json").read_text()
