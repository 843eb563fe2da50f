"""The help-desk outbox: what the connectors accepted, what they must still write back, and which
help-desk ticket each prediction belongs to. In the prediction log's own database.

Three tables (:mod:`~ticket_triage.production.connector_tables`, migration ``0002``):

- ``connector_events``: one row per help-desk event we accepted, keyed by its event key. A
  redelivery finds its key and changes nothing (the webhook answers 200 "duplicate").
- ``connector_tickets``: a help-desk ticket (desk, its id) -> the prediction that triaged it, the
  state we wrote back (group, priority, triage marks), whether that write is applied, and whether
  an agent has corrected it since.
- ``outbox``: the write-backs (and checks) still to do, their attempts, the next attempt's time,
  a lease while a worker sends one, and their end: ``done``, ``superseded`` or ``dead``.

An event is accepted in one transaction: its key, the prediction, the ticket link and its outbox
row all commit together or not at all, so the webhook answers 2xx only once nothing can be lost,
and never has half of it stored. Workers claim due rows with a lease (an UPDATE that only one of
them wins), so several processes can drain the same outbox, and a worker that died mid-send
leaves a lease that expires rather than a row stuck in ``sending``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from ticket_triage.production.connector_tables import (
    STATES,
    ConnectorEventRow,
    ConnectorTicketRow,
    OutboxRow,
)
from ticket_triage.production.store import (
    FeedbackRecord,
    FeedbackRow,
    PredictionRow,
    Store,
    failure,
)

__all__ = ["Job", "Outbox", "TicketLink"]


@dataclass(frozen=True)
class TicketLink:
    """What the store knows of one help-desk ticket (:class:`ConnectorTicketRow`)."""

    desk: str
    external_id: str
    prediction_id: str
    written: dict[str, Any]
    applied: bool
    corrected: bool
    target: dict[str, Any]
    #: The ticket's group, priority and marks when the event that triaged it arrived.
    original: dict[str, Any]


@dataclass(frozen=True)
class Job:
    """A claimed outbox row: the worker sends it and reports how it went."""

    id: int
    desk: str
    external_id: str
    prediction_id: str
    kind: str
    requests: list[dict[str, Any]]
    attempts: int
    created_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Outbox:
    """The connectors' tables in a :class:`~ticket_triage.production.store.Store`'s database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- accepting events ----------------------------------------------------------------------

    def accept(
        self,
        *,
        key: str,
        desk: str,
        external_id: str,
        outcome: str,
        prediction: Mapping[str, Any] | None = None,
        link: Mapping[str, Any] | None = None,
        jobs: Sequence[Mapping[str, Any]] = (),
        feedback: FeedbackRecord | None = None,
    ) -> bool:
        """Record one event and what it leads to, in one transaction; False (and nothing
        written) when its key is already stored: a redelivery.

        Parameters
        ----------
        prediction
            A prediction row to insert (a ticket triaged now).
        link
            The :class:`ConnectorTicketRow` columns to insert or replace.
        jobs
            Outbox rows to add: ``kind`` and ``requests`` each.
        feedback
            An agent's correction, for the prediction of ``link``.

        Raises
        ------
        StoreUnavailable, RecordRejected
            The database cannot take it now / refuses it (nothing is stored).
        """
        store, now = self.store, _now()
        store.ensure_schema()
        try:
            with store.engine.begin() as connection:
                event = (
                    store.insert_statement(ConnectorEventRow)
                    .values(
                        key=key,
                        desk=desk,
                        external_id=external_id,
                        outcome=outcome,
                        received_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["key"])
                    .returning(ConnectorEventRow.__table__.c.key)
                )
                if connection.execute(event).first() is None:
                    return False
                if prediction is not None:
                    rows = store.insert_statement(PredictionRow).on_conflict_do_nothing(
                        index_elements=["id"]
                    )
                    connection.execute(rows, [dict(prediction)])
                if link is not None:
                    values = {"desk": desk, "external_id": external_id, **link, "updated_at": now}
                    statement = store.insert_statement(ConnectorTicketRow).values(**values)
                    connection.execute(
                        statement.on_conflict_do_update(
                            index_elements=["desk", "external_id"],
                            set_={
                                k: v for k, v in values.items() if k not in ("desk", "external_id")
                            },
                        )
                    )
                for job in jobs:
                    connection.execute(
                        OutboxRow.__table__.insert().values(
                            desk=desk,
                            external_id=external_id,
                            prediction_id=job["prediction_id"],
                            kind=job["kind"],
                            requests=job["requests"],
                            status="pending",
                            attempts=0,
                            next_attempt_at=now,
                            created_at=now,
                        )
                    )
                if feedback is not None:
                    connection.execute(
                        store.insert_statement(FeedbackRow)
                        .values(**store.feedback_values(feedback))
                        .on_conflict_do_nothing(index_elements=["fingerprint"])
                    )
        except SQLAlchemyError as exc:
            raise failure(exc) from exc
        return True

    def link(self, desk: str, external_id: str) -> TicketLink | None:
        """The ticket's link to its prediction, if we triaged it."""
        table = ConnectorTicketRow.__table__
        query = select(table).where(table.c.desk == desk, table.c.external_id == external_id)
        try:
            with self.store.engine.connect() as connection:
                row = connection.execute(query).mappings().first()
        except SQLAlchemyError as exc:
            raise failure(exc) from exc
        if row is None:
            return None
        return TicketLink(
            row["desk"], row["external_id"], row["prediction_id"], row["written"] or {},
            bool(row["applied"]), bool(row["corrected"]), row["target"] or {},
            row["original"] or {},
        )  # fmt: skip

    # -- the worker's side -----------------------------------------------------------------------

    def claim(self, limit: int = 20, lease_seconds: float = 60.0) -> list[Job]:
        """Up to ``limit`` due rows, leased to the caller for ``lease_seconds``: pending ones
        whose time has come, and ``sending`` ones whose lease expired (their worker died)."""
        table, now = OutboxRow.__table__, _now()
        due = or_(
            and_(table.c.status == "pending", table.c.next_attempt_at <= now),
            and_(table.c.status == "sending", table.c.lease_until < now),
        )
        query = select(table).where(due).order_by(table.c.next_attempt_at, table.c.id).limit(limit)
        lease = now + timedelta(seconds=lease_seconds)
        claimed = []
        try:
            with self.store.engine.begin() as connection:
                for row in connection.execute(query).mappings().all():
                    won = connection.execute(
                        update(table)
                        .where(table.c.id == row["id"], table.c.status == row["status"])
                        .where(
                            or_(
                                table.c.lease_until.is_(None),
                                table.c.lease_until == row["lease_until"],
                            )
                        )
                        .values(status="sending", lease_until=lease)
                    )
                    if won.rowcount == 1:
                        claimed.append(
                            Job(
                                row["id"],
                                row["desk"],
                                row["external_id"],
                                row["prediction_id"],
                                row["kind"],
                                row["requests"],
                                row["attempts"],
                                _utc(row["created_at"]),
                            )
                        )
        except SQLAlchemyError as exc:
            raise failure(exc) from exc
        return claimed

    def finish(
        self,
        job: Job,
        status: str,
        *,
        error: str | None = None,
        retry_at: datetime | None = None,
        counted: bool = True,
        applied: bool = False,
    ) -> None:
        """Record how an attempt went: a final state, or ``pending`` again at ``retry_at``
        (``counted``: a failed attempt; False for a rate-limit wait). ``applied``: the ticket's
        link says the write-back is in the desk, in the same transaction, so a crash in between
        cannot leave a done write-back whose ticket waits for it forever."""
        if status not in STATES:
            raise ValueError(f"unknown outbox state {status!r}")
        table, now = OutboxRow.__table__, _now()
        values: dict[str, Any] = {"status": status, "lease_until": None, "last_error": error}
        if counted and status != "done":
            values["attempts"] = job.attempts + 1
        if status == "pending":
            values["next_attempt_at"] = retry_at or now
        else:
            values["finished_at"] = now
        links = ConnectorTicketRow.__table__
        try:
            with self.store.engine.begin() as connection:
                connection.execute(update(table).where(table.c.id == job.id).values(**values))
                if applied:
                    connection.execute(
                        update(links)
                        .where(links.c.desk == job.desk, links.c.external_id == job.external_id)
                        .values(applied=True, updated_at=now)
                    )
        except SQLAlchemyError as exc:
            raise failure(exc) from exc

    def record_feedback(self, record: FeedbackRecord, desk: str, external_id: str) -> None:
        """An agent's correction found by a check: stored, and the ticket marked corrected."""
        store = self.store
        table = ConnectorTicketRow.__table__
        try:
            with store.engine.begin() as connection:
                connection.execute(
                    store.insert_statement(FeedbackRow)
                    .values(**store.feedback_values(record))
                    .on_conflict_do_nothing(index_elements=["fingerprint"])
                )
                connection.execute(
                    update(table)
                    .where(table.c.desk == desk, table.c.external_id == external_id)
                    .values(corrected=True, updated_at=_now())
                )
        except SQLAlchemyError as exc:
            raise failure(exc) from exc

    # -- what people look at ---------------------------------------------------------------------

    def counts(self) -> dict[str, dict[str, int]]:
        """Per desk, outbox rows per state."""
        table = OutboxRow.__table__
        query = select(table.c.desk, table.c.status, func.count()).group_by(
            table.c.desk, table.c.status
        )
        found: dict[str, dict[str, int]] = {}
        try:
            with self.store.engine.connect() as connection:
                for desk, status, n in connection.execute(query):
                    found.setdefault(desk, dict.fromkeys(STATES, 0))[status] = int(n)
        except SQLAlchemyError as exc:
            raise failure(exc) from exc
        return found

    def rows(
        self, status: str | None = None, desk: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Outbox rows (newest first), optionally of one state and desk: the dead letters to
        show, say."""
        table = OutboxRow.__table__
        query = select(table).order_by(table.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(table.c.status == status)
        if desk is not None:
            query = query.where(table.c.desk == desk)
        try:
            with self.store.engine.connect() as connection:
                return [dict(row) for row in connection.execute(query).mappings()]
        except SQLAlchemyError as exc:
            raise failure(exc) from exc

    def retry(self, *, ids: Sequence[int] = (), desk: str | None = None) -> int:
        """Send dead (or superseded) rows again: those of ``ids``, or every dead one (of
        ``desk``); returns how many were reset. Attempts start again from zero."""
        table = OutboxRow.__table__
        statement = update(table).values(
            status="pending", attempts=0, next_attempt_at=_now(), lease_until=None,
            finished_at=None,
        )  # fmt: skip
        if ids:
            statement = statement.where(
                table.c.id.in_(list(ids)), table.c.status.in_(["dead", "superseded"])
            )
        else:
            statement = statement.where(table.c.status == "dead")
        if desk is not None:
            statement = statement.where(table.c.desk == desk)
        return self._execute(statement)

    def _execute(self, statement: Any) -> int:
        try:
            with self.store.engine.begin() as connection:
                return int(connection.execute(statement).rowcount)
        except SQLAlchemyError as exc:
            raise failure(exc) from exc
