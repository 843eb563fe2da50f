"""The prediction store and its writer against SQLite and a real PostgreSQL server (issue 4):
idempotent writes, durable feedback, and nothing lost or written twice while the database is
down."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import column, insert, table

from ticket_triage.core.errors import StoreUnavailable, UnknownPrediction
from ticket_triage.production.recorder import Recorder
from ticket_triage.production.records import new_id
from ticket_triage.production.store import FeedbackRecord, FeedbackRow, PredictionRow, Store


@pytest.fixture
def open_store(database_url: str) -> Iterator[Callable[..., Store]]:
    """Opens stores on the test's database and closes them all at the end."""
    opened: list[Store] = []

    def make(cls: type[Store] = Store, **kwargs: Any) -> Store:
        store = cls(Store.open(database_url, **kwargs).engine)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def prediction(**overrides: Any) -> dict[str, Any]:
    row = {
        "id": new_id(),
        "created_at": datetime.now(UTC),
        "model_version": "v1",
        "urgency": "high",
        "urgency_confidence": 0.9,
        "topic": "billing",
        "topic_confidence": 0.8,
        "probabilities": {"urgency": {"high": 0.9, "low": 0.1}},
        "queue": "priority",
        "queue_rule": "priority",
        "needs_review": False,
        "latency_ms": 0.05,
        "unseen_share": 0.1,
        "metadata": {"plan": "pro"},
        "subject": "Payment failed",
        "body": "card [CARD] declined",
    }
    row.update(overrides)
    return row


def feedback(prediction_id: str, **labels: str | None) -> FeedbackRecord:
    return FeedbackRecord(
        prediction_id=prediction_id,
        urgency=labels.get("urgency"),
        topic=labels.get("topic"),
        queue=labels.get("queue"),
        agent=labels.get("agent", "agent-7"),
        created_at=datetime.now(UTC),
    )


def test_writes_are_idempotent(open_store) -> None:
    store = open_store()
    rows = [prediction() for _ in range(3)]
    store.add_predictions(rows)
    store.add_predictions(rows)  # a retried batch
    assert store.count(PredictionRow) == 3
    stored = {row["id"]: row for row in store.predictions()}
    assert stored[rows[0]["id"]]["metadata"] == {"plan": "pro"}
    assert stored[rows[0]["id"]]["probabilities"]["urgency"]["high"] == 0.9


def test_feedback_is_stored_once_and_needs_a_known_prediction(open_store) -> None:
    store = open_store()
    row = prediction()
    store.add_predictions([row])
    assert store.add_feedback(feedback(row["id"], urgency="normal")) is True
    assert store.add_feedback(feedback(row["id"], urgency="normal")) is False
    assert store.add_feedback(feedback(row["id"], urgency="low")) is True  # a later correction
    assert store.count(FeedbackRow) == 2
    with pytest.raises(UnknownPrediction):
        store.add_feedback(feedback("f" * 32, topic="bug"))
    joined = store.feedback()
    assert len(joined) == 1
    assert joined[0]["final_urgency"] == "low"  # the latest feedback wins
    assert joined[0]["urgency"] == "high"


def test_migrations_are_applied_once(open_store) -> None:
    open_store()
    assert open_store().count(PredictionRow) == 0  # already at head: nothing to do


def test_upgrade_keeps_older_rows_as_live_and_unaudited(database_url: str) -> None:
    # GIVEN a prediction log at revision 0002 (before roles and the audit sample) with a row
    from alembic import command
    from alembic.config import Config

    from ticket_triage.production.store import MIGRATIONS

    old = Store.open(database_url, migrate=False)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with old.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        row = prediction()
        row |= {key: json.dumps(row[key]) for key in ("probabilities", "metadata")}
        old_table = table("predictions", *(column(key) for key in row))  # the 0002 columns only
        connection.execute(insert(old_table), row)
    old.close()
    # WHEN the store opens (and migrates to the newest revision)
    store = Store.open(database_url)
    # THEN the old row answered as the live version and was not drawn for an audit
    (stored,) = store.predictions()
    store.close()
    assert stored["role"] == "live"
    assert stored["served_id"] is None
    assert stored["needs_audit"] is False
    assert stored["audit_probability"] is None


def test_recorder_batches_off_the_request_path(open_store, tmp_path: Path) -> None:
    store = open_store()
    recorder = Recorder(store, tmp_path / "spool.jsonl", interval=0.05).start()
    rows = [prediction() for _ in range(1200)]
    for row in rows:
        recorder.record(row)
    recorder.close()
    assert store.count(PredictionRow) == 1200
    assert not (tmp_path / "spool.jsonl").exists()


def test_flush_writes_a_pending_prediction_now(open_store, tmp_path: Path) -> None:
    store = open_store()
    recorder = Recorder(store, tmp_path / "spool.jsonl", interval=60).start()
    row = prediction()
    recorder.record(row)
    assert recorder.is_pending(row["id"])
    recorder.flush()
    assert store.has_prediction(row["id"])
    assert not recorder.is_pending(row["id"])
    recorder.close()


class FlakyStore(Store):
    """A real store whose database can be switched off, as if the server stopped."""

    down = False

    def add_predictions(self, rows):  # type: ignore[no-untyped-def]
        if self.down:
            raise StoreUnavailable("connection refused (simulated)")
        super().add_predictions(rows)


def test_database_down_spools_then_flushes_once(open_store, tmp_path: Path, wait_until) -> None:
    # GIVEN a recorder whose database goes down
    store = open_store(FlakyStore)
    spool = tmp_path / "spool.jsonl"
    recorder = Recorder(store, spool, interval=0.02, retry_seconds=0.1).start()
    before = [prediction() for _ in range(50)]
    for row in before:
        recorder.record(row)
    wait_until(lambda: store.count(PredictionRow) == 50)
    store.down = True
    # WHEN records keep coming while it is down
    during = [prediction() for _ in range(120)]
    for row in during:
        recorder.record(row)
    wait_until(spool.exists)
    wait_until(lambda: not any(recorder.is_pending(r["id"]) for r in during))
    assert store.count(PredictionRow) == 50
    # THEN they wait in the spool, and reach the database exactly once when it is back
    store.down = False
    after = [prediction() for _ in range(30)]
    for row in after:
        recorder.record(row)
    wait_until(lambda: store.count(PredictionRow) == 200)
    recorder.close()
    assert not spool.exists()
    assert store.count(PredictionRow) == 200
    ids = {row["id"] for row in store.predictions()}
    assert ids == {row["id"] for row in before + during + after}


def test_close_while_down_keeps_everything_in_the_spool(open_store, tmp_path: Path):
    store = open_store(FlakyStore)
    store.down = True
    spool = tmp_path / "spool.jsonl"
    recorder = Recorder(store, spool, interval=10).start()
    rows = [prediction() for _ in range(25)]
    for row in rows:
        recorder.record(row)
    recorder.close()
    assert len(spool.read_text().splitlines()) == 25
    # a later process (the database back) flushes the spool it finds
    store.down = False
    Recorder(store, spool).flush()
    assert store.count(PredictionRow) == 25
    assert not spool.exists()


def test_a_corrupt_spool_line_is_kept_aside(open_store, tmp_path: Path) -> None:
    store = open_store()
    spool = tmp_path / "spool.jsonl"
    recorder = Recorder(store, spool)
    recorder._to_spool([prediction()])
    with spool.open("a") as handle:
        handle.write('{"id": "cut short by a cra')
    recorder.flush()
    assert store.count(PredictionRow) == 1
    assert "cut short" in recorder.corrupt_path.read_text()
    assert not spool.exists()


def test_concurrent_records_and_flushes_lose_nothing(open_store, tmp_path: Path) -> None:
    store = open_store()
    recorder = Recorder(store, tmp_path / "spool.jsonl", interval=0.01).start()
    rows = [prediction() for _ in range(400)]

    def produce(part: list[dict[str, Any]]) -> None:
        for index, row in enumerate(part):
            recorder.record(row)
            if index % 50 == 0:
                recorder.flush()

    threads = [threading.Thread(target=produce, args=(rows[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recorder.close()
    assert store.count(PredictionRow) == 400


def test_unreachable_database_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    store = Store.open("postgresql+psycopg://nobody:secret@127.0.0.1:1/none", migrate=False)
    with pytest.raises(StoreUnavailable):
        store.add_predictions([prediction()])
    assert "secret" not in store.url
    store.close()
