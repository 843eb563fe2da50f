"""The audit sample: a random share of automatically routed tickets, flagged for an agent to
confirm, so the model's quality can be measured without the bias of feedback that arrives only
where a person looked anyway.

Which tickets are audited
    An automatically routed ticket (``needs_review`` false) is audited when the uniform number
    derived from its decision id (SHA-256 of ``"triage-audit:" + id``, the first 8 bytes as a
    fraction of 2**64) is below ``TRIAGE_AUDIT_SHARE``. The draw is a pure function of the id:
    the same decision is always audited or not (a replayed request, a re-run of the log, a
    test), yet the ids are random, so across tickets it is an independent Bernoulli draw with
    probability ``share`` (Poisson sampling), which is what the variance estimates of
    :mod:`ticket_triage.production.monitoring.quality` assume.

What ``audit_probability`` means
    The probability that the ticket enters the *designed labelled sample*, the one quality is
    estimated from with inverse-probability weights:

    - a ticket sent to review: ``1.0``. Every reviewed ticket is looked at by an agent, whose
      final labels are its feedback; it is in the sample with certainty (weight 1);
    - an automatically routed ticket: ``share`` (audited or not: the probability it *had*;
      the drawn ones get weight ``1 / share``);
    - audit sampling off (``share`` 0): ``None`` on every row, as the log held before.

    Feedback on an automatically routed ticket that was *not* drawn (an agent happened to
    correct it) is self-selected: it stays in the feedback-only figures but never in the
    weighted ones. A reviewed or audited ticket left without feedback is non-response; the
    weighted figures assume it is missing at random and report how many of the sample are
    labelled.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["AuditDraw", "audit_draw", "uniform"]

_SALT = b"triage-audit:"


@dataclass(frozen=True)
class AuditDraw:
    """Whether one decision was drawn for an audit, and the probability it had."""

    needs_audit: bool
    probability: float | None


def uniform(decision_id: str) -> float:
    """A number in [0, 1) fixed by the decision id, uniform over random ids.

    Examples
    --------
    >>> uniform("0190f3c2a1b27c3d8e9f0a1b2c3d4e5f") == uniform("0190f3c2a1b27c3d8e9f0a1b2c3d4e5f")
    True
    >>> 0.0 <= uniform("x") < 1.0
    True
    """
    digest = hashlib.sha256(_SALT + decision_id.encode()).digest()
    return int.from_bytes(digest[:8]) / 2.0**64


def audit_draw(decision_id: str, needs_review: bool, share: float) -> AuditDraw:
    """Draw a decision for the audit sample (see the module docstring).

    Parameters
    ----------
    decision_id : str
        The decision's id (the draw is reproducible from it).
    needs_review : bool
        Whether the ticket goes to review: then it is labelled anyway and never audited.
    share : float
        ``TRIAGE_AUDIT_SHARE``, in [0, 1]; 0 turns audit sampling off.

    Examples
    --------
    >>> audit_draw("any", needs_review=True, share=0.02)
    AuditDraw(needs_audit=False, probability=1.0)
    >>> audit_draw("any", needs_review=False, share=0.0)
    AuditDraw(needs_audit=False, probability=None)
    >>> audit_draw("any", needs_review=False, share=1.0)
    AuditDraw(needs_audit=True, probability=1.0)
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"audit share must be in [0, 1], not {share}")
    if share == 0.0:
        return AuditDraw(False, None)
    if needs_review:
        return AuditDraw(False, 1.0)
    return AuditDraw(uniform(decision_id) < share, share)
