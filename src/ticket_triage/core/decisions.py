"""Step four of the data path: a head's calibrated probabilities become a decision.

Two thresholds per head, both tuned at training time (:mod:`ticket_triage.core.thresholds`) and
stored in the artifact:

- the **target threshold**: a head with a precision target (urgency ``high`` at >= 0.85) decides
  its target class only when that class's probability reaches it, otherwise the most probable of
  the other classes;
- the **review thresholds**: a decision whose confidence is below its class's threshold is still
  given, flagged ``needs_review`` for a person.

The same rules in two forms: arrays for a batch (:func:`decide_head`, what batch scoring writes as
columns without an object per ticket) and plain Python for one ticket (:func:`decide_one`, where
numpy's per-call cost would be most of the latency). They agree (tested).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ticket_triage.core.heads import Head, calibrate_one

__all__ = [
    "BatchDecisions",
    "HeadDecision",
    "HeadDecisions",
    "TriageResult",
    "decide",
    "decide_head",
    "decide_one",
    "decision_objects",
]


@dataclass(frozen=True)
class HeadDecision:
    """One head's answer for one ticket."""

    #: The decided class.
    label: str
    #: Calibrated probability of ``label``.
    confidence: float
    #: Calibrated probability of every class.
    probabilities: dict[str, float]
    #: True when ``confidence`` is below the auto-decision threshold of ``label``.
    needs_review: bool
    #: For a head with a precision target (urgency ``high``): whether the target class's
    #: probability reached its tuned threshold. None for heads without a target.
    target_hit: bool | None


@dataclass(frozen=True)
class HeadDecisions:
    """One head's decisions for a batch of tickets, as arrays (row ``i`` is ticket ``i``).

    What batch scoring writes out as columns without building a :class:`HeadDecision` per ticket
    (those objects cost more than the scoring itself at a million tickets).
    """

    classes: tuple[str, ...]
    label_index: np.ndarray  # int, index into ``classes``
    probabilities: np.ndarray  # float64, shape (n, n_classes)
    confidence: np.ndarray  # float64: probability of the decided class
    needs_review: np.ndarray  # bool
    target_hit: np.ndarray | None  # bool; None for a head without a target

    @property
    def labels(self) -> np.ndarray:
        """The decided class names (object array)."""
        return np.asarray(self.classes, dtype=object)[self.label_index]


@dataclass(frozen=True)
class BatchDecisions:
    """Every head's decisions for a batch of tickets, and each ticket's unseen-feature share
    (the share of its distinct hashed features no training ticket had: input drift)."""

    heads: dict[str, HeadDecisions]
    unseen_share: np.ndarray  # float64, shape (n,)

    @property
    def needs_review(self) -> np.ndarray:
        """Per ticket, whether any head wants a person to look (bool array)."""
        return np.logical_or.reduce([head.needs_review for head in self.heads.values()])


@dataclass(frozen=True)
class TriageResult:
    """Every head's decision for one ticket.

    ``unseen_share`` is the share of the ticket's distinct hashed features that no training
    ticket had (input drift, for the prediction log), when the scoring pass counted it.
    """

    heads: dict[str, HeadDecision]
    model_version: str
    unseen_share: float | None = None

    @property
    def needs_review(self) -> bool:
        """True when any head is not confident enough to decide alone."""
        return any(head.needs_review for head in self.heads.values())

    @property
    def labels(self) -> dict[str, str]:
        """The decided class of each head, what routing reads."""
        return {name: head.label for name, head in self.heads.items()}

    def __getitem__(self, head: str) -> HeadDecision:
        return self.heads[head]


def decide(proba: np.ndarray, target_index: int | None, target_threshold: float) -> np.ndarray:
    """Decided class index per row: the target class when its probability reaches its threshold,
    otherwise the most probable of the other classes (the plain argmax for heads without target).

    Examples
    --------
    >>> proba = np.array([[0.5, 0.3, 0.2], [0.7, 0.1, 0.2]])
    >>> decide(proba, target_index=0, target_threshold=0.6).tolist()
    [1, 0]
    """
    if target_index is None:
        return proba.argmax(axis=1)
    others = proba.copy()
    others[:, target_index] = -1.0
    hit = proba[:, target_index] >= target_threshold
    return np.where(hit, target_index, others.argmax(axis=1))


def decide_head(head: Head, proba: np.ndarray) -> HeadDecisions:
    """Apply the target threshold and the review thresholds to one head's probabilities."""
    labels = decide(proba, head.target_index, head.target_threshold)
    confidence = proba[np.arange(len(labels)), labels]
    return HeadDecisions(
        classes=head.classes,
        label_index=labels,
        probabilities=proba,
        confidence=confidence,
        needs_review=confidence < np.asarray(head.review_list)[labels],
        target_hit=None if head.target_index is None else labels == head.target_index,
    )


def decide_one(head: Head, scores: Sequence[float]) -> HeadDecision:
    """:func:`decide_head` for one ticket's raw scores (the head's columns), in plain Python."""
    proba = calibrate_one(scores, head.calibration, len(head.classes))
    target = head.target_index
    if target is not None and proba[target] >= head.target_threshold:
        label = target
    else:
        candidates = [k for k in range(len(proba)) if k != target]
        label = max(candidates, key=proba.__getitem__)  # first of equals, like numpy's argmax
    confidence = proba[label]
    return HeadDecision(
        label=head.classes[label],
        confidence=confidence,
        probabilities=dict(zip(head.classes, proba, strict=True)),
        needs_review=confidence < head.review_list[label],
        target_hit=None if target is None else label == target,
    )


def decision_objects(batch: HeadDecisions) -> list[HeadDecision]:
    """One :class:`HeadDecision` per ticket of ``batch``."""
    classes = batch.classes
    # Plain Python lists: per-ticket numpy scalar conversions cost more than building the objects.
    n = len(batch.label_index)
    hits = [None] * n if batch.target_hit is None else batch.target_hit.tolist()
    return [
        HeadDecision(
            label=classes[label],
            confidence=confidence,
            probabilities=dict(zip(classes, row, strict=True)),
            needs_review=review,
            target_hit=hit,
        )
        for label, confidence, row, review, hit in zip(
            batch.label_index.tolist(),
            batch.confidence.tolist(),
            batch.probabilities.tolist(),
            batch.needs_review.tolist(),
            hits,
            strict=True,
        )
    ]
