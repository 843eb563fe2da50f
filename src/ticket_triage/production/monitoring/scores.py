"""Is it still right? Per-class precision, recall and F1 on the agents' labels, per window and
ISO week, the confusion of label against prediction, and calibration of the stored
probabilities."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from ticket_triage.production.monitoring.window import (
    Row,
    bucket_of,
    rounded,
    share,
    window_buckets,
)

__all__ = ["N_BINS", "calibration", "class_scores", "feedback_report"]

#: Equal-width confidence bins of the reliability diagram and the ECE (as in evaluate).
N_BINS = 10


def class_scores(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict:
    """Precision, recall, F1, support and number predicted per label; accuracy, macro-F1.

    ``evaluate.per_class_scores`` computes the same but gives 0 where a score is undefined; a
    dashboard must tell "never predicted" (None) from "always wrong" (0). (``evaluate`` also
    imports pandas, which the serving packages lack.)
    """
    pairs = Counter(zip(truth, predicted, strict=True))
    per_class = {}
    for label in labels:
        hits = pairs[(label, label)]
        n_predicted = sum(n for (_, p), n in pairs.items() if p == label)
        support = sum(n for (t, _), n in pairs.items() if t == label)
        precision = hits / n_predicted if n_predicted else None
        recall = hits / support if support else None
        f1 = None
        if precision is not None and recall is not None:
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": rounded(precision),
            "recall": rounded(recall),
            "f1": rounded(f1),
            "support": support,
            "n_predicted": n_predicted,
        }
    # Macro-F1 over the labels that occur (as truth or prediction), as in evaluate.
    present = [
        scores["f1"] or 0.0
        for scores in per_class.values()
        if scores["support"] or scores["n_predicted"]
    ]
    n = len(truth)
    return {
        "n": n,
        "accuracy": share(sum(pairs[(label, label)] for label in labels), n),
        "macro_f1": rounded(sum(present) / len(present)) if present else None,
        "per_class": per_class,
    }


def calibration(proba: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    """ECE of the top-class probability and the reliability bins it is computed from.

    Same bins and formula as ``evaluate.expected_calibration_error`` (tested), kept per bin so
    the dashboard can draw the diagram from the JSON alone.
    """
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == truth
    which = np.minimum((confidence * N_BINS).astype(int), N_BINS - 1)
    bins, error = [], 0.0
    for b in range(N_BINS):
        members = which == b
        count = int(members.sum())
        mean_confidence = float(confidence[members].mean()) if count else None
        accuracy = float(correct[members].mean()) if count else None
        if count:
            error += members.mean() * abs(accuracy - mean_confidence)
        bins.append(
            {
                "low": b / N_BINS,
                "high": (b + 1) / N_BINS,
                "count": count,
                "mean_confidence": rounded(mean_confidence),
                "accuracy": rounded(accuracy),
            }
        )
    return {"n": len(truth), "ece": round(float(error), 6), "bins": bins}


def feedback_report(
    name: str,
    classes: Sequence[str],
    labels: Sequence[str],
    labelled: Sequence[Row],
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    """Scores on the agents' labels: the window, each ISO week, confusion, calibration."""
    truth = [str(row[f"final_{name}"]) for row in labelled]
    predicted = [str(row[name]) for row in labelled]
    result = class_scores(truth, predicted, labels)
    by_week: dict[str, list[int]] = {}
    for i, row in enumerate(labelled):
        by_week.setdefault(bucket_of(row["created_at"], "week"), []).append(i)
    result["weekly"] = []
    for week, first_day in window_buckets(start, end, "week"):
        members = by_week.get(week, [])
        scores = class_scores([truth[i] for i in members], [predicted[i] for i in members], labels)
        result["weekly"].append({"week": week, "start": first_day, **scores})
    pairs = Counter(zip(truth, predicted, strict=True))
    result["confusion"] = {
        "labels": list(labels),
        "counts": [[pairs[(t, p)] for p in labels] for t in labels],
    }
    index = {c: k for k, c in enumerate(classes)}
    usable = [
        (row["probabilities"][name], index[t])
        for row, t in zip(labelled, truth, strict=True)
        if t in index and set((row.get("probabilities") or {}).get(name, {})) == set(classes)
    ]
    result["calibration"] = None
    if usable:
        proba = np.array([[p[c] for c in classes] for p, _ in usable], dtype=float)
        result["calibration"] = calibration(proba, np.array([k for _, k in usable]))
    return result
