"""Training time and peak memory at 10k, 100k and 1M tickets, and batch-scoring throughput.

Targets: 1M tickets train in under 10 minutes within 4 GB of RAM (peak RSS) on a 2-core machine
(issue 5, "Scale"); ``triage predict`` on 1M support-style tickets scores at least 200,000
tickets/s and runs end to end at at least 100,000/s (issue 11, "Batch on one machine"; issue 5
asked for 50,000/s).

The data is a **synthetic scale-up** of ``../shared/datasets/support_tickets_sample/tickets.csv``
(3,859 real EN/DE support emails): each generated row copies a random source row's labels and
metadata and perturbs its text (about 10% of the words dropped, two adjacent words swapped, a
random order number appended), so the rows are not verbatim duplicates and the hashed feature
space keeps growing with the data, as it would with real tickets. Quality measured on such data
says nothing; time and memory do. The files are written to ``--workdir`` (a temporary directory by
default), never into the repository; the smaller files are prefixes of the largest.

Training is the real ``triage train`` command in a subprocess. Its peak RSS is
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` read by a fresh wrapper process whose only
child is that command, so the figure is the training process's own high-water mark (not this
script's, not an earlier run's). Sizes at or above ``--streaming-from`` are trained with
``--streaming`` (out of core, :mod:`ticket_triage.training.streaming`); smaller ones in memory, the
default. Scoring is ``triage predict --timings`` on ``--predict-rows`` rows with the model of
the largest size, one worker per core (the command's default): end to end (wall time of the
command, start-up, reading and writing the files included) and scoring only (the command's own
timing of tickets -> decision and queue columns, from its ``--timings`` line).

The two parts publish two sections, ``scale`` (training) and ``scale_predict`` (scoring), so that
either can be rerun alone: ``--sizes none`` skips the training sizes and trains one model on
``--model-rows`` rows to score with (what scoring costs does not depend on how many tickets the
model was trained on: the table's width and the number of heads' columns are fixed by the config).

Usage::

    python benchmarks/scale.py [--sizes 10000,100000,1000000 | --sizes none]
        [--model-rows 10000] [--predict-rows 1000000] [--streaming-from 1000000]
        [--markdown OUT] [--plot OUT.png] [--workdir DIR] [--results DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from _report import Target, machine, publish, verdict, versions

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "datasets" / "support_tickets_sample" / "tickets.csv"
TRIAGE = Path(sys.executable).with_name("triage")
TARGET_TRAIN_SECONDS, TARGET_TRAIN_RSS_GB = 600.0, 4.0
TARGET_SCORING_RATE, TARGET_END_TO_END_RATE = 200_000.0, 100_000.0
TARGET_SIZE = 1_000_000

# Runs argv, then prints the wall time, the peak RSS and the CPU time of its (only) child as JSON
# (the CPU time includes the child's own waited-for children: triage predict's workers). A fresh
# interpreter, so RUSAGE_CHILDREN holds nothing but that command.
_WRAPPER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
run = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "max_rss_kb": usage.ru_maxrss, "returncode": run.returncode,
                  "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "stdout": run.stdout[-4000:], "stderr": run.stderr[-4000:]}))
"""


@dataclass(frozen=True)
class Measured:
    """One command's wall time, its peak resident memory and its CPU time (user + system)."""

    seconds: float
    max_rss_gb: float
    cpu_seconds: float
    stderr: str


def measure(command: list[str]) -> Measured:
    """Run ``command`` under the wrapper; fail loudly (with its stderr) if it fails."""
    wrapped = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True, check=True
    )
    result = json.loads(wrapped.stdout)
    if result["returncode"] != 0:
        raise SystemExit(f"{shlex.join(command)} failed:\n{result['stderr']}")
    return Measured(
        result["seconds"], result["max_rss_kb"] / 2**20, result["cpu_seconds"], result["stderr"]
    )


def _perturb(text: str, rng: random.Random) -> str:
    """Drop ~10% of the words and swap one adjacent pair: cheap, and no two copies alike."""
    words = [word for word in text.split(" ") if rng.random() > 0.1] or [text]
    if len(words) > 2:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def generate(paths: dict[int, Path], seed: int = 0) -> None:
    """Write ``paths[n]`` with the first ``n`` synthetic rows, for every ``n``, in one pass.

    Row ``k`` is the same in every file, so the smaller files are prefixes of the largest.
    """
    with SOURCE.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        source = [row for row in reader]
    rng = random.Random(seed)
    handles = {n: path.open("w", encoding="utf-8", newline="") for n, path in paths.items()}
    try:
        writers = {n: csv.writer(handle) for n, handle in handles.items()}
        for writer in writers.values():
            writer.writerow(columns)
        for k in range(max(paths)):
            row = dict(rng.choice(source))
            row["subject"] = _perturb(row["subject"], rng)
            row["body"] = f"{_perturb(row['body'], rng)} Order {rng.randrange(10**7):07d}."
            values = [row[column] for column in columns]
            for n, writer in writers.items():
                if k < n:
                    writer.writerow(values)
    finally:
        for handle in handles.values():
            handle.close()


def train_once(data: Path, out: Path, streaming: bool) -> Measured:
    """``triage train`` on ``data``: wall time and peak RSS of the command."""
    command = [str(TRIAGE), "train", str(data), "--out", str(out), "--quiet"]
    return measure(command + (["--streaming"] if streaming else []))


def predict_once(model: Path, data: Path, out: Path) -> tuple[Measured, dict[str, float]]:
    """``triage predict --timings``: the wall time and the command's own breakdown."""
    measured = measure(
        [str(TRIAGE), "predict", str(model), str(data), "--out", str(out), "--timings"]
    )
    found = re.search(r"^timings: (\{.*\})$", measured.stderr, re.M)
    if found is None:
        raise SystemExit(f"no timings line from triage predict:\n{measured.stderr}")
    return measured, json.loads(found.group(1))


def plot(rows: list[dict[str, float]], path: Path) -> None:
    """Training time against size (log-log) and peak RSS on a second axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [row["size"] for row in rows]
    figure, left = plt.subplots(figsize=(6.4, 4.2))
    left.loglog(sizes, [row["seconds"] for row in rows], "o-", color="tab:blue", label="time")
    for row in rows:
        mode = "streaming" if row["streaming"] else "in memory"
        left.annotate(
            mode, (row["size"], row["seconds"]), textcoords="offset points", xytext=(4, 6)
        )
    left.axhline(TARGET_TRAIN_SECONDS, color="tab:blue", linestyle=":", linewidth=1)
    left.set_xlabel("training tickets")
    left.set_ylabel("train wall time (s)", color="tab:blue")
    right = left.twinx()
    right.semilogx(sizes, [row["rss_gb"] for row in rows], "s--", color="tab:red", label="RSS")
    right.axhline(TARGET_TRAIN_RSS_GB, color="tab:red", linestyle=":", linewidth=1)
    right.set_ylabel("peak RSS (GB)", color="tab:red")
    right.set_ylim(bottom=0)
    left.set_title("triage train: time and peak memory (dotted: 1M targets)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="10000,100000,1000000", help="comma-separated rows, or none"
    )
    parser.add_argument(
        "--model-rows", type=int, default=10_000, help="with --sizes none: rows of the model"
    )
    parser.add_argument("--predict-rows", type=int, default=1_000_000, help="rows to score")
    parser.add_argument(
        "--streaming-from", type=int, default=1_000_000, help="train with --streaming from here"
    )
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    parser.add_argument("--plot", type=Path, help="also draw training time vs size here (PNG)")
    parser.add_argument("--workdir", type=Path, help="generated data and models (default: temp)")
    parser.add_argument("--results", type=Path, help="keep the sections here for assemble.py")
    args = parser.parse_args()
    sizes = [] if args.sizes == "none" else sorted({int(size) for size in args.sizes.split(",")})
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="triage-scale-") as temporary:
        work = args.workdir or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        model_rows = max(sizes) if sizes else args.model_rows
        paths = {n: work / f"tickets_{n}.csv" for n in {*sizes, model_rows, args.predict_rows}}
        print(f"generating {max(paths):,} synthetic rows into {work} ...", file=sys.stderr)
        generate(paths)
        rows = []
        for size in sizes:
            streaming = size >= args.streaming_from
            print(f"training on {size:,} rows ...", file=sys.stderr)
            measured = train_once(paths[size], work / f"model_{size}", streaming)
            rows.append(
                {
                    "size": size,
                    "seconds": measured.seconds,
                    "rss_gb": measured.max_rss_gb,
                    "streaming": streaming,
                }
            )
        if not sizes:
            print(f"training the model to score with on {model_rows:,} rows ...", file=sys.stderr)
            train_once(paths[model_rows], work / f"model_{model_rows}", False)
        print(f"scoring {args.predict_rows:,} rows ...", file=sys.stderr)
        model = work / f"model_{model_rows}"
        predicted, timings = predict_once(model, paths[args.predict_rows], work / "scored.csv")
    total = time.perf_counter() - started
    command = "python benchmarks/scale.py " + shlex.join(sys.argv[1:])
    header = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}; "
        f"{versions(['numpy', 'scikit-learn', 'scipy', 'pandas', 'pyarrow'])}; `{command}` "
        f"({total / 60:.1f} min in all).",
        "",
        f"Data: a synthetic scale-up of ../{SOURCE.relative_to(ROOT.parent)} (3,859 real tickets): "
        "each row is a random source row with perturbed text (~10% of words dropped, one "
        "adjacent swap, a random order number).",
    ]
    sections = []
    if rows:
        training = training_table(rows)
        if args.plot:
            plot(rows, args.plot)
            training += ["", f"![training time and peak memory vs size]({args.plot.as_posix()})"]
        text = "\n".join([*header, *training])
        publish(args.results, "scale", text, train_targets(rows))
        sections.append(text)
    n = args.predict_rows
    scoring_lines, found = predict_table(n, predicted, timings, model_rows)
    text = "\n".join([*header, "", *scoring_lines])
    publish(args.results, "scale_predict", text, found)
    sections.append(text)
    print("\n\n".join(sections))
    if args.markdown:
        args.markdown.write_text("\n\n".join(sections) + "\n")


def training_table(rows: list[dict[str, float]]) -> list[str]:
    """The training rows as a markdown table."""
    lines = [
        "",
        "Peak RSS: `getrusage(RUSAGE_CHILDREN).ru_maxrss` of the `triage` process, read by a "
        "fresh wrapper process.",
        "",
        "| tickets | mode | train wall time | peak RSS | rows/s | target (1M: < 10 min, < 4 GB) |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for row in rows:
        size = int(row["size"])
        met = row["seconds"] < TARGET_TRAIN_SECONDS and row["rss_gb"] < TARGET_TRAIN_RSS_GB
        lines.append(
            f"| {size:,} | {'streaming' if row['streaming'] else 'in memory'} | "
            f"{row['seconds']:.1f} s | {row['rss_gb']:.2f} GB | {size / row['seconds']:,.0f} | "
            f"{verdict(met) if size >= TARGET_SIZE else '-'} |"
        )
    return lines


def predict_table(
    n: int, predicted: Measured, timings: dict[str, float], model_rows: int
) -> tuple[list[str], list[Target]]:
    """The scoring table and its targets (issue 11)."""
    end_to_end = n / predicted.seconds
    scoring = n / timings["score_seconds"]
    lines = [
        f"`triage predict` with the model trained on {model_rows:,} of those rows, the "
        "default workers (one per core).",
        "",
        "| `triage predict` | tickets | seconds | tickets/s | target |",
        "|---|---:|---:|---:|---|",
        f"| scoring only (text, features, decisions, routing) | {n:,} | "
        f"{timings['score_seconds']:.1f} | {scoring:,.0f} | >= 200,000/s: "
        f"{verdict(scoring >= TARGET_SCORING_RATE)} |",
        f"| end to end (read + score + write, peak RSS {predicted.max_rss_gb:.2f} GB) | {n:,} | "
        f"{predicted.seconds:.1f} | {end_to_end:,.0f} | >= 100,000/s: "
        f"{verdict(end_to_end >= TARGET_END_TO_END_RATE)} |",
        "",
        f"Of the end-to-end time: reading {timings['read_seconds']:.1f} s, scoring "
        f"{timings['score_seconds']:.1f} s, writing {timings['write_seconds']:.1f} s; the rest "
        "is start-up and model loading. The command used "
        f"{predicted.cpu_seconds:.1f} s of CPU (user + system, workers included): "
        f"{predicted.cpu_seconds / n * 1e6:.0f} us per ticket, so at most "
        f"{2 * n / predicted.cpu_seconds:,.0f} tickets/s end to end on two otherwise idle cores "
        f"(it had {predicted.cpu_seconds / predicted.seconds:.1f} of the 2 cores on average "
        "in this run; the rest went to other jobs on the machine).",
    ]
    found = [
        Target(
            f"`triage predict` scoring only ({n:,} tickets): >= 200,000 tickets/s",
            f"{scoring:,.0f}/s",
            scoring >= TARGET_SCORING_RATE,
        ),
        Target(
            f"`triage predict` end to end ({n:,} tickets): >= 100,000 tickets/s",
            f"{end_to_end:,.0f}/s",
            end_to_end >= TARGET_END_TO_END_RATE,
        ),
    ]
    return lines, found


def train_targets(rows: list[dict[str, float]]) -> list[Target]:
    """Issue 5's training targets as measured (only when the 1M size was run)."""
    found = []
    for row in rows:
        if row["size"] == TARGET_SIZE:
            found += [
                Target(
                    "`triage train` on 1M tickets: < 10 min",
                    f"{row['seconds'] / 60:.1f} min",
                    row["seconds"] < TARGET_TRAIN_SECONDS,
                ),
                Target(
                    "`triage train` on 1M tickets: peak RSS < 4 GB",
                    f"{row['rss_gb']:.2f} GB",
                    row["rss_gb"] < TARGET_TRAIN_RSS_GB,
                ),
            ]
    return found


if __name__ == "__main__":
    main()
