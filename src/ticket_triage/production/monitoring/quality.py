"""Unbiased quality figures: per-class precision and recall from the audit sample, weighted by
the inverse of each ticket's inclusion probability, beside the feedback-only figures.

Why: feedback arrives for tickets an agent looked at (review, or a correction of what looked
wrong), so precision on feedback alone describes those tickets, not the traffic. The *designed
sample* is every reviewed ticket (inclusion probability 1) plus the automatically routed tickets
drawn for an audit (probability ``TRIAGE_AUDIT_SHARE``), see :mod:`ticket_triage.production.audit`.
Its labelled tickets, each weighted ``w = 1 / audit_probability``, stand for all traffic.

Estimator
    The Hájek (ratio) estimator: precision of class ``c`` is ``sum(w * hit) / sum(w * predicted
    c)``, recall ``sum(w * hit) / sum(w * labelled c)``. Dividing by the weighted count rather
    than the known population size (Horvitz–Thompson) keeps the figure in [0, 1] and is the
    usual choice for a ratio.

Interval (95 %, or ``confidence``)
    The delta-method (linearised) variance of the ratio under Poisson sampling, ``V = sum((1 -
    p) * w**2 * e**2) / sum(w * z)**2`` with ``e = y - R * z`` (a reviewed ticket, ``p = 1``,
    adds nothing: it is observed with certainty), turned into an effective sample size
    ``n_eff = R * (1 - R) / V`` and a **Wilson score interval on n_eff**, which stays inside
    [0, 1] and does not collapse to a point when every audited ticket happens to be right.
    Where ``V`` is 0 or ``R`` is 0 or 1, ``n_eff`` is Kish's ``sum(w)**2 / sum(w**2)``.

Non-response: a reviewed or audited ticket without feedback is assumed missing at random; the
figures say how many of the designed sample were labelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from ticket_triage.production.monitoring.window import Row, rounded

__all__ = ["AUDIT_LABEL", "FEEDBACK_LABEL", "designed", "hajek", "weighted_scores", "wilson"]

#: How reports name the two kinds of figures, so no reader mistakes one for the other.
AUDIT_LABEL = "audit-weighted (unbiased estimate of all traffic)"
FEEDBACK_LABEL = "feedback only (biased: tickets agents chose or had to look at)"


def designed(row: Row) -> bool:
    """Whether a logged decision belongs to the designed labelled sample: reviewed or audited,
    with the probability it had of being included logged."""
    probability = row.get("audit_probability")
    return (
        probability is not None
        and probability > 0
        and bool(row.get("needs_review") or row.get("needs_audit"))
    )


def wilson(estimate: float, n_eff: float, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``estimate`` seen on ``n_eff`` tickets.

    Examples
    --------
    >>> low, high = wilson(1.0, 40)
    >>> round(low, 3), high
    (0.912, 1.0)
    """
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    denominator = 1 + z * z / n_eff
    center = (estimate + z * z / (2 * n_eff)) / denominator
    half = z / denominator * np.sqrt(estimate * (1 - estimate) / n_eff + z * z / (4 * n_eff**2))
    # At 0 or 1 the bound is exactly 0 or 1; floating point would land a hair inside it.
    low = 0.0 if estimate <= 0 else max(0.0, float(center - half))
    high = 1.0 if estimate >= 1 else min(1.0, float(center + half))
    return low, high


def hajek(
    y: np.ndarray, z: np.ndarray, probability: np.ndarray, confidence: float = 0.95
) -> dict[str, Any]:
    """The weighted ratio ``sum(y / p) / sum(z / p)`` and its interval (module docstring).

    ``y`` and ``z`` are 0/1 per labelled ticket (``y`` implies ``z``), ``probability`` each
    ticket's inclusion probability. ``estimate`` is None when no ticket has ``z``.
    """
    weights = 1.0 / probability
    denominator = float(np.sum(weights * z))
    n = int(np.sum(z))
    if denominator <= 0:
        return {"estimate": None, "low": None, "high": None, "n": 0, "n_eff": None}
    ratio = float(np.sum(weights * y)) / denominator
    residual = y - ratio * z
    variance = float(np.sum((1 - probability) * weights**2 * residual**2)) / denominator**2
    if variance > 0 and 0 < ratio < 1:
        n_eff = ratio * (1 - ratio) / variance
    else:
        n_eff = denominator**2 / float(np.sum(weights**2 * z))
    low, high = wilson(ratio, n_eff, confidence)
    return {
        "estimate": rounded(ratio),
        "low": rounded(low),
        "high": rounded(high),
        "n": n,
        "n_eff": round(n_eff, 1),
    }


def weighted_scores(
    name: str, labels: Sequence[str], rows: Sequence[Row], confidence: float = 0.95
) -> dict[str, Any]:
    """Audit-weighted precision and recall per class of head ``name``.

    Parameters
    ----------
    rows : sequence of dict
        Logged decisions, with feedback (``final_<name>``) where an agent gave it: the
        prediction log's :meth:`~ticket_triage.production.store.Store.feedback` rows, and
        optionally rows without feedback (they count toward ``n_sample`` only).

    Returns
    -------
    dict
        ``label`` (:data:`AUDIT_LABEL`), ``interval`` (how it was computed), ``n_sample`` (the
        designed sample), ``n_labelled`` (of it, with this head's label), ``n_audited`` (of
        those, drawn by the audit), ``per_class``: per label ``precision`` and ``recall``, each
        ``{estimate, low, high, n, n_eff}``.
    """
    sample = [row for row in rows if designed(row)]
    labelled = [row for row in sample if row.get(f"final_{name}") and row.get(name)]
    truth = np.array([str(row[f"final_{name}"]) for row in labelled], dtype=object)
    predicted = np.array([str(row[name]) for row in labelled], dtype=object)
    probability = np.array([float(row["audit_probability"]) for row in labelled], dtype=float)
    per_class = {}
    for label in labels:
        hit = ((truth == label) & (predicted == label)).astype(float)
        per_class[label] = {
            "precision": hajek(hit, (predicted == label).astype(float), probability, confidence),
            "recall": hajek(hit, (truth == label).astype(float), probability, confidence),
        }
    return {
        "label": AUDIT_LABEL,
        "interval": f"Wilson {confidence:.0%} on the effective sample size of the Hájek ratio "
        "(delta-method variance under Poisson sampling)",
        "n_sample": len(sample),
        "n_labelled": len(labelled),
        "n_audited": sum(1 for row in labelled if row.get("needs_audit")),
        "per_class": per_class,
    }
