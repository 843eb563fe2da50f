"""Why a head decided what it did: the ticket's n-grams with the largest share of the margin.

A linear head's score is a sum over hashed features, so each feature's share of the margin
between the decided class and the runner-up is exact: the listed shares, ``rest`` (all the other
features) and ``bias`` (the intercepts' difference) add up to the margin (tested). Hashed features
cannot be turned back into words, so each is named by the ticket's own n-grams that hash to it
(:meth:`~ticket_triage.core.features.Featurizer.named`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ticket_triage.core.decisions import HeadDecision
from ticket_triage.core.heads import Head

__all__ = ["Contribution", "Explanation", "explain"]


@dataclass(frozen=True)
class Contribution:
    """How much some n-grams of the ticket moved a decision (they share one hashed feature)."""

    ngrams: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class Explanation:
    """Why a head chose ``label`` over ``versus``, the runner-up class.

    ``contributions`` are the n-grams with the largest positive share of the score margin
    ``score[label] - score[versus]``; ``rest`` is the summed share of all the others (often
    negative) and ``bias`` the intercepts' difference: the three add up to the margin exactly.
    """

    label: str
    versus: str
    bias: float
    rest: float
    contributions: tuple[Contribution, ...]


def explain(
    head: Head,
    decision: HeadDecision,
    shares: np.ndarray,
    intercept: np.ndarray,
    names: Sequence[tuple[str, ...]],
    top: int,
) -> Explanation:
    """Explain one head's ``decision`` for one ticket.

    Parameters
    ----------
    head : Head
    decision : HeadDecision
        What the head decided from these very ``shares``.
    shares : ndarray, shape (n_features_of_ticket, n_columns)
        Each of the ticket's features' share of every column's score (scores minus intercepts).
    intercept : ndarray, shape (n_columns,)
    names : sequence of tuple of str
        Per row of ``shares``, the ticket's n-grams that hash to that feature.
    top : int
        At most this many contributions, each with a positive share.
    """
    label = head.classes.index(decision.label)
    ranked = sorted(decision.probabilities, key=decision.probabilities.__getitem__)
    versus = head.classes.index(next(c for c in reversed(ranked) if c != decision.label))
    columns = shares[:, head.columns]
    bias_columns = intercept[head.columns]
    if len(head.classes) == 2:  # one score s for the second class: the margin is +-2s
        sign = 1.0 if label == 1 else -1.0
        margin, bias = 2 * sign * columns[:, 0], 2 * sign * bias_columns[0]
    else:
        margin = columns[:, label] - columns[:, versus]
        bias = bias_columns[label] - bias_columns[versus]
    order = [i for i in np.argsort(-margin)[:top].tolist() if margin[i] > 0]
    return Explanation(
        label=decision.label,
        versus=head.classes[versus],
        bias=float(bias),
        rest=float(margin.sum() - margin[order].sum()),
        contributions=tuple(Contribution(names[i], float(margin[i])) for i in order),
    )
