"""``triage train``, ``triage evaluate`` and ``triage sample``: models from data, measured."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ticket_triage.cli.common import (
    EngineOption,
    SparkMasterOption,
    app,
    err,
    fail,
    location,
    on_spark,
    out,
    print_summary,
    read_for,
    steps,
)


@app.command()
def train(
    data: Annotated[
        Path, typer.Argument(help="Labelled tickets: .csv, .jsonl or .parquet.", parser=location)
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the model to.")],
    config: Annotated[
        Path | None, typer.Option(help="TOML or JSON file of training options.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of split, folds and solver.")] = None,
    metadata: Annotated[
        str | None, typer.Option(help="Comma-separated metadata columns (default: product,...).")
    ] = None,
    resample: Annotated[
        bool | None, typer.Option("--resample/--no-resample", help="Oversample minority classes.")
    ] = None,
    augment: Annotated[
        bool | None, typer.Option("--augment/--no-augment", help="Add perturbed minority copies.")
    ] = None,
    tokenizer: Annotated[
        str | None, typer.Option(help="'regex' (default) or 'spacy' (needs the spacy extra).")
    ] = None,
    streaming: Annotated[
        bool | None,
        typer.Option(
            "--streaming/--no-streaming",
            help="Out-of-core training (chunks + SGD) in bounded memory, for very large files.",
        ),
    ] = None,
    register: Annotated[
        str | None,
        typer.Option(
            "--register",
            help="Then add the model to this registry (folder or s3://...) as a new version.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print metrics.json to stdout.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress display.")] = False,
    engine: EngineOption = "local",
    spark_master: SparkMasterOption = "local[*]",
) -> None:
    """Fit every head in DATA, tune thresholds on held-out folds, write the model to --out."""
    from ticket_triage.training.config import load_config
    from ticket_triage.training.train import train as run_training

    settings = load_config(
        config,
        seed=seed,
        metadata=metadata.split(",") if metadata else None,
        resample=resample,
        augment=augment,
        tokenizer=tokenizer,
        streaming=streaming,
    )
    with steps(not quiet and not as_json) as step:
        if on_spark(engine):  # Parquet or CSV, a path or any URI Spark reads
            from ticket_triage.spark.training import train_on_spark

            source = getattr(data, "text", str(data))
            result = train_on_spark(source, out_dir, settings, spark_master, progress=step)
        else:
            result = run_training(data, out_dir, settings, progress=step)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if register is not None:
        from ticket_triage.cli.models import open_registry, operator

        entry = open_registry(register).add(result.out, made_by="train", by=operator(None))
        err.print(
            f"registered as {entry.version} in {register} (not live yet: "
            f"triage models promote {entry.version})",
            highlight=False,
        )
    if as_json:
        sys.stdout.write(json.dumps(result.metrics, indent=2) + "\n")
        return
    print_summary(result.metrics)
    out.print(f"model written to {result.out} (report: {result.out / 'report.html'})")


@app.command()
def evaluate(
    model_dir: Annotated[Path, typer.Argument(help="Model directory written by `triage train`.")],
    data: Annotated[Path, typer.Argument(help="Labelled tickets: .csv, .jsonl or .parquet.")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write metrics here.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write an HTML report here.")] = None,
) -> None:
    """Score a labelled file with a model; print a summary and write the metrics schema."""
    from ticket_triage.core.model import TriageModel
    from ticket_triage.training.evaluate import evaluate as run_evaluation
    from ticket_triage.training.report import write_report

    model = TriageModel.load(model_dir)
    tickets = read_for(model, data, require_labels=True)
    metrics, evaluations, warnings = run_evaluation(model, tickets, description=data.name)
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if not metrics["heads"]:
        raise fail(
            f"{data}: no labels for any of the model's heads ({', '.join(model.head_names)})"
        )
    print_summary(metrics)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(metrics, indent=2) + "\n")
    if report is not None:
        write_report(report, metrics, evaluations, title=f"ticket-triage evaluation: {data.name}")


@app.command()
def sample(
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    n: Annotated[int, typer.Option(min=100, help="Number of tickets.")] = 3600,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 7,
) -> None:
    """Write the synthetic sample tickets (the demo model's training data) to a CSV file."""
    from ticket_triage.sample.generator import write_sample_csv

    write_sample_csv(out_file, n=n, seed=seed)
    err.print(f"{n} synthetic tickets -> {out_file}", highlight=False)
