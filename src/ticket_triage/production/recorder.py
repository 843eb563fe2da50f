"""Write prediction records off the request path, and never lose one when the database is down.

Triage answers first; :meth:`Recorder.record` only puts the record on a bounded in-process queue.
A writer thread takes up to ``batch`` records at a time and inserts them in one transaction.
When the database cannot take them, the batch is appended to a local spool file (JSON lines,
fsync'ed) and the writer retries every ``retry_seconds``; once the database answers, the spool
is flushed and removed. Inserts skip ids already stored, so a batch that is spooled after a
half-done write, or a spool flushed twice, never duplicates a record. If the queue is full (the
database slower than the traffic), records go straight to the spool instead of blocking triage.

Shutdown (:meth:`Recorder.close`, from the app's lifespan on SIGTERM) drains the queue to the
database, or to the spool if it is down, so nothing accepted is lost.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ticket_triage.core.errors import RecordRejected, StoreUnavailable

if TYPE_CHECKING:  # SQLAlchemy is imported only when a database is configured
    from ticket_triage.production.store import Store

__all__ = ["Recorder"]

logger = logging.getLogger(__name__)


class Recorder:
    """The prediction writer of one process; see the module docstring."""

    def __init__(
        self,
        store: Store,
        spool: Path,
        *,
        background: bool = True,
        max_queue: int = 10_000,
        batch: int = 500,
        interval: float = 0.2,
        retry_seconds: float = 5.0,
    ) -> None:
        self.store = store
        self.spool = spool
        self.background = background
        self.batch = batch
        self.interval = interval
        self.retry_seconds = retry_seconds
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(max_queue)  # None: stop
        self._pending: set[str] = set()  # queued or being written, not yet committed
        self._write = threading.Lock()  # one writer at a time: the thread, flush() or close()
        self._spool_lock = threading.Lock()
        self._stop = threading.Event()
        self._hurry = threading.Event()
        self._next_retry = 0.0
        self.database_up = True
        self._thread = threading.Thread(target=self._run, name="triage-recorder", daemon=True)

    @property
    def corrupt_path(self) -> Path:
        """Where records that cannot be read or stored are kept for a person to look at."""
        return self.spool.with_name(self.spool.name + ".corrupt")

    def start(self) -> Recorder:
        """Start the writer thread; flushes a spool left by an earlier run first."""
        self._thread.start()
        return self

    def record(self, row: dict[str, Any]) -> None:
        """Queue one prediction record; never blocks and never raises for the database. Without
        a background writer (Lambda) the record is written (or spooled) here and now."""
        if not self.background:
            with self._write:
                self._retry_spool()
                self._write_or_spool([row])
            return
        self._pending.add(row["id"])
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self._to_spool([row])

    def is_pending(self, prediction_id: str) -> bool:
        """Whether a record is accepted but not yet committed to the database."""
        return prediction_id in self._pending

    def flush(self, timeout: float = 10.0) -> None:
        """Write everything accepted so far, now (feedback that arrives right after its
        prediction uses this): the queue is drained in the caller's thread, and a batch the
        writer thread already holds is waited for. Raises StoreUnavailable if the database is
        down."""
        waiting_for = set(self._pending)
        self._hurry.set()  # the writer stops gathering its batch and writes it at once
        with self._write:
            self._flush_spool()
            while rows := self._take(block=False):
                self._insert(rows)
        deadline = time.monotonic() + timeout
        while waiting_for & self._pending and time.monotonic() < deadline:
            time.sleep(0.002)
        self._hurry.clear()
        if waiting_for & self._pending and not self.database_up:
            raise StoreUnavailable("the database is unavailable; records are spooling")

    def close(self, timeout: float = 30.0) -> None:
        """Stop the writer and drain every accepted record to the database or the spool."""
        self._stop.set()
        if self._thread.is_alive():
            with contextlib.suppress(queue.Full):  # a full queue means the thread is awake
                self._queue.put_nowait(None)
            self._thread.join(timeout)
        with self._write:
            while rows := self._take(block=False):
                self._write_or_spool(rows)
        self.store.close()

    # -- the writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            rows = self._take(block=True)
            with self._write:
                self._retry_spool()
                if rows:
                    self._write_or_spool(rows)

    def _retry_spool(self) -> None:
        if self.spool.exists() and time.monotonic() >= self._next_retry:
            try:
                self._flush_spool()
            except StoreUnavailable:
                self._next_retry = time.monotonic() + self.retry_seconds

    def _take(self, *, block: bool) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.interval
        while len(rows) < self.batch:
            try:
                if block and not rows:
                    item = self._queue.get(timeout=self.interval)
                else:
                    item = self._queue.get_nowait()
            except queue.Empty:
                if not block or not rows or time.monotonic() >= deadline or self._hurry.is_set():
                    break
                time.sleep(0.005)
                continue
            if item is None:  # close() wakes the thread
                break
            rows.append(item)
        return rows

    def _write_or_spool(self, rows: list[dict[str, Any]]) -> None:
        if self.spool.exists() or time.monotonic() < self._next_retry:
            self._to_spool(rows)  # keep the order: older spooled records go in first
            return
        try:
            self._insert(rows)
        except StoreUnavailable as exc:
            logger.warning(
                "database unavailable; spooling %d records", len(rows), extra={"error": str(exc)}
            )
            self._next_retry = time.monotonic() + self.retry_seconds
            self._to_spool(rows)
        except RecordRejected as exc:
            self._set_aside(rows, str(exc))

    def _insert(self, rows: Sequence[Mapping[str, Any]]) -> None:
        try:
            self.store.add_predictions(rows)
        except StoreUnavailable:
            self.database_up = False
            raise
        self.database_up = True
        self._pending.difference_update(row["id"] for row in rows)

    # -- the spool -----------------------------------------------------------------------------

    def _to_spool(self, rows: Sequence[Mapping[str, Any]]) -> None:
        lines = "".join(json.dumps(row, default=_iso, ensure_ascii=False) + "\n" for row in rows)
        try:
            with self._spool_lock:
                self.spool.parent.mkdir(parents=True, exist_ok=True)
                with self.spool.open("a", encoding="utf-8") as handle:
                    handle.write(lines)
                    handle.flush()
                    os.fsync(handle.fileno())
        except OSError as exc:  # the last resort failed too: say exactly what is lost
            logger.error(
                "cannot spool %d prediction records: %s",
                len(rows),
                exc,
                extra={"lost_ids": [row["id"] for row in rows]},
            )
        self._pending.difference_update(row["id"] for row in rows)

    def _flush_spool(self) -> None:
        """Insert the spool's records in batches, then remove it (raises if the database is
        down; the spool stays as it was)."""
        with self._spool_lock:
            if not self.spool.exists():
                return
            with self.spool.open(encoding="utf-8") as handle:
                lines = handle.readlines()
        rows, corrupt = [], []
        for line in lines:
            try:
                rows.append(_from_json(line))
            except (ValueError, KeyError):  # a line cut short by a crash mid-write
                corrupt.append(line)
        if corrupt:
            logger.error("%d unreadable spool lines kept in %s", len(corrupt), self.corrupt_path)
            with self.corrupt_path.open("a", encoding="utf-8") as handle:
                handle.writelines(line if line.endswith("\n") else line + "\n" for line in corrupt)
        for start in range(0, len(rows), self.batch):
            chunk = rows[start : start + self.batch]
            try:
                self._insert(chunk)
            except RecordRejected as exc:
                self._set_aside(chunk, str(exc))
        with self._spool_lock:
            # Records spooled while we were inserting were appended after what we read.
            with self.spool.open(encoding="utf-8") as handle:
                rest = handle.readlines()[len(lines) :]
            if rest:
                tmp = self.spool.with_suffix(".tmp")
                tmp.write_text("".join(rest), encoding="utf-8")
                tmp.replace(self.spool)
            else:
                self.spool.unlink()
        logger.info("flushed %d spooled records", len(rows))
        self._pending.difference_update(row["id"] for row in rows)

    def _set_aside(self, rows: Sequence[Mapping[str, Any]], reason: str) -> None:
        """Keep records the database refuses for good beside the spool, for a person."""
        logger.error("database refused %d records: %s", len(rows), reason)
        lines = "".join(json.dumps(row, default=_iso, ensure_ascii=False) + "\n" for row in rows)
        with self._spool_lock, self.corrupt_path.open("a", encoding="utf-8") as handle:
            handle.write(lines)
        self._pending.difference_update(row["id"] for row in rows)


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot spool {type(value).__name__}")


def _from_json(line: str) -> dict[str, Any]:
    row: dict[str, Any] = json.loads(line)
    row["created_at"] = datetime.fromisoformat(row["created_at"])
    return row
