"""``triage export``, ``triage monitor`` and ``triage retune``: the production loop from the
prediction log and the agents' feedback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ticket_triage.cli.common import (
    DEFAULT_MODEL,
    DatabaseOption,
    SinceOption,
    app,
    err,
    fail,
    open_store,
    out,
    since_time,
)


@app.command()
def export(
    database: DatabaseOption,
    out_file: Annotated[Path, typer.Option("--out", help="CSV, JSONL or Parquet file to write.")],
    since: SinceOption = None,
) -> None:
    """Write the tickets agents corrected or confirmed as training data (the data contract)."""
    import pandas as pd

    from ticket_triage.training.data import write_table

    rows, no_text = open_store(database).corrected_tickets(since_time(since))
    frame = pd.DataFrame(
        rows, columns=None if rows else ["id", "subject", "body", "urgency", "topic"]
    )
    write_table(frame.fillna(""), out_file)
    labelled = {head: int((frame[head] != "").sum()) for head in ("urgency", "topic")}
    err.print(
        f"{len(frame)} corrected or confirmed tickets -> {out_file} (urgency labels: "
        f"{labelled['urgency']}, topic labels: {labelled['topic']})"
        + (f"; {no_text} left out: their text was not stored" if no_text else ""),
        highlight=False,
    )


@app.command()
def monitor(
    database: DatabaseOption,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for report.html and report.json.")],
    model_dir: Annotated[
        Path, typer.Option("--model", envvar="TRIAGE_MODEL_DIR", help="The served model.")
    ] = DEFAULT_MODEL,
    since: SinceOption = "30d",
) -> None:
    """Production report: per-class quality from feedback, queues, review rate, drift, alerts."""
    from ticket_triage.production.monitoring import build_report, write_report

    start = since_time(since)
    if start is None:
        raise fail("--since is required for a report, e.g. 30d")
    report = build_report(open_store(database), model_dir, since=start)
    path = write_report(report, out_dir)
    alerts = report.get("alerts", [])
    for alert in alerts:
        err.print(f"[bold yellow]alert:[/] {alert['message']}", highlight=False)
    err.print(f"{len(alerts)} alerts; report -> {path}", highlight=False)


@app.command()
def retune(
    model_dir: Annotated[Path, typer.Argument(help="The model whose thresholds to re-pick.")],
    database: DatabaseOption,
    out_dir: Annotated[Path, typer.Option("--out", help="Where the new model version goes.")],
    since: SinceOption = "30d",
) -> None:
    """Re-pick thresholds from recent feedback to meet the targets again (weights unchanged)."""
    from ticket_triage.production.retune import retune as retune_thresholds

    result = retune_thresholds(
        model_dir, open_store(database), since=since_time(since), out_dir=out_dir
    )
    for line in result.summary().splitlines():
        out.print(line, highlight=False)
