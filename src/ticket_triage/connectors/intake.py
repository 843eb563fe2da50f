"""What a verified help-desk event leads to, whichever desk sent it.

For each event, in order:

1. **Our own write-back** (the event's actor is our API user): recorded, nothing else: triage
   never answers itself.
2. **A ticket we have not triaged** (or one whose text was edited and that no agent has corrected
   yet): triaged through the pipeline; the prediction, the ticket's link and the write-back
   (the calls that give the ticket our group, priority and marks) are stored in one transaction,
   and only then is the webhook answered (202).
3. **A ticket we triaged**: if the event shows the state we wrote, it is our own echo (or a
   change that does not concern triage): nothing. If it shows another group, priority or triage
   mark, an agent corrected us: that becomes feedback for the prediction, so monitoring and
   re-tuning see it with no effort from the agent. An event that does not carry the whole state
   (a trigger without the group or priority placeholder) gets a check instead: the worker reads
   the ticket itself and records the correction. While our own write-back is still pending,
   changes are not read as corrections (they would be the ticket before our write).

A redelivery of an event already accepted changes nothing (its key is stored) and is answered
200 "duplicate".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ticket_triage.connectors.desk import HelpDesk
from ticket_triage.connectors.events import DeskState, InboundEvent
from ticket_triage.core.pipeline import Decision, Pipeline
from ticket_triage.production.outbox import Outbox, TicketLink
from ticket_triage.production.store import FeedbackRecord

__all__ = ["Intake", "Outcome", "RowMaker"]

#: Builds the prediction log's row for a ticket decided now: ``(ticket, decision, latency_ms)``.
RowMaker = Callable[[Mapping[str, Any], Decision, float], dict[str, Any]]


@dataclass(frozen=True)
class Outcome:
    """What an event came to, as the webhook answers it.

    ``outcome`` is one of ``accepted`` (triaged, write-back queued), ``duplicate``, ``own_update``,
    ``unchanged``, ``pending_write``, ``feedback`` (an agent's correction recorded), ``check``
    (the ticket will be read to look for one) or ``ignored`` (not an event we act on).
    """

    outcome: str
    desk: str
    ticket: str | None = None
    prediction_id: str | None = None
    queue: str | None = None
    detail: str | None = None

    @property
    def accepted(self) -> bool:
        """Whether the event queued work for the outbox worker."""
        return self.outcome in ("accepted", "check")

    def to_json(self) -> dict[str, Any]:
        """The webhook's answer."""
        return {key: value for key, value in self.__dict__.items() if value is not None}


class Intake:
    """Turns verified webhooks into triage, write-backs and feedback (see the module docstring).

    Parameters
    ----------
    desks
        The configured help desks, by name.
    pipeline
        The served model and rules.
    outbox
        Where events, links and write-backs are stored.
    make_row
        The prediction log's row for a decision (the service's: ids, redaction).
    max_text_bytes
        Longer subject + body are cut to this (UTF-8) rather than refused: a help desk cannot
        shorten a ticket, and a ticket refused is a ticket never triaged.
    """

    def __init__(
        self,
        desks: Mapping[str, HelpDesk],
        pipeline: Pipeline,
        outbox: Outbox,
        make_row: RowMaker,
        *,
        bots: Mapping[str, str | None] | None = None,
        max_text_bytes: int = 32 * 1024,
    ) -> None:
        self.desks = dict(desks)
        self.pipeline = pipeline
        self.outbox = outbox
        self.make_row = make_row
        self.bots = dict(bots or {})
        self.max_text_bytes = max_text_bytes
        self.metadata = set(pipeline.model.meta.get("metadata", []))

    def handle(self, desk_name: str, headers: Mapping[str, str], body: bytes) -> Outcome:
        """Verify, parse and act on one webhook.

        Raises
        ------
        KeyError
            No such help desk is configured.
        Unauthorized
            The webhook is unsigned, badly signed or stale.
        Rejected
            It is not JSON, or has no ticket id.
        StoreUnavailable
            The database cannot take it now (nothing was accepted: the desk should retry).
        """
        desk = self.desks[desk_name]
        desk.verify(headers, body, time.time())
        parsed = desk.parse(headers, body)
        if isinstance(parsed, str):
            return Outcome("ignored", desk.name, detail=parsed)
        event = parsed
        if desk.is_own(event, self.bots.get(desk.name)):
            return self._record(event, "own_update")
        link = self.outbox.link(desk.name, event.external_id)
        if link is None or (event.text_changed and not link.corrected):
            return self._triage(desk, event)
        return self._known(desk, event, link)

    def _triage(self, desk: HelpDesk, event: InboundEvent) -> Outcome:
        started = time.perf_counter()
        ticket = self._ticket(event)
        decision = self.pipeline.triage([ticket])[0]
        row = self.make_row(ticket, decision, (time.perf_counter() - started) * 1000)
        target = desk.target(decision.result.labels, decision.queue)
        requests = desk.requests(event, target)
        jobs = []
        if requests:
            jobs.append({"kind": "update", "prediction_id": row["id"],
                         "requests": [request.to_json() for request in requests]})  # fmt: skip
        link = {
            "prediction_id": row["id"],
            "written": target.to_json(),
            "applied": not requests,
            "corrected": False,
            "target": event.target,
            "original": event.state.to_json(),
        }
        stored = self.outbox.accept(
            key=event.key, desk=desk.name, external_id=event.external_id, outcome="accepted",
            prediction=row, link=link, jobs=jobs,
        )  # fmt: skip
        if not stored:
            return Outcome("duplicate", desk.name, event.external_id)
        return Outcome("accepted", desk.name, event.external_id, row["id"], decision.queue)

    def _known(self, desk: HelpDesk, event: InboundEvent, link: TicketLink) -> Outcome:
        if not link.applied:
            return self._record(event, "pending_write", link)
        if event.complete:
            return self.correct(desk, event.external_id, link, event.state, event.key, event.actor)
        check = desk.check(event.external_id)
        if check is None:  # a desk whose events always carry the state never gets here
            return self._record(event, "ignored", link)
        job = {"kind": "check", "prediction_id": link.prediction_id, "requests": [check.to_json()]}
        stored = self.outbox.accept(
            key=event.key, desk=desk.name, external_id=event.external_id, outcome="check",
            jobs=[job],
        )  # fmt: skip
        outcome = "check" if stored else "duplicate"
        return Outcome(outcome, desk.name, event.external_id, link.prediction_id)

    def correct(
        self,
        desk: HelpDesk,
        external_id: str,
        link: TicketLink,
        current: DeskState,
        key: str,
        actor: str | None,
    ) -> Outcome:
        """Record what an agent changed on a ticket we triaged (from an event, or from the
        worker's check), as feedback for its prediction."""
        found = desk.corrections(DeskState.from_json(link.written), current)
        if not found:
            return self._record_key(desk.name, external_id, key, "unchanged", link)
        record = FeedbackRecord(
            prediction_id=link.prediction_id,
            urgency=found.get("urgency"),
            topic=found.get("topic"),
            queue=found.get("queue"),
            agent=f"{desk.name}:{actor or 'agent'}",
            created_at=datetime.now(UTC),
        )
        written = self._merged(DeskState.from_json(link.written), current)
        stored = self.outbox.accept(
            key=key, desk=desk.name, external_id=external_id, outcome="feedback",
            link={"prediction_id": link.prediction_id, "written": written, "applied": True,
                  "corrected": True, "target": link.target, "original": link.original},
            feedback=record,
        )  # fmt: skip
        outcome = "feedback" if stored else "duplicate"
        detail = ", ".join(f"{head} {value}" for head, value in sorted(found.items()))
        return Outcome(outcome, desk.name, external_id, link.prediction_id, detail=detail)

    @staticmethod
    def _merged(written: DeskState, current: DeskState) -> dict[str, Any]:
        """The state to compare later events with: the agent's, where they set one."""
        return DeskState(
            current.group if current.group is not None else written.group,
            current.priority if current.priority is not None else written.priority,
            current.marks or written.marks,
        ).to_json()

    def _record(self, event: InboundEvent, outcome: str, link: TicketLink | None = None) -> Outcome:
        return self._record_key(event.desk, event.external_id, event.key, outcome, link)

    def _record_key(
        self, desk: str, external_id: str, key: str, outcome: str, link: TicketLink | None
    ) -> Outcome:
        stored = self.outbox.accept(key=key, desk=desk, external_id=external_id, outcome=outcome)
        prediction = link.prediction_id if link else None
        return Outcome(outcome if stored else "duplicate", desk, external_id, prediction)

    def _ticket(self, event: InboundEvent) -> dict[str, Any]:
        """The event's ticket as the pipeline reads it: the model's metadata only, the text cut
        to ``max_text_bytes``."""
        subject, body = _cut(event.subject, self.max_text_bytes), event.body
        body = _cut(body, max(0, self.max_text_bytes - len(subject.encode())))
        if not (subject + body).strip():
            subject = f"ticket {event.external_id}"  # an empty ticket is still routed (by metadata)
        metadata = {k: v for k, v in event.metadata.items() if k in self.metadata}
        return {"subject": subject, "body": body, "metadata": metadata}


def _cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, never inside a character."""
    data = text.encode()
    return text if len(data) <= limit else data[:limit].decode(errors="ignore")
