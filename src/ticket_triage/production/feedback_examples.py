"""Agents' feedback as training examples: what ``triage retrain`` may learn from the log.

Why a module of its own: which rows of the prediction log count as labels is the rule that
keeps a retrained model honest. Only an agent's labels enter, never the model's own
unconfirmed decisions: a prediction without feedback is not an example, and a head the agent
did not label stays unlabelled. Each labelled head is a **correction** (the agent's label
differs from the logged decision) or a **confirmation** (it is the same).

A ticket is identified by its text (the data contract has no id column): the subject and body,
redacted as the log stores them (:func:`~ticket_triage.production.redact.redact` is idempotent,
so a raw training file and the redacted log give the same key), with whitespace and case
folded. The same ticket can have been triaged more than once; per head, the latest feedback
wins.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ticket_triage.production.redact import redact
from ticket_triage.production.store import Store

__all__ = ["FeedbackExample", "FeedbackExamples", "feedback_examples", "ticket_key"]

HEADS = ("urgency", "topic")
_SPACE = re.compile(r"\s+")


def ticket_key(subject: object, body: object) -> str:
    """What identifies a ticket across the training file and the log (see the module text).

    Examples
    --------
    >>> raw = ticket_key("Refund", "Mail me at jo@example.org")
    >>> raw == ticket_key(" refund", "MAIL  me at [EMAIL]")
    True
    """
    parts = [
        _SPACE.sub(" ", redact(str(part or ""))).strip().casefold() for part in (subject, body)
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class FeedbackExample:
    """One ticket an agent labelled: its stored (redacted) text, the agent's labels, which of
    them corrected the model, and when the latest feedback on it came."""

    key: str
    prediction_id: str
    at: datetime
    subject: str
    body: str
    metadata: dict[str, str]
    labels: dict[str, str]
    corrected: frozenset[str] = field(default_factory=frozenset)

    @property
    def kind(self) -> str:
        """``correction`` when the agent changed any head's decision, else ``confirmation``."""
        return "correction" if self.corrected else "confirmation"


@dataclass(frozen=True)
class FeedbackExamples:
    """The examples (oldest feedback first) and what was left out, and why."""

    examples: list[FeedbackExample]
    #: Feedback on a prediction whose text was not stored (``TRIAGE_STORE_TEXT=none``).
    no_text: int = 0
    #: Feedback that gave only a queue: no label to learn from.
    no_label: int = 0
    #: Feedback on a ticket that newer feedback on the same ticket replaced entirely.
    superseded: int = 0


def feedback_examples(store: Store, since: datetime | None = None) -> FeedbackExamples:
    """Every ticket with an agent's label in ``store``, as :class:`FeedbackExample`.

    The store already keeps the latest feedback per prediction; several predictions of the same
    ticket are merged here, newer labels replacing older ones head by head.
    """
    merged: dict[str, FeedbackExample] = {}
    no_text = no_label = superseded = 0
    rows = sorted(store.feedback(since), key=lambda row: _utc(row["feedback_at"]))
    for row in rows:
        if row.get("role") == "shadow":
            continue  # feedback belongs to the answer a customer got, never to a shadow
        labels = {head: row[f"final_{head}"] for head in HEADS if row.get(f"final_{head}")}
        if not labels:
            no_label += 1
            continue
        if row["subject"] is None and row["body"] is None:
            no_text += 1
            continue
        example = _example(row, labels)
        older = merged.pop(example.key, None)
        if older is not None:
            if set(older.labels) <= set(labels):
                superseded += 1
            example = replace(
                example,
                labels={**older.labels, **labels},
                corrected=(older.corrected - set(labels)) | example.corrected,
            )
        merged[example.key] = example
    examples = sorted(merged.values(), key=lambda example: example.at)
    return FeedbackExamples(examples, no_text=no_text, no_label=no_label, superseded=superseded)


def _example(row: dict[str, Any], labels: dict[str, str]) -> FeedbackExample:
    subject, body = row["subject"] or "", row["body"] or ""
    reserved = {"id", "subject", "body", *HEADS}
    return FeedbackExample(
        key=ticket_key(subject, body),
        prediction_id=row["id"],
        at=_utc(row["feedback_at"]),
        subject=subject,
        body=body,
        metadata={k: str(v) for k, v in (row["metadata"] or {}).items() if k not in reserved},
        labels=labels,
        corrected=frozenset(head for head, label in labels.items() if row.get(head) != label),
    )


def _utc(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
