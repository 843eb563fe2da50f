"""Score a Spark DataFrame of tickets with the exact inference core, in the executors.

:func:`score_frame` returns the input's columns plus the columns ``triage predict`` writes, built
by the same code (:meth:`ticket_triage.core.pipeline.Pipeline.columns`, then ``model_version``),
so a ticket gets the same labels, confidences, review flags and queue on Spark as in a file or the
API. How:

- the driver loads the artifact once (``Pipeline.load`` verifies every file's checksum), derives
  the output schema from one probe ticket through that code, and ships a copy of the directory,
  named by its manifest's sha256, with ``SparkContext.addFile``;
- each executor's Python worker loads it once (:func:`_pipeline`: a module-level cache keyed by
  the shipped path and the manifest checksum the driver saw, verified again on load), and scores
  Arrow batches in ``DataFrame.mapInPandas``: no per-row Python UDF calls, batches of
  ``spark.sql.execution.arrow.maxRecordsPerBatch`` rows (10,000, ``triage predict``'s default).

:func:`predict_files` is ``triage predict --engine spark``: a Parquet or CSV path or URI in, a
Spark output directory of the same kind out.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ticket_triage.core.artifact import MANIFEST_FILE
from ticket_triage.core.errors import ArtifactError, DataError
from ticket_triage.core.pipeline import Pipeline
from ticket_triage.spark.session import quiet_pandas_warning, spark_errors, spark_session

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import DataType

__all__ = ["decision_schema", "predict_files", "read_frame", "score_frame", "write_frame"]

#: Output formats by path suffix; Spark writes a directory of part files under that name.
FORMATS = {".parquet": "parquet", ".csv": "csv"}

#: Executor side: per (shipped artifact, manifest sha256, rules), the pipeline loaded there once.
_LOADED: dict[tuple[str, str, str | None], Pipeline] = {}

_PROBE = [{"subject": "probe", "body": "probe", "metadata": {}}]


def manifest_sha256(model_dir: Path) -> str:
    """The sha256 of the artifact's manifest: it seals every other file's checksum."""
    try:
        return hashlib.sha256((model_dir / MANIFEST_FILE).read_bytes()).hexdigest()
    except OSError as exc:
        raise ArtifactError(f"{model_dir}: no readable {MANIFEST_FILE} ({exc.strerror})") from exc


def _pipeline(model_name: str, expected: str, rules_name: str | None) -> Pipeline:
    """The shipped artifact's pipeline, loaded once per Python worker and verified: its manifest
    must be the one the driver loaded, and ``Pipeline.load`` checks every file against it."""
    from pyspark import SparkFiles

    key = (model_name, expected, rules_name)
    pipeline = _LOADED.get(key)
    if pipeline is None:
        local = Path(SparkFiles.get(model_name))
        if manifest_sha256(local) != expected:
            raise ArtifactError(f"{local}: not the artifact the driver loaded (manifest differs)")
        rules = None if rules_name is None else Path(SparkFiles.get(rules_name))
        pipeline = _LOADED[key] = Pipeline.load(local, rules)
    return pipeline


def _text(values: pd.Series) -> list[str]:
    """A column as text, null as "" (what ``triage predict`` reads from an empty CSV cell)."""
    import pandas as pd

    return ["" if pd.isna(value) else str(value) for value in values.tolist()]


def _tickets(frame: pd.DataFrame, metadata: list[str]) -> list[dict[str, Any]]:
    """A batch's rows in the data contract; absent metadata columns were dropped by the driver."""
    subjects, bodies = _text(frame["subject"]), _text(frame["body"])
    values = {column: _text(frame[column]) for column in metadata}
    return [
        {
            "subject": subject,
            "body": body,
            "metadata": {column: values[column][i] for column in metadata},
        }
        for i, (subject, body) in enumerate(zip(subjects, bodies, strict=True))
    ]


def _spark_type(value: object) -> DataType:
    from pyspark.sql.types import BooleanType, DoubleType, LongType, StringType

    if isinstance(value, bool):
        return BooleanType()
    if isinstance(value, int):
        return LongType()
    if isinstance(value, float):
        return DoubleType()
    return StringType()


def decision_schema(pipeline: Pipeline) -> list[tuple[str, DataType]]:
    """The decision columns and their Spark types, in ``triage predict``'s order: from one probe
    ticket through :meth:`Pipeline.columns`, so they follow that code wherever it goes."""
    from pyspark.sql.types import StringType

    columns = pipeline.columns(_PROBE)
    return [(name, _spark_type(values[0])) for name, values in columns.items()] + [
        ("model_version", StringType())
    ]


def score_frame(frame: DataFrame, model_dir: Path, rules: Path | None = None) -> DataFrame:
    """``frame``'s rows with the decision and queue columns of ``triage predict`` added.

    ``frame`` needs ``subject`` and ``body`` columns; the model's metadata columns are used where
    present (absent ones count as empty, as in ``triage predict``). Lazy, like any Spark
    transformation: the scoring runs in the executors when the result is written or collected.

    Raises
    ------
    ArtifactError, ConfigError
        The model or the rules file (checked on the driver, before any executor work).
    DataError
        ``frame`` lacks a text column or already has a column the scoring would add.
    """
    from pyspark.sql.types import StructField, StructType

    pipeline = Pipeline.load(model_dir, rules)
    decisions = decision_schema(pipeline)
    present = set(frame.columns)
    missing = [column for column in ("subject", "body") if column not in present]
    if missing:
        raise DataError(f"missing column {', '.join(map(repr, missing))}; need subject and body")
    clash = [name for name, _ in decisions if name in present]
    if clash:
        raise DataError(f"the input already has column(s) {', '.join(clash)}; rename them first")
    metadata = [column for column in pipeline.model.meta.get("metadata", []) if column in present]
    model_name, expected = _ship(frame.sparkSession, model_dir, rules)
    rules_name = None if rules is None else _ship_file(frame.sparkSession, rules)
    version = pipeline.model.version
    schema = StructType(
        list(frame.schema.fields) + [StructField(name, kind, True) for name, kind in decisions]
    )

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import pandas as pd

        quiet_pandas_warning()
        scorer = _pipeline(model_name, expected, rules_name)
        for batch in batches:
            columns = scorer.columns(_tickets(batch, metadata))
            decided = pd.DataFrame(columns, index=batch.index)
            decided["model_version"] = version
            yield pd.concat([batch, decided], axis=1)

    return frame.mapInPandas(score, schema)


def _ship(session: SparkSession, model_dir: Path, rules: Path | None) -> tuple[str, str]:
    """Copy the artifact to a directory named by its manifest checksum and ``addFile`` it: two
    models both called ``model`` must not collide in the executors' file cache, and the same
    model shipped twice is shipped once."""
    expected = manifest_sha256(model_dir)
    name = f"triage-model-{expected[:16]}"
    if name not in _shipped(session):
        staging = Path(tempfile.mkdtemp(prefix="triage-spark-")) / name
        shutil.copytree(model_dir, staging)
        with spark_errors(f"shipping {model_dir} to the executors"):
            session.sparkContext.addFile(str(staging), recursive=True)
        _SHIPPED.setdefault(session.sparkContext.applicationId, set()).add(name)
    return name, expected


def _ship_file(session: SparkSession, path: Path) -> str:
    """``addFile`` one file (the rules), named by its content's checksum."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    name = f"triage-rules-{digest}{path.suffix}"
    if name not in _shipped(session):
        staging = Path(tempfile.mkdtemp(prefix="triage-spark-")) / name
        shutil.copyfile(path, staging)
        with spark_errors(f"shipping {path} to the executors"):
            session.sparkContext.addFile(str(staging))
        _SHIPPED.setdefault(session.sparkContext.applicationId, set()).add(name)
    return name


#: Driver side: what each Spark application already has (addFile refuses a name twice).
_SHIPPED: dict[str, set[str]] = {}


def _shipped(session: SparkSession) -> set[str]:
    return _SHIPPED.get(session.sparkContext.applicationId, set())


def read_frame(session: SparkSession, location: str) -> DataFrame:
    """A Parquet or CSV file or directory (a path or any URI Spark reads), by suffix. CSV as
    ``triage predict`` reads it: a header, every column text, quoted fields across lines."""
    kind = _format(location)
    with spark_errors(f"reading {location}"):
        if kind == "csv":
            reader = session.read.options(header=True, multiLine=True, escape='"')
            return reader.csv(location)
        return session.read.parquet(location)


def write_frame(frame: DataFrame, location: str) -> None:
    """Write ``frame`` as Parquet or CSV (by suffix) into the directory ``location``, which must
    not exist yet: a mistyped path must never replace a directory of someone's data."""
    kind = _format(location)
    with spark_errors(f"writing {location}"):
        writer = frame.write.mode("errorifexists")
        if kind == "csv":
            writer.options(header=True, escape='"').csv(location)
        else:
            writer.parquet(location)


def _format(location: str) -> str:
    suffix = Path(location.rstrip("/")).suffix.lower()
    kind = FORMATS.get(suffix)
    if kind is None:
        raise DataError(f"{location}: use a .parquet or .csv path with --engine spark")
    return kind


def predict_files(
    model_dir: Path, source: str, destination: str, master: str, rules: Path | None = None
) -> int:
    """``triage predict --engine spark``: score ``source`` into ``destination``; the row count.

    Rows without subject and body fail the run before any scoring, as in ``triage predict``.
    """
    from pyspark.sql import functions as F

    session = spark_session(master)
    frame = read_frame(session, source)
    if not {"subject", "body"} <= set(frame.columns):
        raise DataError(f"{source}: needs 'subject' and 'body' columns (found: {frame.columns})")
    blank = r"^\s*$"
    empty = F.coalesce(F.col("subject"), F.lit("")).rlike(blank) & F.coalesce(
        F.col("body"), F.lit("")
    ).rlike(blank)
    with spark_errors(f"reading {source}"):
        counts = frame.agg(F.count(F.lit(1)), F.sum(empty.cast("int"))).first()
    n_rows, n_empty = (0, 0) if counts is None else (counts[0], counts[1] or 0)
    if n_empty:
        raise DataError(f"{source}: {n_empty} rows have neither subject nor body")
    write_frame(score_frame(frame, model_dir, rules), destination)
    return int(n_rows)
