"""The prediction log and agents' feedback (SQLAlchemy 2; SQLite by default, PostgreSQL in
production), the data monitoring, re-tuning and the next training run learn from.

Two tables, created and upgraded by Alembic migrations (``ticket_triage/migrations``) when a
:class:`Store` opens:

- ``predictions``: one row per decision, keyed by the decision ``id``: time, model version, per
  head label, confidence and probabilities, queue and rule, ``needs_review``, latency, the share
  of the ticket's hashed features the model never saw in training (input drift), metadata, and
  the subject and body **redacted** (``TRIAGE_STORE_TEXT=redacted``, see
  :mod:`ticket_triage.production.redact`) or not at all (``none``); the ``role`` of the version
  that made it (``live``, ``canary``, or ``shadow`` with ``served_id`` naming the decision that
  was returned), and whether it was drawn for an audit (``needs_audit``, ``audit_probability``).
- ``feedback``: an agent's final urgency / topic / queue for a prediction, who and when. A
  fingerprint of (prediction, labels, agent) is unique, so the same feedback sent twice is
  stored once.

Every write is idempotent (``INSERT ... ON CONFLICT DO NOTHING``): a batch retried after a
failure, or a spooled record flushed twice, never makes a duplicate.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    false,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ticket_triage.core.errors import (
    ConfigError,
    RecordRejected,
    StoreUnavailable,
    UnknownPrediction,
)

__all__ = [
    "Base",
    "FeedbackRecord",
    "FeedbackRow",
    "PredictionRow",
    "Store",
    "failure",
]

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""


class PredictionRow(Base):
    """One triage decision."""

    __tablename__ = "predictions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    model_version: Mapped[str] = mapped_column(String(64), index=True)
    urgency: Mapped[str | None] = mapped_column(String(64))
    urgency_confidence: Mapped[float | None] = mapped_column(Float)
    topic: Mapped[str | None] = mapped_column(String(64))
    topic_confidence: Mapped[float | None] = mapped_column(Float)
    probabilities: Mapped[dict[str, dict[str, float]]] = mapped_column(JSON)
    queue: Mapped[str] = mapped_column(String(128), index=True)
    queue_rule: Mapped[str] = mapped_column(String(128))
    needs_review: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[float] = mapped_column(Float)
    unseen_share: Mapped[float] = mapped_column(Float)
    meta: Mapped[dict[str, str]] = mapped_column("metadata", JSON)
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16), index=True, server_default="live")
    served_id: Mapped[str | None] = mapped_column(String(32), index=True)
    needs_audit: Mapped[bool] = mapped_column(Boolean, server_default=false())
    audit_probability: Mapped[float | None] = mapped_column(Float)


class FeedbackRow(Base):
    """An agent's final labels for one prediction."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    prediction_id: Mapped[str] = mapped_column(String(32), ForeignKey("predictions.id"), index=True)
    urgency: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(128))
    agent: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)


@dataclass(frozen=True)
class FeedbackRecord:
    """Feedback as received, before it is stored."""

    prediction_id: str
    urgency: str | None
    topic: str | None
    queue: str | None
    agent: str | None
    created_at: datetime

    @property
    def fingerprint(self) -> str:
        """Same prediction, same labels, same agent: the same feedback."""
        parts = (self.prediction_id, self.urgency, self.topic, self.queue, self.agent)
        return hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()


def _write_ahead_log(connection: Any, _record: Any) -> None:
    """SQLite in WAL mode: a commit is one append and one fsync instead of the rollback
    journal's several (on this machine 2 ms instead of 14 ms), equally durable (``synchronous``
    stays FULL), and readers no longer wait for the writer. The outbox commits three times per
    help-desk ticket, so this is what lets one SQLite file keep up with 50 webhooks/s."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class Store:
    """A database holding the prediction log and feedback; see the module docstring."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._migrated = False

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect to ``url`` (``sqlite:///triage.db``, ``postgresql+psycopg://...``) and bring
        the schema up to date.

        Raises
        ------
        ConfigError
            The URL is malformed or names a driver that is not installed.
        StoreUnavailable
            The database cannot be reached or migrated now.
        """
        try:
            engine = create_engine(url, pool_pre_ping=True)
        except (ArgumentError, ImportError) as exc:
            raise ConfigError(f"TRIAGE_DATABASE_URL: cannot use {_safe(url)}: {exc}") from exc
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            event.listen(engine, "connect", _write_ahead_log)
        store = cls(engine)
        if migrate:
            store.migrate()
        return store

    def close(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()

    @property
    def url(self) -> str:
        """The database URL without its password."""
        return _safe(str(self.engine.url))

    def migrate(self) -> None:
        """Apply the Alembic migrations up to the newest (a no-op when already there); one log
        line when the schema changed (Alembic's own lines are silenced by the entry points)."""
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as connection:
                before = MigrationContext.configure(connection).get_current_revision()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                after = MigrationContext.configure(connection).get_current_revision()
        except SQLAlchemyError as exc:
            raise StoreUnavailable(
                f"cannot migrate {_safe(str(self.engine.url))}: {str(exc).splitlines()[0]}"
            ) from exc
        if before != after:
            logger.info(
                "prediction log schema upgraded",
                extra={"store": self.url, "from_revision": before, "to_revision": after},
            )
        self._migrated = True

    def ensure_schema(self) -> None:
        """Migrate on first use if the database was down when the store opened."""
        if not self._migrated:
            self.migrate()

    def add_predictions(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert prediction records; ids already stored are skipped, so retries are safe.

        Raises
        ------
        StoreUnavailable
            The database cannot be reached (retry later).
        RecordRejected
            The database refuses these rows (a bug, not an outage: retrying cannot help).
        """
        if not rows:
            return
        self.ensure_schema()
        statement = self.insert_statement(PredictionRow).on_conflict_do_nothing(
            index_elements=["id"]
        )
        try:
            with self.engine.begin() as connection:
                connection.execute(statement, [dict(row) for row in rows])
        except SQLAlchemyError as exc:
            raise failure(exc) from exc

    def add_feedback(self, record: FeedbackRecord) -> bool:
        """Store feedback durably (committed before returning); False if it was already there.

        Raises
        ------
        UnknownPrediction
            No prediction has this id.
        StoreUnavailable
            The database cannot take the write now.
        """
        values = self.feedback_values(record)
        statement = (
            self.insert_statement(FeedbackRow)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["fingerprint"])
            .returning(FeedbackRow.__table__.c.id)  # a row back only if it was inserted
        )
        self.ensure_schema()
        try:
            with self.engine.begin() as connection:
                known = connection.scalar(
                    select(PredictionRow.id).where(PredictionRow.id == record.prediction_id)
                )
                if known is None:
                    raise UnknownPrediction(record.prediction_id)
                return connection.execute(statement).first() is not None
        except SQLAlchemyError as exc:
            raise failure(exc) from exc

    @staticmethod
    def feedback_values(record: FeedbackRecord) -> dict[str, Any]:
        """The ``feedback`` columns of a record (the outbox stores help-desk feedback too)."""
        return {
            "prediction_id": record.prediction_id,
            "urgency": record.urgency,
            "topic": record.topic,
            "queue": record.queue,
            "agent": record.agent,
            "created_at": record.created_at,
            "fingerprint": record.fingerprint,
        }

    def has_prediction(self, prediction_id: str) -> bool:
        """Whether a prediction with this id is stored."""
        with self.engine.connect() as connection:
            found = connection.scalar(
                select(PredictionRow.id).where(PredictionRow.id == prediction_id)
            )
        return found is not None

    def count(self, table: type[Base]) -> int:
        """Rows in a table (tests and the soak benchmark compare it with requests sent)."""
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(table)) or 0)

    def predictions(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Prediction rows as dicts (oldest first), optionally from ``since`` on."""
        table = PredictionRow.__table__
        query = select(table).order_by(table.c.created_at)
        if since is not None:
            query = query.where(table.c.created_at >= since)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def feedback(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Predictions that have feedback, as dicts: the prediction's columns, then the agent's
        final labels as ``final_urgency``, ``final_topic``, ``final_queue`` (the latest
        feedback per prediction wins), ``agent`` and ``feedback_at``."""
        predictions, feedback = PredictionRow.__table__, FeedbackRow.__table__
        query = (
            select(
                predictions,
                feedback.c.urgency.label("final_urgency"),
                feedback.c.topic.label("final_topic"),
                feedback.c.queue.label("final_queue"),
                feedback.c.agent,
                feedback.c.created_at.label("feedback_at"),
            )
            .join(feedback, feedback.c.prediction_id == predictions.c.id)
            .order_by(feedback.c.created_at, feedback.c.id)
        )
        if since is not None:
            query = query.where(predictions.c.created_at >= since)
        with self.engine.connect() as connection:
            latest = {row["id"]: dict(row) for row in connection.execute(query).mappings()}
        return list(latest.values())

    def corrected_tickets(self, since: datetime | None = None) -> tuple[list[dict[str, Any]], int]:
        """Tickets an agent corrected or confirmed, as rows of the data contract (``subject``,
        ``body``, ``urgency``, ``topic``, metadata columns, and the prediction ``id``), and how
        many were left out because their text was not stored (``TRIAGE_STORE_TEXT=none``).

        Only the agent's labels are used: a head the agent did not label is left empty (the
        next training ignores the row for that head), never filled with the model's own guess.
        """
        reserved = {"id", "subject", "body", "urgency", "topic"}
        rows, no_text = [], 0
        for row in self.feedback(since):
            urgency, topic = row["final_urgency"] or "", row["final_topic"] or ""
            if not (urgency or topic):
                continue  # only the queue was corrected: no label to learn from
            if row["subject"] is None and row["body"] is None:
                no_text += 1
                continue
            metadata = {k: v for k, v in (row["metadata"] or {}).items() if k not in reserved}
            rows.append(
                {
                    "id": row["id"],
                    "subject": row["subject"] or "",
                    "body": row["body"] or "",
                    "urgency": urgency,
                    "topic": topic,
                    **metadata,
                }
            )
        return rows, no_text

    def insert_statement(self, table: type[Base]) -> Any:
        """An INSERT of this dialect (SQLite or PostgreSQL), so ``on_conflict_do_nothing`` is
        available: every write of the store is idempotent."""
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            return postgresql.insert(table)
        if dialect == "sqlite":
            return sqlite.insert(table)
        raise ConfigError(f"TRIAGE_DATABASE_URL: {dialect} is not supported (SQLite, PostgreSQL)")


def failure(exc: SQLAlchemyError) -> Exception:
    """Unavailable (retry later) for connection trouble; rejected for a record the database
    will never take (retrying that would loop forever)."""
    if isinstance(exc, OperationalError | InterfaceError) or getattr(
        exc, "connection_invalidated", False
    ):
        return StoreUnavailable(str(exc).splitlines()[0])
    return RecordRejected(str(exc).splitlines()[0])


def _safe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"
