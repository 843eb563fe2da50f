"""ticket_triage.training.report: the numpy PR curve and the self-contained HTML report."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import precision_recall_curve

from ticket_triage.training.head_eval import HeadEval
from ticket_triage.training.report import write_report
from ticket_triage.training.report_figures import pr_curve

IMG_PREFIX = '<img src="data:image/png;base64,'


def _head(
    name: str = "urgency",
    classes: list[str] | None = None,
    n: int = 200,
    seed: int = 0,
    target_class: str | None = "high",
    target_threshold: float | None = 0.62,
    absent: int | None = None,
) -> HeadEval:
    """Random but realistic held-out predictions: probabilities lean towards the true class."""
    classes = ["high", "low", "normal"] if classes is None else classes
    rng = np.random.default_rng(seed)
    k = len(classes)
    y_true = rng.integers(0, k, size=n)
    if absent is not None:
        y_true[y_true == absent] = (absent + 1) % k
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y_true] += 1.5
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return HeadEval(
        name=name,
        classes=classes,
        y_true=y_true,
        y_pred=proba.argmax(axis=1),
        proba=proba,
        target_class=target_class,
        target_threshold=target_threshold,
    )


def _head_metrics(head: HeadEval, target: dict[str, Any] | None) -> dict[str, Any]:
    """A metrics.json head entry with the contract's shape (values need not match the arrays)."""
    return {
        "classes": head.classes,
        "n": len(head.y_true),
        "accuracy": 0.731,
        "macro_f1": 0.702,
        "per_class": {
            c: {"precision": 0.8, "recall": 0.7, "f1": 0.75, "support": 10} for c in head.classes
        },
        "target": target,
        "coverage": 0.95,
        "ece": 0.031,
        "extra_key": "ignored",
    }


def _metrics(heads: list[HeadEval], targets: list[dict[str, Any] | None]) -> dict[str, Any]:
    """A metrics.json dict for the given heads."""
    return {
        "model": {"version": "2025.06.1", "size_bytes": 4_200_000, "n_features": 1_048_576},
        "data": {"path": "data/holdout.parquet", "sha256": "ab" * 32, "n_rows": 771},
        "heads": {h.name: _head_metrics(h, t) for h, t in zip(heads, targets, strict=True)},
    }


REACHED = {
    "class": "high",
    "min_precision": 0.85,
    "threshold": 0.62,
    "precision": 0.87,
    "recall": 0.41,
    "reachable": True,
    "best_precision": 0.93,
}


def _png_payloads(text: str) -> list[bytes]:
    """Decode every embedded image of a report."""
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', text)]


@pytest.mark.parametrize("seed", range(8))
def test_pr_curve_matches_sklearn_with_ties(seed: int) -> None:
    # GIVEN scores with many ties (rounded to one decimal) and random labels
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 300))
    scores = np.round(rng.random(n), 1)
    positives = rng.random(n) < rng.uniform(0.05, 0.9)
    positives[0] = True  # at least one positive, so sklearn does not warn

    # WHEN both implementations compute the curve
    precision, recall, thresholds = pr_curve(scores, positives)
    sk_precision, sk_recall, sk_thresholds = precision_recall_curve(positives, scores)

    # THEN they agree element for element
    np.testing.assert_allclose(precision, sk_precision)
    np.testing.assert_allclose(recall, sk_recall)
    np.testing.assert_allclose(thresholds, sk_thresholds)


def test_pr_curve_matches_sklearn_for_all_equal_scores() -> None:
    # GIVEN one single tied score for every sample
    scores = np.full(7, 0.4)
    positives = np.array([1, 0, 1, 0, 0, 1, 0], dtype=bool)

    # WHEN both implementations compute the curve
    ours = pr_curve(scores, positives)
    theirs = precision_recall_curve(positives, scores)

    # THEN they agree: one threshold, two points
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b)
    assert ours[2].tolist() == [0.4]


def test_pr_curve_without_positives_matches_sklearn_but_does_not_warn() -> None:
    # GIVEN labels with no positive at all
    scores = np.array([0.1, 0.5, 0.5, 0.9])
    positives = np.zeros(4, dtype=bool)

    # WHEN both implementations compute the curve (sklearn warns, ours must not under -W error)
    ours = pr_curve(scores, positives)
    with pytest.warns(UserWarning, match="No positive class"):
        theirs = precision_recall_curve(positives, scores)

    # THEN the values agree (recall is 1 by convention)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b)


def test_pr_curve_rejects_mismatched_lengths() -> None:
    # GIVEN scores and labels of different length
    # WHEN / THEN the curve refuses rather than broadcasting
    with pytest.raises(ValueError, match="differ in length"):
        pr_curve(np.zeros(3), np.zeros(4, dtype=bool))


def test_write_report_renders_two_heads(tmp_path: Path) -> None:
    # GIVEN two heads, one with a reached precision target and one without a target
    urgency = _head("urgency")
    topic = _head(
        "topic", classes=["billing", "bug", "account", "other"], seed=1, target_class=None
    )
    metrics = _metrics([urgency, topic], [REACHED, None])
    out = tmp_path / "nested" / "report.html"

    # WHEN the report is written
    write_report(out, metrics, [urgency, topic])

    # THEN it exists, names both heads and the model, and holds three PNG figures per head
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "urgency" in text
    assert "topic" in text
    assert "2025.06.1" in text
    assert "data/holdout.parquet" in text
    assert text.count(IMG_PREFIX) == 6
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in _png_payloads(text))
    # AND the target sentence is there, in plain words
    sentence = "high: precision 0.87 >= 0.85 at threshold 0.62, recall 0.41"
    assert html.escape(sentence) in text
    assert "No precision target for this head." in text
    assert "NOT reachable" not in text
    assert text.count("the dot marks the tuned threshold") == 1
    # AND the whole page stays small and has no scripts
    assert out.stat().st_size < 1_000_000
    assert "<script" not in text.lower()


def test_write_report_warns_when_target_not_reachable(tmp_path: Path) -> None:
    # GIVEN a head whose precision target could not be reached
    head = _head(target_threshold=None)
    target = {
        "class": "high",
        "min_precision": 0.85,
        "threshold": None,
        "precision": None,
        "recall": None,
        "reachable": False,
        "best_precision": 0.71,
    }
    out = tmp_path / "report.html"

    # WHEN the report is written
    write_report(out, _metrics([head], [target]), [head])

    # THEN the warning is spelled out and styled as a warning
    text = out.read_text(encoding="utf-8")
    warning = "target precision 0.85 NOT reachable on the tuning folds; best precision 0.71"
    assert re.search(r'<p class="verdict warn">[^<]*' + re.escape(warning), text)
    assert text.count(IMG_PREFIX) == 3


def test_write_report_flags_reachable_target_missed_on_measurement(tmp_path: Path) -> None:
    # GIVEN a target marked reachable whose measured precision is below the minimum
    head = _head()
    target = {**REACHED, "precision": 0.80}

    # WHEN the report is written
    write_report(tmp_path / "r.html", _metrics([head], [target]), [head])

    # THEN the sentence says "<", not ">=", and is styled as a warning
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.escape("high: precision 0.80 < 0.85 at threshold 0.62") in text
    assert '<p class="verdict warn">' in text


def test_write_report_escapes_class_names(tmp_path: Path) -> None:
    # GIVEN a class name that is an HTML script tag, also used as the target class
    evil = "<script>alert(1)</script>"
    head = _head(classes=[evil, "low", "normal"], target_class=evil)
    target = {**REACHED, "class": evil}

    # WHEN the report is written
    write_report(tmp_path / "report.html", _metrics([head], [target]), [head], title="<b>t</b>")

    # THEN the name appears only escaped, never as markup
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert "<b>t</b>" not in text
    assert html.escape(evil) in text
    assert text.count(IMG_PREFIX) == 3


def test_write_report_with_null_target_and_two_classes(tmp_path: Path) -> None:
    # GIVEN a binary head with no target at all (target null in metrics, None in HeadEval)
    head = _head("spam", classes=["no", "yes"], target_class=None, target_threshold=None)

    # WHEN the report is written
    write_report(tmp_path / "report.html", _metrics([head], [None]), [head])

    # THEN it renders the three figures and says there is no target
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert text.count(IMG_PREFIX) == 3
    assert "No precision target for this head." in text


def test_write_report_with_class_absent_from_y_true(tmp_path: Path) -> None:
    # GIVEN a head where one class never occurs in y_true (and is the target class)
    head = _head(absent=0)
    assert not (head.y_true == 0).any()

    # WHEN the report is written (pytest turns any RuntimeWarning into an error)
    write_report(tmp_path / "report.html", _metrics([head], [REACHED]), [head])

    # THEN all figures are still drawn, without a threshold dot (there is no curve to put it on)
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert text.count(IMG_PREFIX) == 3
    assert "the dot marks" not in text


def test_write_report_with_empty_head_and_abstentions(tmp_path: Path) -> None:
    # GIVEN an empty head and a head whose decisions include an abstention (-1)
    empty = HeadEval(
        name="empty",
        classes=["a", "b"],
        y_true=np.array([], dtype=int),
        y_pred=np.array([], dtype=int),
        proba=np.zeros((0, 2)),
        target_class="a",
        target_threshold=0.5,
    )
    base = _head()
    abstaining = HeadEval(
        name="abstaining",
        classes=base.classes,
        y_true=base.y_true,
        y_pred=np.where(base.proba.max(axis=1) < 0.5, -1, base.y_pred),
        proba=base.proba,
        target_class="high",
        target_threshold=0.99,
    )

    # WHEN the report is written
    write_report(
        tmp_path / "report.html",
        _metrics([empty, abstaining], [None, REACHED]),
        [empty, abstaining],
    )

    # THEN both heads get their figures without warnings
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert text.count(IMG_PREFIX) == 6


def test_write_report_tolerates_missing_data_and_unicode_names(tmp_path: Path) -> None:
    # GIVEN metrics without a data section and class names DejaVu Sans has no glyph for
    head = _head(classes=["dringend 🔥", "$low", "normal"], target_class="dringend 🔥")
    metrics = _metrics([head], [{**REACHED, "class": "dringend 🔥"}])
    del metrics["data"]

    # WHEN the report is written (a missing-glyph warning would be an error here)
    write_report(tmp_path / "report.html", metrics, [head])

    # THEN the page says the data is unknown and still has its figures
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Data: not recorded." in text
    assert "dringend 🔥" in text
    assert text.count(IMG_PREFIX) == 3


def test_head_eval_rejects_inconsistent_shapes() -> None:
    # GIVEN probabilities with the wrong number of columns
    # WHEN / THEN constructing the head fails early
    with pytest.raises(ValueError, match="proba must have shape"):
        HeadEval(
            name="urgency",
            classes=["a", "b", "c"],
            y_true=np.array([0, 1]),
            y_pred=np.array([0, 1]),
            proba=np.full((2, 2), 0.5),
            target_class=None,
            target_threshold=None,
        )
