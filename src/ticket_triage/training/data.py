"""Read labelled or unlabelled ticket files in the data contract (CSV, JSON Lines, Parquet).

The contract (``DESIGN.md``): text in ``subject`` and ``body`` (either may be empty, not both),
labels in ``urgency`` and/or ``topic`` (a head per label column present; empty label = not
labelled for that head), metadata columns turned into ``key:value`` tokens. Everything else is
ignored. Every problem is a :class:`~ticket_triage.core.errors.DataError` naming the file and
column.

Training-side only: this module uses pandas, which the inference core must never import.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ticket_triage.core.errors import DataError

__all__ = [
    "DEFAULT_METADATA",
    "LABEL_COLUMNS",
    "Tickets",
    "read_table",
    "read_tickets",
    "tickets_from_frame",
    "write_table",
]

LABEL_COLUMNS = ("urgency", "topic")
DEFAULT_METADATA = ("product", "plan", "region", "channel")
_READERS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


@dataclass(frozen=True)
class Tickets:
    """A file's tickets as plain lists, plus what training needs to know about the file.

    Attributes
    ----------
    tickets : list of dict
        ``{"subject", "body", "metadata"}`` per row, in file order.
    labels : dict of str to list of str
        Per head present, the label of each row ("" where unlabelled).
    sha256 : str
        Of the file's bytes, recorded in the artifact to say what a model was trained on.
    n_dropped : int
        Rows skipped because both subject and body are empty.
    missing_metadata : list of str
        Requested metadata columns the file lacks (only with ``optional_metadata``).
    """

    path: Path
    tickets: list[dict[str, object]]
    labels: dict[str, list[str]]
    metadata_columns: list[str]
    sha256: str
    n_dropped: int
    missing_metadata: list[str] = field(default_factory=list)


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV, JSON Lines or Parquet file by extension, every column as text."""
    kind = _READERS.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            f"{path}: unknown file type {path.suffix or '(none)'!r}; use .csv, .jsonl or .parquet"
        )
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty")
    try:
        if kind == "csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        elif kind == "jsonl":
            frame = pd.read_json(path, lines=True, dtype=False, encoding="utf-8")
        else:
            frame = pd.read_parquet(path)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "re-save the file as UTF-8"
        ) from exc
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: cannot parse as {kind}: {first_line}") from exc
    if frame.empty:
        raise DataError(f"{path}: no rows")
    frame.columns = [str(column) for column in frame.columns]
    return frame


def _text_column(frame: pd.DataFrame, column: str) -> list[str]:
    values = frame[column]
    return ["" if pd.isna(value) else str(value) for value in values.tolist()]


def read_tickets(
    path: Path,
    metadata: list[str] | None = None,
    require_labels: bool = True,
    optional_metadata: bool = False,
) -> Tickets:
    """Read a file in the data contract.

    Parameters
    ----------
    path : Path
        CSV, JSON Lines or Parquet file.
    metadata : list of str, optional
        Metadata columns; default: those of :data:`DEFAULT_METADATA` present in the file. A column
        named here but absent is an error.
    require_labels : bool, default=True
        Fail when no label column is present (training and evaluation need them).
    optional_metadata : bool, default=False
        Treat a named metadata column that the file lacks as empty instead of failing: scoring
        a file without, say, ``plan`` works, as a ticket without that metadata does in the API.
        The absent columns are listed in :attr:`Tickets.missing_metadata`.
    """
    return tickets_from_frame(read_table(path), path, metadata, require_labels, optional_metadata)


def tickets_from_frame(
    frame: pd.DataFrame,
    path: Path,
    metadata: list[str] | None = None,
    require_labels: bool = True,
    optional_metadata: bool = False,
) -> Tickets:
    """:func:`read_tickets` on a frame already read by :func:`read_table` (``path`` names it)."""
    missing = [column for column in ("subject", "body") if column not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: missing column {', '.join(repr(c) for c in missing)}; the data contract "
            f"needs 'subject' and 'body' (found: {', '.join(frame.columns)})"
        )
    if metadata is None:
        metadata = [column for column in DEFAULT_METADATA if column in frame.columns]
    absent = [column for column in metadata if column not in frame.columns]
    if absent and not optional_metadata:
        raise DataError(f"{path}: metadata column {absent[0]!r} is not in the file")
    metadata = [column for column in metadata if column not in absent]
    heads = [column for column in LABEL_COLUMNS if column in frame.columns]
    if require_labels and not heads:
        raise DataError(
            f"{path}: no label column; expected 'urgency' and/or 'topic' "
            f"(found: {', '.join(frame.columns)})"
        )
    subjects, bodies = _text_column(frame, "subject"), _text_column(frame, "body")
    meta_values = {column: _text_column(frame, column) for column in metadata}
    labels = {head: [label.strip() for label in _text_column(frame, head)] for head in heads}
    keep = [i for i in range(len(frame)) if subjects[i].strip() or bodies[i].strip()]
    if not keep:
        raise DataError(f"{path}: every row has an empty subject and body")
    tickets: list[dict[str, object]] = [
        {
            "subject": subjects[i],
            "body": bodies[i],
            "metadata": {column: meta_values[column][i] for column in metadata},
        }
        for i in keep
    ]
    return Tickets(
        path=path,
        tickets=tickets,
        labels={head: [values[i] for i in keep] for head, values in labels.items()},
        metadata_columns=list(metadata),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        n_dropped=len(frame) - len(keep),
        missing_metadata=absent,
    )


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame in the format given by ``path``'s extension."""
    kind = _READERS.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"{path}: unknown file type {path.suffix!r}; use .csv, .jsonl or .parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        frame.to_csv(path, index=False)
    elif kind == "jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_parquet(path, index=False)
