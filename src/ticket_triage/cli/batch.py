"""The file side of ``triage predict``: read tickets into Arrow columns, score them in parallel
batches, write the input's columns with the decision columns added.

Why Arrow (pyarrow) and not pandas: its CSV and Parquet readers and writers are multi-threaded
C++ and keep the columns the command only passes through (ids, labels, free text) as Arrow
buffers from input to output, with no Python object per cell; only the subject, body and
metadata columns become Python strings, because text cleaning is Python. JSON Lines still goes
through pandas (:func:`~ticket_triage.training.data.read_table`), as before.

Why threads and processes: the compiled scorer (``_featurize.c``'s ``score_batch``) releases the
GIL, so threads share one model; cleaning text, calibrating and routing hold it. ``workers``
forked processes (inherited model and table, copy-on-write: nothing is pickled but the result
columns) run the Python part in parallel too, which measured faster on 2 cores
(``benchmarks/scale.py``); without ``fork`` (or with one worker) batches run in threads.
"""

from __future__ import annotations

import csv
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ticket_triage.core.errors import DataError
from ticket_triage.core.pipeline import Pipeline
from ticket_triage.training.data import read_table, write_table

__all__ = ["Fields", "read_input", "score_fields", "ticket_fields", "write_output"]

_KINDS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}

#: What forked scoring processes inherit instead of receiving it pickled.
_FORKED: dict[str, Any] = {}


def read_input(path: Path) -> pa.Table:
    """The file as an Arrow table: every CSV column as text (as ``read_table`` reads it), Parquet
    columns as stored, JSON Lines through pandas.

    Raises
    ------
    DataError
        Unknown extension, no such file, empty, not UTF-8, unparseable, or no rows.
    """
    kind = _KINDS.get(path.suffix.lower())
    if kind is None or kind == "jsonl" or not path.is_file() or path.stat().st_size == 0:
        return pa.Table.from_pandas(read_table(path), preserve_index=False)  # its errors
    try:
        table = _read_csv(path) if kind == "csv" else pq.read_table(path)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text; re-save the file as UTF-8") from exc
    except (pa.ArrowException, OSError, ValueError) as exc:
        if "UTF8" in str(exc) or "UTF-8" in str(exc):
            raise DataError(f"{path}: not UTF-8 text; re-save the file as UTF-8") from exc
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: cannot parse as {kind}: {first_line}") from exc
    if table.num_rows == 0:
        raise DataError(f"{path}: no rows")
    return table.combine_chunks()


def _read_csv(path: Path) -> pa.Table:
    """Every column as text, empty cells as "" (never null), quoted newlines allowed."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    return pa_csv.read_csv(
        path,
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


@dataclass(frozen=True)
class Fields:
    """A file's tickets as columns: what :meth:`Pipeline.columns_of_fields` scores."""

    subjects: list[str]
    bodies: list[str]
    metadata: dict[str, list[str]]
    missing_metadata: list[str]


def _texts(table: pa.Table, name: str) -> list[str]:
    """A column as Python strings, null as "" and anything else as ``str(value)`` (as
    ``tickets_from_frame`` reads a pandas column)."""
    column = table.column(name)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        values = column.to_pylist()
        return [value or "" for value in values] if column.null_count else values
    return ["" if value is None else str(value) for value in column.to_pylist()]


def ticket_fields(table: pa.Table, path: Path, metadata: Sequence[str]) -> Fields:
    """The subject, body and the model's metadata columns of ``table`` (absent metadata columns
    are listed, and scored as empty, as ``read_for`` does).

    Raises
    ------
    DataError
        A required column is missing, or rows have neither subject nor body.
    """
    names = table.column_names
    missing = [column for column in ("subject", "body") if column not in names]
    if missing:
        raise DataError(
            f"{path}: missing column {', '.join(repr(c) for c in missing)}; the data contract "
            f"needs 'subject' and 'body' (found: {', '.join(names)})"
        )
    subjects, bodies = _texts(table, "subject"), _texts(table, "body")
    empty = sum(1 for s, b in zip(subjects, bodies, strict=True) if not (s.strip() or b.strip()))
    if empty == len(subjects):
        raise DataError(f"{path}: every row has an empty subject and body")
    if empty:
        raise DataError(f"{path}: {empty} rows have neither subject nor body")
    present = [column for column in metadata if column in names]
    return Fields(
        subjects,
        bodies,
        {column: _texts(table, column) for column in present},
        [column for column in metadata if column not in names],
    )


def _score_range(start: int, stop: int) -> dict[str, list[Any]]:
    """The decision columns of rows ``start:stop`` of the fields this process holds."""
    pipeline: Pipeline = _FORKED["pipeline"]
    fields: Fields = _FORKED["fields"]
    return pipeline.columns_of_fields(
        fields.subjects[start:stop],
        fields.bodies[start:stop],
        {name: values[start:stop] for name, values in fields.metadata.items()},
        offset=start,
    )


def score_fields(
    pipeline: Pipeline, fields: Fields, batch_size: int, workers: int
) -> dict[str, list[Any]]:
    """Every batch's decision columns, in order, scored by ``workers`` forked processes (or
    threads where ``fork`` does not exist, or for one worker or one batch)."""
    n = len(fields.subjects)
    starts = list(range(0, n, batch_size))
    stops = [min(start + batch_size, n) for start in starts]
    _FORKED["pipeline"], _FORKED["fields"] = pipeline, fields
    try:
        with _executor(min(workers, len(starts))) as pool:
            parts = list(pool.map(_score_range, starts, stops))
    finally:
        _FORKED.clear()
    columns: dict[str, list[Any]] = {}
    for part in parts:
        for name, values in part.items():
            columns.setdefault(name, []).extend(values)
    return columns


def _executor(workers: int) -> Executor:
    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    return ThreadPoolExecutor(max(workers, 1))


def _with_decisions(table: pa.Table, columns: dict[str, list[Any]], version: str) -> pa.Table:
    """The input's columns, then the decision columns and ``model_version``."""
    for name, values in columns.items():
        table = table.append_column(name, pa.array(values))
    return table.append_column("model_version", pa.array([version] * table.num_rows))


def _csv_ready(table: pa.Table) -> pa.Table:
    """Booleans written as ``True``/``False``, as the pandas writer before wrote them."""
    for index, field in enumerate(table.schema):
        if pa.types.is_boolean(field.type):
            text = pc.if_else(table.column(index), pa.scalar("True"), pa.scalar("False"))
            table = table.set_column(index, field.name, text)
    return table


def write_output(
    table: pa.Table, columns: dict[str, list[Any]], version: str, out_file: Path | None, kind: str
) -> bytes | None:
    """Write ``table`` with the decisions to ``out_file`` in the format of its extension, or,
    without one, return them as CSV or JSON Lines (``kind``, the input's) for stdout. CSV text
    values are all quoted (Arrow's writer): the same cells to any CSV reader.

    Raises
    ------
    DataError
        ``out_file`` has an unknown extension.
    """
    result = _with_decisions(table, columns, version)
    target = _KINDS.get(kind if out_file is None else out_file.suffix.lower())
    if target is None:
        raise DataError(f"{out_file}: unknown file type; use .csv, .jsonl or .parquet")
    if target == "jsonl":
        if out_file is None:
            frame = result.to_pandas()
            return frame.to_json(orient="records", lines=True, force_ascii=False).encode()
        write_table(result.to_pandas(), out_file)
        return None
    if out_file is None:
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(_csv_ready(result), sink)
        return sink.getvalue().to_pybytes()
    out_file.parent.mkdir(parents=True, exist_ok=True)
    if target == "parquet":
        pq.write_table(result, out_file)
    else:
        pa_csv.write_csv(_csv_ready(result), out_file)
    return None
