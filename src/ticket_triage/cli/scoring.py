"""``triage predict`` and ``triage demo``: a model's decisions and queues for many tickets."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from ticket_triage.cli.common import (
    DEFAULT_MODEL,
    EXAMPLES,
    EngineOption,
    RulesOption,
    SparkMasterOption,
    app,
    err,
    fail,
    location,
    on_spark,
    out,
    read_for,
)

if TYPE_CHECKING:  # imported in the commands: `triage --help` must not load numpy
    from ticket_triage.core.pipeline import Pipeline


#: The pipeline of ``triage predict``, inherited by its forked scoring processes.
_FORKED: dict[str, Pipeline] = {}


def _score_forked(start: int, batch: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """:meth:`Pipeline.columns` in a forked worker, with the parent's model (no reload there)."""
    return _FORKED["pipeline"].columns(batch, offset=start)


def _score_all(
    pipeline: Pipeline, tickets: list[dict[str, Any]], batch_size: int, workers: int
) -> dict[str, list[Any]]:
    """Every batch's columns, in order; in ``workers`` forked processes when there are several
    batches (scoring is CPU-bound Python and numpy: one process uses one core)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    starts = range(0, len(tickets), batch_size)
    batches = [tickets[start : start + batch_size] for start in starts]
    columns: dict[str, list[Any]] = {}
    processes = min(workers, len(batches))
    if processes > 1 and "fork" in multiprocessing.get_all_start_methods():
        _FORKED["pipeline"] = pipeline
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            parts = list(pool.map(_score_forked, starts, batches))
    else:
        parts = [
            pipeline.columns(batch, offset=start)
            for start, batch in zip(starts, batches, strict=True)
        ]
    for part in parts:
        for name, values in part.items():
            columns.setdefault(name, []).extend(values)
    return columns


@app.command()
def predict(
    model_dir: Annotated[Path, typer.Argument(help="Model directory written by `triage train`.")],
    input_file: Annotated[
        Path, typer.Argument(help="Tickets: .csv, .jsonl or .parquet.", parser=location)
    ],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Output file (format from its extension).", parser=location),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Tickets scored per batch.")] = 10_000,
    rules: RulesOption = None,
    workers: Annotated[
        int,
        typer.Option(min=0, help="Processes scoring batches in parallel; 0: one per core."),
    ] = 0,
    timings: Annotated[
        bool,
        typer.Option(
            "--timings", help="Print seconds spent reading, scoring and writing (JSON, stderr)."
        ),
    ] = False,
    engine: EngineOption = "local",
    spark_master: SparkMasterOption = "local[*]",
) -> None:
    """Batch scoring: the input's rows with decision and queue columns added, same format."""
    import os
    import time

    if on_spark(engine):
        _predict_on_spark(model_dir, input_file, out_file, spark_master, rules)
        return

    import pandas as pd

    from ticket_triage.core.pipeline import Pipeline
    from ticket_triage.training.data import read_table, write_table

    pipeline = Pipeline.load(model_dir, rules)
    model = pipeline.model
    started = time.perf_counter()
    frame = read_table(input_file)
    tickets = read_for(model, input_file, require_labels=False, frame=frame)
    if tickets.n_dropped:
        raise fail(f"{input_file}: {tickets.n_dropped} rows have neither subject nor body")
    read_done = time.perf_counter()
    processes = workers or os.cpu_count() or 1
    columns = _score_all(pipeline, tickets.tickets, batch_size, processes)
    score_done = time.perf_counter()
    decisions = pd.DataFrame(columns, index=frame.index)
    decisions["model_version"] = model.version
    result_frame = pd.concat([frame, decisions], axis=1)
    if out_file is not None:
        write_table(result_frame, out_file)
        err.print(f"{len(result_frame)} tickets scored -> {out_file}", highlight=False)
    elif input_file.suffix.lower() == ".csv":
        result_frame.to_csv(sys.stdout, index=False)
    elif input_file.suffix.lower() in (".jsonl", ".ndjson"):
        result_frame.to_json(sys.stdout, orient="records", lines=True, force_ascii=False)
    else:
        raise fail("Parquet output needs --out FILE")
    if timings:
        # benchmarks/scale.py reads this line: scoring alone versus the file handling around it.
        spent = {
            "read_seconds": read_done - started,
            "score_seconds": score_done - read_done,
            "write_seconds": time.perf_counter() - score_done,
            "tickets": len(tickets.tickets),
        }
        err.print(f"timings: {json.dumps(spent)}", highlight=False, soft_wrap=True)


def _predict_on_spark(
    model_dir: Path, input_file: Path, out_file: Path | None, master: str, rules: Path | None
) -> None:
    """``--engine spark``: :func:`ticket_triage.spark.scoring.predict_files`."""
    if out_file is None:
        raise fail("--engine spark writes a Spark output directory: give --out PATH")
    from ticket_triage.spark.scoring import predict_files

    source, destination = (getattr(p, "text", str(p)) for p in (input_file, out_file))
    n_rows = predict_files(model_dir, source, destination, master, rules)
    err.print(f"{n_rows} tickets scored on Spark -> {destination}", highlight=False)


@app.command()
def demo(
    model_dir: Annotated[Path, typer.Argument(help="Model directory.")] = DEFAULT_MODEL,
    rules: RulesOption = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Also show the n-grams behind each decision.")
    ] = False,
) -> None:
    """Triage a handful of example tickets and print the decisions and queues."""
    from ticket_triage.core.pipeline import Pipeline

    pipeline = Pipeline.load(model_dir, rules)
    model = pipeline.model
    table = Table(title=f"ticket-triage {model.version}: example decisions")
    table.add_column("ticket", no_wrap=True)
    for name in model.head_names:
        table.add_column(name)
    table.add_column("queue", no_wrap=True)
    decisions = pipeline.triage(EXAMPLES, explain=3 if explain else 0)
    for ticket, decision in zip(EXAMPLES, decisions, strict=True):
        heads = decision.heads
        cells = [f"{heads[name].label} {heads[name].confidence:.0%}" for name in model.head_names]
        table.add_row(ticket["subject"], *cells, decision.queue)
    out.print(table)
    if explain:
        for ticket, decision in zip(EXAMPLES, decisions, strict=True):
            out.print(f"[bold]{ticket['subject']}[/]", highlight=False)
            for name, why in (decision.explanation or {}).items():
                reasons = ", ".join(
                    f"{' / '.join(c.ngrams)!r} +{c.weight:.2f}" for c in why.contributions
                )
                out.print(f"  {name}: {why.label} over {why.versus}: {reasons}", highlight=False)
