"""``triage connectors import``: a help desk's history as a training file, resumable.

The path from "we have a help desk" to "we have a model" in two commands::

    triage connectors import zendesk --config connectors.toml --out history.csv
    triage train history.csv --out models/ours

Tickets come through the desk's own paged API (:meth:`HelpDesk.pages`), rate limits waited out,
and are written as CSV in the data contract (``id, subject, body, urgency, topic, channel``),
their labels read from the desk's priority, group and tags through ``connectors.toml``
(an empty label: the ticket says nothing about that head; training ignores it there).

Resumable: after each page the rows are flushed to the file, then the next page's cursor and the
file's length are written to ``OUT.state.json`` (atomically). Run the same command again after a
crash and the file is cut back to that length (dropping a page half written, or a row cut short)
and the import continues from that cursor; tickets the file already has are skipped (a desk's
pages may overlap). A finished import leaves ``"done": true`` there; delete the state file (and
the output) to start over.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ticket_triage.connectors.desk import HelpDesk
from ticket_triage.connectors.http import Sender
from ticket_triage.core.errors import DataError

__all__ = ["COLUMNS", "ImportResult", "import_history"]

#: The columns of the file written (the data contract's, plus the desk's ticket id).
COLUMNS = ("id", "subject", "body", "urgency", "topic", "channel")


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote."""

    out: Path
    written: int
    skipped: int
    labelled: dict[str, int]
    resumed: bool
    pages: int


def _state_path(out: Path) -> Path:
    return out.with_name(out.name + ".state.json")


def import_history(
    desk: HelpDesk,
    sender: Sender,
    out: Path,
    *,
    since: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Write ``desk``'s tickets (from ``since``, an ISO date, on) to ``out``, resuming a previous
    run of the same import when ``OUT.state.json`` says where it stopped.

    Raises
    ------
    DataError
        ``out`` exists without a state file (it is not ours to append to), or the state file
        belongs to another desk or another ``since``.
    HelpDeskError
        The desk refused or kept failing (what was written so far stays, with its cursor).
    """
    state_file = _state_path(out)
    state = _read_state(state_file, out, desk.name, since)
    if state.get("done"):
        return ImportResult(out, 0, 0, {}, resumed=True, pages=0)
    if out.exists():
        with out.open("r+b") as handle:
            handle.truncate(int(state.get("bytes", 0)))  # what the last committed page left
    seen = _ids_in(out) if out.exists() else set()
    resumed = bool(seen) or state.get("cursor") is not None
    out.parent.mkdir(parents=True, exist_ok=True)
    written = skipped = pages = 0
    labelled = {"urgency": 0, "topic": 0}
    with out.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        if handle.tell() == 0:
            writer.writeheader()
            handle.flush()
            _write_state(state_file, desk.name, since, None, handle.tell(), False)
        for page in desk.pages(sender, since, state.get("cursor")):
            pages += 1
            for row in page.rows:
                if row["id"] in seen or not (row["subject"].strip() or row["body"].strip()):
                    skipped += 1
                    continue
                writer.writerow({column: row.get(column, "") for column in COLUMNS})
                seen.add(row["id"])
                written += 1
                labelled["urgency"] += bool(row.get("urgency"))
                labelled["topic"] += bool(row.get("topic"))
            handle.flush()
            os.fsync(handle.fileno())
            _write_state(
                state_file, desk.name, since, page.cursor, handle.tell(), page.cursor is None
            )
            if progress is not None:
                progress(written)
    return ImportResult(out, written, skipped, labelled, resumed, pages)


def _read_state(path: Path, out: Path, desk: str, since: str | None) -> dict[str, object]:
    if not path.exists():
        if out.exists():
            raise DataError(
                f"{out}: exists and is not an unfinished import (no {path.name}); "
                "choose another --out or delete it"
            )
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise DataError(
            f"{path}: unreadable import state ({exc}); delete it to start over"
        ) from exc
    if state.get("desk") != desk or state.get("since") != since:
        raise DataError(
            f"{path}: belongs to an import of {state.get('desk')} since {state.get('since')}; "
            "use the same command, or delete it (and the output) to start over"
        )
    return state


def _write_state(
    path: Path, desk: str, since: str | None, cursor: str | None, size: int, done: bool
) -> None:
    """Replace the state file atomically (a crash leaves the old one or the new one)."""
    temporary = path.with_name(path.name + ".tmp")
    state = {"desk": desk, "since": since, "cursor": cursor, "bytes": size, "done": done}
    temporary.write_text(json.dumps(state) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _ids_in(out: Path) -> set[str]:
    """The ticket ids an earlier run already wrote."""
    with out.open(encoding="utf-8", newline="") as handle:
        return {row["id"] for row in csv.DictReader(handle) if row.get("id")}
