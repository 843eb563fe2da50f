"""One decision as the prediction log keeps it: its id and its row.

The API, Lambda and the help-desk connectors all log decisions; this is the one place that says
what a logged decision holds.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ticket_triage.core.pipeline import Decision
from ticket_triage.production.redact import redact

__all__ = ["new_id", "prediction_row"]


def new_id() -> str:
    """A time-ordered decision id (the UUIDv7 layout: 48-bit milliseconds, then 74 random
    bits), so ids sort by time and index well in the prediction store.

    Examples
    --------
    >>> value = uuid.UUID(new_id())
    >>> value.version, value.variant == uuid.RFC_4122
    (7, True)
    """
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value).hex


def prediction_row(
    ticket: Mapping[str, Any],
    decision: Decision,
    latency_ms: float,
    prediction_id: str | None = None,
    *,
    store_text: bool,
    role: str = "live",
    served_id: str | None = None,
    needs_audit: bool = False,
    audit_probability: float | None = None,
) -> dict[str, Any]:
    """The prediction log's row for a decision (a request's, or a help-desk ticket's): its
    text redacted (:mod:`~ticket_triage.production.redact`) when ``store_text``, else left out
    (``TRIAGE_STORE_TEXT=none``). ``role`` says whether the version answered (``live``,
    ``canary``) or only shadowed the decision ``served_id``; ``needs_audit`` marks a ticket
    drawn, with ``audit_probability``, for an agent's confirmation."""
    heads = decision.heads
    keep = store_text
    return {
        "id": prediction_id or new_id(),
        "created_at": datetime.now(UTC),
        "model_version": decision.result.model_version,
        "urgency": heads["urgency"].label if "urgency" in heads else None,
        "urgency_confidence": heads["urgency"].confidence if "urgency" in heads else None,
        "topic": heads["topic"].label if "topic" in heads else None,
        "topic_confidence": heads["topic"].confidence if "topic" in heads else None,
        "probabilities": {head: out.probabilities for head, out in heads.items()},
        "queue": decision.route.queue,
        "queue_rule": decision.route.rule,
        "needs_review": decision.needs_review,
        "latency_ms": latency_ms,
        "unseen_share": decision.result.unseen_share or 0.0,
        "metadata": dict(ticket.get("metadata") or {}),
        "subject": redact(str(ticket.get("subject") or "")) if keep else None,
        "body": redact(str(ticket.get("body") or "")) if keep else None,
        "role": role,
        "served_id": served_id,
        "needs_audit": needs_audit,
        "audit_probability": audit_probability,
    }
