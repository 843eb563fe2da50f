"""What a re-tune changed, for the record in ``model.json`` and for the person who ran it.

:func:`ticket_triage.production.retune.retune` plans one :class:`HeadRetune` per head (its target
threshold as a :class:`TargetRetune`, its review thresholds), and returns them in a
:class:`RetuneResult`, whose :meth:`~RetuneResult.summary` the CLI prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ticket_triage.core.thresholds import TargetResult

__all__ = ["HeadRetune", "RetuneResult", "TargetRetune"]


@dataclass(frozen=True)
class TargetRetune:
    """How one head's target threshold changed.

    Attributes
    ----------
    label : str
        The target class (urgency ``high``).
    min_precision : float
        The artifact's precision target, unchanged.
    old_threshold : float
        The threshold before re-tuning.
    result : TargetResult
        The new threshold, and the precision (with its lower bound) and recall it achieves on
        the feedback; ``reachable`` False when no threshold meets the target there (the result is
        then the best fallback, as in training).
    old_precision : float or None
        What the old threshold achieves on the same feedback, for comparison (None: it
        predicts no ticket as the target class).
    old_recall : float
        The old threshold's recall on the same feedback.
    n_positive : int
        Feedback tickets the agents labelled as the target class.
    """

    label: str
    min_precision: float
    old_threshold: float
    result: TargetResult
    old_precision: float | None
    old_recall: float
    n_positive: int

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the ``retuned`` record."""
        return {
            "class": self.label,
            "min_precision": self.min_precision,
            "old_threshold": self.old_threshold,
            "new_threshold": self.result.threshold,
            "n_positive": self.n_positive,
            "expected": self.result.to_json(),
            "old_threshold_on_feedback": {
                "precision": self.old_precision,
                "recall": self.old_recall,
            },
        }


@dataclass(frozen=True)
class HeadRetune:
    """What re-tuning did to one head.

    Attributes
    ----------
    head : str
        Head name.
    n_feedback : int
        Feedback tickets with this head's label, on these weights, since ``since``.
    target : TargetRetune or None
        The target threshold's change; None for a head without a target or left unchanged.
    review_rule : dict
        The artifact's review rule (``{"min_precision": p}`` or ``{"coverage": c}``).
    old_review, new_review : dict of str to float or None
        Per class, the auto-decision threshold before and after (None: never decided alone).
    kept : dict of str to str
        Classes whose review threshold was kept, and why (too few feedback tickets decided as
        that class to re-tune it).
    unchanged : str or None
        Why the whole head was left as it was (a head without target and too little feedback).
    """

    head: str
    n_feedback: int
    target: TargetRetune | None
    review_rule: dict[str, float]
    old_review: dict[str, float | None]
    new_review: dict[str, float | None]
    kept: dict[str, str]
    unchanged: str | None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the ``retuned`` record."""
        return {
            "n_feedback": self.n_feedback,
            "unchanged": self.unchanged,
            "target": self.target.to_json() if self.target else None,
            "review": {
                "rule": self.review_rule,
                "old_thresholds": self.old_review,
                "new_thresholds": self.new_review,
                "kept": self.kept,
            },
        }

    def lines(self) -> list[str]:
        """This head's part of :meth:`RetuneResult.summary`."""
        if self.unchanged:
            return [f"{self.head}: unchanged: {self.unchanged}"]
        out = []
        target = self.target
        if target is not None:
            result = target.result
            change = f"{target.old_threshold:.3f} -> {result.threshold:.3f}"
            on = f"on {self.n_feedback} feedback tickets"
            if result.reachable:
                out.append(
                    f"{self.head}: {target.label!r} threshold {change}; expected precision "
                    f"{result.precision:.2f} (lower bound {result.precision_lower:.2f}), recall "
                    f"{result.recall:.2f} {on}"
                )
            else:
                out.append(
                    f"{self.head}: target precision {target.min_precision:.2f} for "
                    f"{target.label!r} NOT reachable {on} (best lower bound "
                    f"{result.best_precision:.2f}); fallback threshold {change}: precision "
                    f"{result.precision:.2f}, recall {result.recall:.2f}"
                )
            if target.old_precision is not None:
                out.append(
                    f"{self.head}: the old threshold gave precision {target.old_precision:.2f}, "
                    f"recall {target.old_recall:.2f} on the same tickets"
                )
        changes = ", ".join(
            f"{c} {_threshold(self.old_review[c])} -> {_threshold(self.new_review[c])}"
            for c in self.new_review
            if self.new_review[c] != self.old_review[c]
        )
        out.append(f"{self.head}: review thresholds {changes or 'unchanged'}")
        for label, reason in self.kept.items():
            out.append(f"{self.head}: review threshold of {label!r} kept: {reason}")
        return out


@dataclass(frozen=True)
class RetuneResult:
    """What :func:`retune` wrote.

    Attributes
    ----------
    out : Path
        The new artifact.
    from_version, version : str
        The re-tuned model's version and the new one.
    since : datetime
        Feedback on predictions from this time on was used.
    heads : tuple of HeadRetune
        Per head of the model, what changed.
    """

    out: Path
    from_version: str
    version: str
    since: datetime
    heads: tuple[HeadRetune, ...]

    def summary(self) -> str:
        """Lines for a person (the CLI prints them): what changed, and what to expect."""
        lines = [f"re-tuned {self.from_version} -> {self.version}, written to {self.out}"]
        for head in self.heads:
            lines.extend(head.lines())
        return "\n".join(lines)


def _threshold(value: float | None) -> str:
    return "never" if value is None else f"{value:.3f}"
