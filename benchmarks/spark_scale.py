"""Spark batch scoring at 1 and 2 executor cores against ``triage predict --workers 2``, and
Spark training time.

Issue 11: rows/s of ``triage predict --engine spark`` in ``local[1]`` and ``local[2]`` against
the one-machine path on the same file, and ``triage train --engine spark``'s wall time.

The data is ``benchmarks/scale.py``'s synthetic scale-up of support_tickets_sample (perturbed
copies of the 3,859 real e-mails), written once as CSV and converted to one Parquet file, which
every engine reads (Spark reads one CSV file with multi-line fields as one partition, so CSV
would measure that, not the engines). The model is ``triage train`` on the real sample, in
memory, the defaults. Every figure is the wall time of the ``triage`` command in a fresh process,
so Spark's includes starting its JVM and Python workers; the start-up alone is measured too,
on a 1,000-row file, and reported beside it. Training runs on ``--train-rows`` rows of the same
data in ``local[2]``.

Usage::

    python benchmarks/spark_scale.py [--rows 1000000] [--train-rows 20000] [--workdir DIR]
        [--results DIR]
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.csv as pv
import pyarrow.parquet as pq

from _report import machine, publish, versions
from scale import SOURCE, generate

TRIAGE = Path(sys.executable).with_name("triage")


def timed(command: list[str]) -> float:
    """Wall seconds of ``command``; its stderr on failure."""
    started = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed:\n{run.stderr[-3000:]}")
    return time.perf_counter() - started


def to_parquet(csv_path: Path, out: Path, rows: int | None = None) -> Path:
    """The CSV as one Parquet file (every column text), optionally its first ``rows`` rows."""
    table = pv.read_csv(csv_path, convert_options=pv.ConvertOptions(strings_can_be_null=False))
    pq.write_table(table if rows is None else table.slice(0, rows), out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to score")
    parser.add_argument("--train-rows", type=int, default=20_000, help="rows to train on")
    parser.add_argument("--workdir", type=Path, help="generated data and models (default: temp)")
    parser.add_argument("--results", type=Path, help="keep the section here for assemble.py")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="triage-spark-bench-") as temporary:
        work = args.workdir or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        print(f"generating {args.rows:,} synthetic rows ...", file=sys.stderr)
        generate({args.rows: work / "tickets.csv"})
        data = to_parquet(work / "tickets.csv", work / "tickets.parquet")
        small = to_parquet(work / "tickets.csv", work / "small.parquet", 1_000)
        training = to_parquet(work / "tickets.csv", work / "train.parquet", args.train_rows)
        model = work / "model"
        timed([str(TRIAGE), "train", str(SOURCE), "--out", str(model), "--quiet"])
        predict = [str(TRIAGE), "predict", str(model)]
        print("scoring with triage predict --workers 2 ...", file=sys.stderr)
        local = timed([*predict, str(data), "--out", str(work / "local.parquet"), "--workers", "2"])
        spark: dict[str, tuple[float, float]] = {}
        for master in ("local[1]", "local[2]"):
            print(f"scoring on Spark {master} ...", file=sys.stderr)
            engine = ["--engine", "spark", "--spark-master", master]
            name = master.removeprefix("local[").removesuffix("]")
            start_up = timed(
                [*predict, str(small), "--out", str(work / f"s{name}.parquet"), *engine]
            )
            seconds = timed([*predict, str(data), "--out", str(work / f"o{name}.parquet"), *engine])
            spark[master] = (seconds, start_up)
        print(f"training on Spark, {args.train_rows:,} rows ...", file=sys.stderr)
        train_command = [str(TRIAGE), "train", str(training), "--out", str(work / "spark_model")]
        trained = timed(
            [*train_command, "--engine", "spark", "--spark-master", "local[2]", "--quiet"]
        )
    total = time.perf_counter() - started
    n = args.rows
    command = "python benchmarks/spark_scale.py " + shlex.join(sys.argv[1:])
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}; "
        f"{versions(['numpy', 'pyspark', 'pyarrow'])}; `{command}` ({total / 60:.1f} min in all).",
        "",
        f"Data: {n:,} rows of the synthetic scale-up of ../{SOURCE.relative_to(SOURCE.parents[3])} "
        "(as `benchmarks/scale.py` makes it), one Parquet file in and out. Wall time of the "
        "`triage` command in a fresh process; Spark's includes its start-up, measured alone on "
        "1,000 rows.",
        "",
        "| engine | seconds | tickets/s | start-up (1,000 rows) | tickets/s without it |",
        "|---|---:|---:|---:|---:|",
        f"| `triage predict --workers 2` | {local:.1f} | {n / local:,.0f} | - | - |",
    ]
    for master, (seconds, start_up) in spark.items():
        lines.append(
            f"| `--engine spark --spark-master {master}` | {seconds:.1f} | {n / seconds:,.0f} | "
            f"{start_up:.1f} s | {n / max(seconds - start_up, 1e-9):,.0f} |"
        )
    one, two = (spark[m][0] - spark[m][1] for m in ("local[1]", "local[2]"))
    lines += [
        "",
        f"Spark scoring from 1 to 2 executor cores: {one / two:.2f}x faster (start-up excluded).",
        "",
        f"`triage train --engine spark` on {args.train_rows:,} of those rows in `local[2]` "
        f"(defaults: 300 L-BFGS iterations per head at most): {trained:.0f} s.",
    ]
    text = "\n".join(lines)
    print(text)
    publish(args.results, "spark_scale", text)  # a comparison: the issue sets no target


if __name__ == "__main__":
    main()
