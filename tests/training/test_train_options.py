"""Training options beyond the defaults: spaCy tokenizer, oversampling, augmentation."""

from __future__ import annotations

import csv
import sys

import numpy as np
import pytest

from ticket_triage.core.errors import ArtifactMismatch
from ticket_triage.core.model import TriageModel
from ticket_triage.sample import SAMPLE_TICKETS
from ticket_triage.training.config import TrainConfig
from ticket_triage.training.fitting import combined_texts, feature_config
from ticket_triage.training.in_memory import fit
from ticket_triage.training.train import build_artifact, train


@pytest.fixture(scope="module")
def sample():
    """The first 600 packaged sample tickets: real-looking text, both heads, rare classes."""
    path = SAMPLE_TICKETS
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:600]
    tickets = [
        {"subject": r["subject"], "body": r["body"], "metadata": {"plan": r["plan"]}} for r in rows
    ]
    labels = {
        head: np.array([r[head] for r in rows], dtype=object) for head in ("urgency", "topic")
    }
    return tickets, labels


def _train(sample, tmp_path, **options):
    tickets, labels = sample
    config = TrainConfig(cv_folds=3, **options)
    texts = combined_texts(tickets, feature_config(config))
    fitted = fit(texts, labels, config)
    model = build_artifact(fitted, config, {"n_train": len(texts)}, tmp_path / "model")
    return fitted, model, texts


def test_spacy_tokenizer_trains_serves_and_matches_scikit_learn(sample, tmp_path):
    # GIVEN a model trained with the spaCy tokenizer-only cleanup
    fitted, model, texts = _train(sample, tmp_path, tokenizer="spacy")
    assert model.features.tokenizer == "spacy"
    # WHEN it scores raw tickets
    results = model.triage_many(sample[0][:20])
    # THEN the probabilities are the scikit-learn pipeline's on the same cleaned text
    expected = fitted.pipeline("topic").predict_proba(texts[:20])
    got = np.array([[r["topic"].probabilities[c] for c in model.heads[1].classes] for r in results])
    np.testing.assert_allclose(got, expected, atol=1e-6)
    # AND "!!!" survives spaCy's tokenizer, which splits it
    assert "!!!" in model.text_of({"subject": "Down!!!", "body": "now"})


def test_triage_train_fits_every_block_of_the_defaults(tmp_path):
    # GIVEN `triage train` on the sample tickets with the default options
    result = train(SAMPLE_TICKETS, tmp_path / "model", TrainConfig(cv_folds=3))
    model = TriageModel.load(result.out)
    with np.load(result.out / "weights.npz") as arrays:
        rows = arrays["rows"]
    # THEN each block (word, char_wb, subject n-grams) has features seen in training: the texts
    # it trained on carried the subject mark, as the ones it serves do
    assert [b.name for b in model.features.blocks] == ["word", "char", "subject"]
    for block in model.features.blocks:
        assert ((rows >= block.start) & (rows < block.start + block.width)).sum() > 100
    explanation = model.explain({"subject": "Refund please", "body": "I was charged twice"})
    assert explanation["topic"].contributions


def test_spacy_model_without_the_extra_says_what_to_install(sample, tmp_path, monkeypatch):
    _train(sample, tmp_path, tokenizer="spacy")
    # GIVEN an installation without the spacy extra (the import fails)
    monkeypatch.setitem(sys.modules, "ticket_triage.core.spacy_cleanup", None)
    # WHEN the model is loaded THEN the error names the extra
    with pytest.raises(ArtifactMismatch, match=r"ticket-triage\[spacy\]"):
        TriageModel.load(tmp_path / "model")


@pytest.mark.parametrize("option", ["resample", "augment"])
def test_minority_options_change_the_model_and_keep_tuning_on_real_rows(sample, tmp_path, option):
    default, _, _ = _train(sample, tmp_path / "default")
    # GIVEN the same data trained with oversampling or augmentation
    fitted, model, texts = _train(sample, tmp_path / option, **{option: True})
    for plain, changed in zip(default.heads, fitted.heads, strict=True):
        # THEN the weights differ from the default model's
        plain_coef = plain.estimator.calibrated_classifiers_[0].estimator.coef_
        changed_coef = changed.estimator.calibrated_classifiers_[0].estimator.coef_
        assert not np.allclose(plain_coef, changed_coef)
        # AND thresholds are tuned on the original tickets only, one probability row each
        assert changed.oof_proba.shape == (len(texts), len(changed.classes))
    # AND the artifact serves
    result = model.triage(sample[0][0])
    assert set(result.heads) == {"urgency", "topic"}


def test_augmented_copies_stay_in_their_original_fold(sample):
    # GIVEN augmentation, whose copies must not leak an original into its own validation fold
    from ticket_triage.training.in_memory import _folds

    y = np.array(["a"] * 40 + ["b"] * 10, dtype=object)
    groups = np.r_[np.arange(50), np.arange(40, 50)]  # ten copies of the "b" tickets
    y = np.r_[y, y[40:]]
    # WHEN the folds are made
    folds = _folds(y, groups, TrainConfig(cv_folds=5, augment=True))
    # THEN each original and its copy are always on the same side
    for train_idx, test_idx in folds:
        assert not set(groups[train_idx]) & set(groups[test_idx])
