"""The help-desk connectors' three tables (see :mod:`ticket_triage.production.outbox`), declared on
the store's :class:`~ticket_triage.production.store.Base` so Alembic's metadata has them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ticket_triage.production.store import Base

__all__ = ["STATES", "ConnectorEventRow", "ConnectorTicketRow", "OutboxRow"]

#: The states of an outbox row; the last three are final.
STATES = ("pending", "sending", "done", "superseded", "dead")


class ConnectorEventRow(Base):
    """A help-desk event we accepted (or recognised and ignored): its key, for redeliveries."""

    __tablename__ = "connector_events"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    desk: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ConnectorTicketRow(Base):
    """A help-desk ticket we triaged, and what we wrote to it."""

    __tablename__ = "connector_tickets"

    desk: Mapped[str] = mapped_column(String(16), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    prediction_id: Mapped[str] = mapped_column(String(32), ForeignKey("predictions.id"))
    written: Mapped[dict[str, Any]] = mapped_column(JSON)
    applied: Mapped[bool] = mapped_column(Boolean)
    corrected: Mapped[bool] = mapped_column(Boolean)
    target: Mapped[dict[str, Any]] = mapped_column(JSON)
    original: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboxRow(Base):
    """A write-back (``update``) or a read of the ticket's state (``check``) to do."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    desk: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(200))
    prediction_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    requests: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
