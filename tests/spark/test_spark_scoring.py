"""Batch scoring on Spark gives the answers of ``triage predict`` and of the API, ticket for ticket.

Real parts only: a local[2] SparkSession with Python workers, real Parquet and CSV files of the
shared support tickets, the CLI as a user runs it, the artifact shipped to the executors.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import SparkSession
from typer.testing import CliRunner

from ticket_triage.cli import app, main
from ticket_triage.core.errors import ArtifactError, DataError
from ticket_triage.core.pipeline import Pipeline
from ticket_triage.spark.scoring import score_frame

PRODUCTS = ["billing", "web_app", "mobile_app", ""]


@pytest.fixture(scope="module")
def tickets(shared_datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,200 real support tickets (EN and DE, multi-line bodies) with an id to join on and a
    ``product`` column, so routing sees metadata, as Parquet."""
    frame = pd.read_csv(shared_datasets / "support_tickets_sample" / "tickets.csv", dtype=str)
    frame = frame.iloc[:1200].fillna("").reset_index(drop=True)
    frame.insert(0, "ticket_id", [f"t{i}" for i in range(len(frame))])
    frame["product"] = [PRODUCTS[i % len(PRODUCTS)] for i in range(len(frame))]
    path = tmp_path_factory.mktemp("spark_tickets") / "tickets.parquet"
    frame.to_parquet(path, index=False)
    return path


def _decision_columns(model_dir: Path) -> list[str]:
    names = list(Pipeline.load(model_dir).columns([{"subject": "x", "body": "y"}]))
    return [*names, "model_version"]


def _assert_same_answers(local: pd.DataFrame, spark: pd.DataFrame, columns: list[str]) -> None:
    """Same rows, columns in the same order, every decision equal (confidences to 1e-9)."""
    assert list(spark.columns) == list(local.columns)
    local = local.set_index("ticket_id")
    spark = spark.set_index("ticket_id").loc[local.index]
    for column in columns:
        if column.endswith("_confidence"):
            np.testing.assert_allclose(
                spark[column].astype(float), local[column].astype(float), rtol=0, atol=1e-9
            )
        else:
            assert spark[column].astype(str).tolist() == local[column].astype(str).tolist(), column
    assert spark["body"].tolist() == local["body"].tolist()  # the input columns came through


def test_spark_predict_answers_like_local_predict(
    spark: SparkSession, sample_model: Path, tickets: Path, tmp_path: Path
) -> None:
    # GIVEN the same Parquet file scored by `triage predict` on this machine
    runner = CliRunner()
    local_out = tmp_path / "local.parquet"
    result = runner.invoke(
        app, ["predict", str(sample_model), str(tickets), "--out", str(local_out)]
    )
    assert result.exit_code == 0, result.output
    # WHEN `triage predict --engine spark` scores it in the executors
    spark_out = tmp_path / "spark.parquet"
    command = ["predict", str(sample_model), str(tickets), "--out", str(spark_out)]
    result = runner.invoke(app, [*command, "--engine", "spark", "--spark-master", "local[2]"])
    # THEN it reports the row count and wrote a Spark directory with the same answers
    assert result.exit_code == 0, result.output
    assert "1200 tickets scored on Spark" in result.output
    assert list(spark_out.glob("part-*.parquet"))
    local, scored = pd.read_parquet(local_out), pd.read_parquet(spark_out)
    assert len(scored) == len(local) == 1200
    _assert_same_answers(local, scored, _decision_columns(sample_model))
    assert scored["queue"].nunique() > 1  # not one constant answer


def test_spark_reads_and_writes_csv_like_local_predict(
    spark: SparkSession, sample_model: Path, tickets: Path, tmp_path: Path
) -> None:
    # GIVEN 300 of the tickets as CSV, bodies spanning lines and quotes doubled (pandas' CSV)
    source = tmp_path / "tickets.csv"
    pd.read_parquet(tickets).iloc[:300].to_csv(source, index=False)
    runner = CliRunner()
    local_out, spark_out = tmp_path / "local.csv", tmp_path / "spark.csv"
    result = runner.invoke(
        app, ["predict", str(sample_model), str(source), "--out", str(local_out)]
    )
    assert result.exit_code == 0, result.output
    # WHEN Spark reads and writes the CSV
    command = ["predict", str(sample_model), str(source), "--out", str(spark_out)]
    result = runner.invoke(app, [*command, "--engine", "spark"])
    assert result.exit_code == 0, result.output
    # THEN the part files read back as the local output, text and decisions alike
    read = {"dtype": str, "keep_default_na": False}
    local = pd.read_csv(local_out, **read)
    scored = pd.concat(pd.read_csv(part, **read) for part in sorted(spark_out.glob("part-*.csv")))
    assert len(scored) == 300
    booleans = [column for column in scored.columns if column.endswith("needs_review")]
    scored[booleans] = scored[booleans].replace({"true": "True", "false": "False"})
    _assert_same_answers(local, scored, _decision_columns(sample_model))


def test_score_frame_answers_like_the_api_path_in_every_partition(
    spark: SparkSession, sample_model: Path, tickets: Path
) -> None:
    # GIVEN the tickets as a DataFrame spread over 4 partitions (both workers score)
    frame = spark.read.parquet(str(tickets)).repartition(4)
    # WHEN the library call scores it, and the API's path (Pipeline.triage) decides the same rows
    # (collect, not toPandas: its Arrow path calls pandas 3 with a deprecated keyword)
    collected = [row.asDict() for row in score_frame(frame, sample_model).collect()]
    scored = pd.DataFrame(collected).set_index("ticket_id")
    rows = pd.read_parquet(tickets).set_index("ticket_id").loc[scored.index]
    pipeline = Pipeline.load(sample_model)
    decisions = pipeline.triage(
        [
            {"subject": s, "body": b, "metadata": {"product": p}}
            for s, b, p in zip(rows["subject"], rows["body"], rows["product"], strict=True)
        ]
    )
    # THEN every label, confidence, review flag and queue is the API's
    for head in pipeline.model.head_names:
        assert scored[f"{head}_label"].tolist() == [d.heads[head].label for d in decisions]
        np.testing.assert_allclose(
            scored[f"{head}_confidence"],
            [round(d.heads[head].confidence, 6) for d in decisions],
            rtol=0,
            atol=1e-9,
        )
    assert scored["needs_review"].tolist() == [d.needs_review for d in decisions]
    assert scored["queue"].tolist() == [d.queue for d in decisions]
    assert set(scored["model_version"]) == {pipeline.model.version}


def test_a_tampered_model_or_a_clashing_column_fails_before_any_scoring(
    spark: SparkSession, sample_model: Path, tmp_path: Path
) -> None:
    # GIVEN a copy of the model with one byte of its weights changed
    import shutil

    tampered = tmp_path / "model"
    shutil.copytree(sample_model, tampered)
    weights = tampered / "weights.npz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    frame = spark.createDataFrame(
        pd.DataFrame({"subject": ["Payment failed"], "body": ["card declined"], "queue": ["x"]})
    )
    # WHEN / THEN it is refused on the driver, and so is an input that has an output column
    with pytest.raises(ArtifactError, match="checksum"):
        score_frame(frame, tampered)
    with pytest.raises(DataError, match="already has column"):
        score_frame(frame, sample_model)


def test_spark_predict_fails_in_one_line(
    spark: SparkSession,
    sample_model: Path,
    tickets: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN inputs and outputs a user gets wrong (in this process: a new one would start Spark)
    blank = tmp_path / "blank.parquet"
    pd.DataFrame({"subject": ["ok", " "], "body": ["fine", ""]}).to_parquet(blank, index=False)
    taken = tmp_path / "taken.parquet"
    taken.mkdir()
    cases = {
        "1 rows have neither subject nor body": [str(blank), "--out", str(tmp_path / "o.parquet")],
        "reading": [str(tmp_path / "absent.parquet"), "--out", str(tmp_path / "p.parquet")],
        "already exists": [str(tickets), "--out", str(taken)],
        "use a .parquet or .csv path": [str(tickets), "--out", str(tmp_path / "o.jsonl")],
        "give --out PATH": [str(tickets)],
        "use 'local' or 'spark'": [str(tickets), "--engine", "dask"],
    }
    for message, arguments in cases.items():
        engine = [] if "--engine" in arguments else ["--engine", "spark"]
        monkeypatch.setattr(
            sys, "argv", ["triage", "predict", str(sample_model), *arguments, *engine]
        )
        # WHEN the console script runs
        with pytest.raises(SystemExit) as exited:
            main()
        # THEN it exits 1 with one line that says what is wrong, no traceback
        stderr = capsys.readouterr().err
        assert exited.value.code == 1, (message, stderr)
        assert "error:" in stderr, (message, stderr)
        assert message in stderr, (message, stderr)
        assert "Traceback" not in stderr
