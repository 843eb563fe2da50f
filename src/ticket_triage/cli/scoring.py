"""``triage predict`` and ``triage demo``: a model's decisions and queues for many tickets."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

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
)


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
        typer.Option(
            min=0,
            help="Batches scored in parallel: forked processes sharing the loaded model "
            "(threads without fork or with 1); 0: one per core.",
        ),
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

    from ticket_triage.cli.batch import read_input, score_fields, ticket_fields, write_output
    from ticket_triage.core.pipeline import Pipeline

    if out_file is None and input_file.suffix.lower() not in (".csv", ".jsonl", ".ndjson"):
        raise fail("Parquet output needs --out FILE")
    pipeline = Pipeline.load(model_dir, rules)
    model = pipeline.model
    started = time.perf_counter()
    table = read_input(input_file)
    fields = ticket_fields(table, input_file, list(model.meta.get("metadata", [])))
    if fields.missing_metadata:
        err.print(
            f"[yellow]warning:[/] {input_file.name} has no {', '.join(fields.missing_metadata)} "
            "column(s); scoring without that metadata",
            highlight=False,
        )
    read_done = time.perf_counter()
    columns = score_fields(pipeline, fields, batch_size, workers or os.cpu_count() or 1)
    score_done = time.perf_counter()
    text = write_output(table, columns, model.version, out_file, input_file.suffix.lower())
    if text is None:
        err.print(f"{table.num_rows} tickets scored -> {out_file}", highlight=False)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(text)
        sys.stdout.buffer.flush()
    if timings:
        # benchmarks/scale.py reads this line: scoring alone versus the file handling around it.
        spent = {
            "read_seconds": read_done - started,
            "score_seconds": score_done - read_done,
            "write_seconds": time.perf_counter() - score_done,
            "tickets": table.num_rows,
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
