"""Threshold choice from precision and coverage targets."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import precision_recall_curve

from ticket_triage.core.thresholds import auto_thresholds, precision_curve, target_threshold


def test_precision_curve_agrees_with_scikit_learn():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 20, 300) / 20  # many ties
    positives = rng.random(300) < scores
    thresholds, precision, recall, _ = precision_curve(scores, positives)
    ref_p, ref_r, ref_t = precision_recall_curve(positives, scores)
    # scikit-learn lists thresholds ascending and stops once recall reaches 1
    for t, p, r in zip(thresholds, precision, recall, strict=True):
        k = np.flatnonzero(ref_t == t)
        if len(k):
            assert p == pytest.approx(ref_p[k[0]])
            assert r == pytest.approx(ref_r[k[0]])


def test_target_picks_highest_recall_that_meets_precision():
    # GIVEN 10 positives on top, then alternating positives and negatives
    scores = np.linspace(1, 0, 40)
    positives = np.r_[np.ones(10, bool), np.arange(30) % 2 == 0]
    # WHEN the target is precision >= 0.8
    result = target_threshold(scores, positives, 0.8, min_support=1)
    # THEN the chosen point meets it, and going one ticket lower would not
    assert result.reachable
    assert result.precision >= 0.8
    predicted = scores >= result.threshold
    assert positives[predicted].mean() == pytest.approx(result.precision)
    assert result.recall == pytest.approx(positives[predicted].sum() / positives.sum())
    lower = scores >= scores[predicted.sum()]
    assert positives[lower].mean() < 0.8 or positives[lower].sum() == positives[predicted].sum()


def test_unreachable_target_says_so_and_falls_back_to_best_precision():
    # GIVEN scores that carry no signal at all
    rng = np.random.default_rng(1)
    scores = rng.random(200)
    positives = rng.random(200) < 0.2
    # WHEN a 0.95 precision target is asked for with real support
    result = target_threshold(scores, positives, 0.95, min_support=20)
    # THEN it is reported unreachable and the fallback is the best precision found
    assert not result.reachable
    assert result.precision == result.best_precision < 0.95
    assert (scores >= result.threshold).sum() >= 20


def test_one_lucky_ticket_does_not_make_a_target_reachable():
    scores = np.r_[1.0, np.linspace(0.9, 0, 99)]
    positives = np.r_[True, np.zeros(99, bool)]
    assert target_threshold(scores, positives, 0.85, min_support=1).reachable
    assert not target_threshold(scores, positives, 0.85, min_support=10).reachable


@pytest.mark.parametrize(
    ("kwargs", "message"), [({}, "exactly one"), ({"coverage": 1.5}, "coverage")]
)
def test_auto_thresholds_validates_its_rule(kwargs, message):
    proba = np.array([[0.6, 0.4]])
    with pytest.raises(ValueError, match=message):
        auto_thresholds(proba, np.array([0]), np.array([0]), **kwargs)


def test_auto_thresholds_coverage_decides_that_share():
    rng = np.random.default_rng(2)
    proba = rng.dirichlet([1, 1, 1], size=1000)
    predicted = proba.argmax(axis=1)
    cuts = auto_thresholds(proba, predicted, predicted, coverage=0.7)
    decided = proba.max(axis=1) >= cuts[0]
    assert decided.mean() == pytest.approx(0.7, abs=0.01)


def test_auto_thresholds_precision_per_class_and_none_when_unreachable():
    # GIVEN class 0 predictions that are right when confident, class 1 predictions never right
    confidence = np.linspace(0.99, 0.5, 100)
    proba = np.c_[confidence, 1 - confidence]
    predicted = np.r_[np.zeros(50, int), np.ones(50, int)]
    proba[50:] = proba[50:, ::-1]
    y_true = np.r_[np.r_[np.zeros(30, int), np.ones(20, int)], np.zeros(50, int)]
    # WHEN thresholds are tuned for precision 0.9
    cuts = auto_thresholds(proba, predicted, y_true, min_precision=0.9, min_support=5)
    # THEN class 0 gets a cut that keeps its 30 right answers, class 1 is never auto-decided
    assert cuts[0] == pytest.approx(confidence[29])
    assert cuts[1] is None


def test_confidence_demands_more_evidence_than_the_point_estimate():
    # GIVEN a precision that crosses 0.85 only on a handful of top tickets, then settles at 0.8
    rng = np.random.default_rng(4)
    scores = np.linspace(1, 0, 400)
    positives = np.r_[np.ones(12, bool), rng.random(388) < 0.8 - np.linspace(0, 0.6, 388)]
    point = target_threshold(scores, positives, 0.85, min_support=10)
    cautious = target_threshold(scores, positives, 0.85, min_support=10, confidence=0.9)
    # THEN the cautious threshold is at least as high, and its lower bound meets the target
    assert cautious.threshold >= point.threshold
    if cautious.reachable:
        assert cautious.precision_lower >= 0.85
        assert cautious.precision >= cautious.precision_lower
    # AND the point-estimate result reports its own precision as its bound
    assert point.precision_lower == point.precision
    assert point.confidence == 0.5


def test_wilson_bound_is_below_the_estimate_and_tightens_with_data():
    from ticket_triage.core.thresholds import wilson_lower_bound

    bounds = wilson_lower_bound(np.array([0.9, 0.9, 0.9]), np.array([10, 100, 10_000]), 0.9)
    assert np.all(bounds < 0.9)
    assert bounds[0] < bounds[1] < bounds[2]
    assert bounds[2] == pytest.approx(0.9, abs=0.005)
