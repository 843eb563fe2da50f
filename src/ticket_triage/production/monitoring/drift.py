"""Has the world moved? The predicted class mix against training and the previous window (PSI),
and the share of ticket features training never saw (input drift)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ticket_triage.production.monitoring.window import Row, rounded

__all__ = [
    "INPUT_DRIFT_RISE",
    "PSI_ALERT",
    "PSI_EPSILON",
    "input_drift",
    "label_priors",
    "mean_unseen",
    "psi",
    "training_mix",
]

#: PSI above this is drift worth a look (the usual rule of thumb: < 0.1 stable, > 0.2 shifted).
PSI_ALERT = 0.2
#: Share used in place of an empty class, so a class that vanishes gives a large finite PSI.
PSI_EPSILON = 1e-4
#: A rise of the mean unseen-feature share by more than this (absolute) is input drift.
INPUT_DRIFT_RISE = 0.1


def psi(actual: Sequence[float], expected: Sequence[float], eps: float = PSI_EPSILON) -> float:
    """Population stability index of two distributions over the same bins.

    ``sum((a - e) * ln(a / e))`` over the bins, after each is normalised to sum to one (so counts
    work as well as shares) and every share below ``eps`` is raised to ``eps``: an empty bin then
    contributes a large but finite amount instead of infinity.

    Parameters
    ----------
    actual, expected : sequence of float
        Counts or shares per bin, in the same bin order; neither may sum to zero.
    eps : float, default=PSI_EPSILON
        Floor of a bin's share.

    Returns
    -------
    float
        0 for identical distributions; above :data:`PSI_ALERT` (0.2) is a shift.

    Examples
    --------
    >>> round(psi([0.7, 0.3], [0.5, 0.5]), 4)
    0.1695
    >>> psi([10, 30], [1, 3])
    0.0
    """
    a, e = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if a.shape != e.shape or a.sum() <= 0 or e.sum() <= 0:
        raise ValueError("psi needs two non-empty distributions over the same bins")
    a = np.maximum(a / a.sum(), eps)
    e = np.maximum(e / e.sum(), eps)
    return round(float(np.sum((a - e) * np.log(a / e))), 6)


def training_mix(metrics: Mapping[str, Any], classes: Sequence[str]) -> dict[str, float] | None:
    """The held-out *predicted* count per class, rebuilt from precision, recall and support.

    Predicted = true positives / precision. A class with precision 0 had no true positive, so
    its count is unknown from these numbers alone: the held-out size minus the others' counts
    is shared equally among such classes (exact when there is one).
    """
    per_class, total = metrics["per_class"], int(metrics.get("n", 0))
    counts: dict[str, float] = {}
    unknown = []
    for name in classes:
        scores = per_class.get(name, {})
        if scores.get("precision"):
            true_positives = round(scores["recall"] * scores["support"])
            counts[name] = round(true_positives / scores["precision"])
        else:
            unknown.append(name)
    rest = max(total - sum(counts.values()), 0)
    counts.update({name: rest / len(unknown) for name in unknown})
    return counts if sum(counts.values()) else None


def label_priors(metrics: Mapping[str, Any], classes: Sequence[str]) -> dict[str, float] | None:
    """The held-out (stratified) share of each true class."""
    support = {c: int(metrics["per_class"].get(c, {}).get("support", 0)) for c in classes}
    whole = sum(support.values())
    return {c: round(n / whole, 6) for c, n in support.items()} if whole else None


def mean_unseen(rows: Sequence[Row]) -> float | None:
    return rounded(sum(row["unseen_share"] for row in rows) / len(rows)) if rows else None


def input_drift(window: Sequence[Row], previous: Sequence[Row]) -> dict[str, Any]:
    now, before = mean_unseen(window), mean_unseen(previous)
    change = rounded(now - before) if now is not None and before is not None else None
    return {"unseen_share": now, "previous_unseen_share": before, "change": change}
