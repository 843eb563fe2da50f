"""``triage export``, ``triage monitor`` and ``triage retune``: the production loop from the
prediction log and the agents' feedback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
    for line in quality_lines(report):
        err.print(line, highlight=False)
    err.print(f"{len(alerts)} alerts; report -> {path}", highlight=False)


def quality_lines(report: dict[str, Any]) -> list[str]:
    """Per head and class, the audit-weighted precision and recall (with the interval) beside
    the feedback-only ones, each named, so a reader never takes the biased figure for the other."""
    lines = []
    for name, head in report.get("heads", {}).items():
        audit = head.get("audit")
        if not audit or not audit["n_audited"]:
            lines.append(
                f"{name}: no labelled audit tickets; only feedback-only figures (biased), "
                "see TRIAGE_AUDIT_SHARE"
            )
            continue
        lines.append(
            f"{name}: audit-weighted = unbiased estimate over all traffic "
            f"({audit['n_labelled']} labelled, {audit['n_audited']} by audit); "
            "feedback only = biased"
        )
        feedback = head["feedback"]["per_class"]
        for label, scores in audit["per_class"].items():
            parts = []
            for metric in ("precision", "recall"):
                value = scores[metric]
                if value["estimate"] is None:
                    continue
                parts.append(
                    f"{metric} audit-weighted {value['estimate']:.3f} "
                    f"[{value['low']:.3f}, {value['high']:.3f}], feedback only "
                    + _number(feedback.get(label, {}).get(metric))
                )
            if parts:
                lines.append(f"  {label}: " + "; ".join(parts))
    return lines


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


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


@app.command()
def compare(
    database: DatabaseOption,
    live: Annotated[str, typer.Option("--live", help="The live model_version.")],
    candidate: Annotated[str, typer.Option("--candidate", help="The candidate model_version.")],
    since: SinceOption = "7d",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the comparison as JSON here.")
    ] = None,
    min_feedback: Annotated[
        int, typer.Option(min=1, help="Fewest paired tickets with feedback to recommend.")
    ] = 50,
    min_audit: Annotated[
        int, typer.Option(min=1, help="Labelled audit tickets needed for audit-weighted evidence.")
    ] = 30,
) -> None:
    """Live against candidate on the same tickets, and whether to promote.

    Exit status: 0 promote, 3 keep live (candidate worse somewhere), 4 no difference shown,
    5 too little feedback to recommend; 1 an error, 2 a usage error.
    """
    import json

    from ticket_triage.production.monitoring.compare import compare as compare_versions

    start = since_time(since)
    if start is None:
        raise fail("--since is required, e.g. 7d")
    try:
        report = compare_versions(
            open_store(database),
            live,
            candidate,
            since=start,
            min_feedback=min_feedback,
            min_audit=min_audit,
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    _print_comparison(report)
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        err.print(f"comparison -> {json_out}", highlight=False)
    raise typer.Exit(report["exit_code"])


def _print_comparison(report: dict[str, Any]) -> None:
    """The comparison as tables on stdout, the recommendation last."""
    from rich.table import Table

    live, candidate = report["live"], report["candidate"]
    models = report["models"]
    out.print(
        f"{report['n_pairs']} tickets decided by both {live} (live) and {candidate} "
        f"(candidate); {report['n_feedback']} with feedback, {report['n_audited']} of them "
        "from the audit sample",
        highlight=False,
    )
    if report["n_pairs"]:
        table = Table(title="traffic on the same tickets")
        for column in ("", live, candidate):
            table.add_column(column, justify="left" if not column else "right")
        table.add_row(
            "review rate", *(_number(models[v]["review_rate"]) for v in (live, candidate))
        )
        for key in ("mean", "p50", "p99"):
            table.add_row(
                f"latency {key} ms",
                *(_number(models[v]["latency_ms"][key]) for v in (live, candidate)),
            )
        queues = sorted({q for v in (live, candidate) for q in models[v]["queues"] if q})
        for queue in queues:
            table.add_row(
                f"queue {queue}",
                *(_number(models[v]["queues"].get(queue)) for v in (live, candidate)),
            )
        out.print(table)
        agreement = ", ".join(f"{k} {_number(v)}" for k, v in report["agreement"].items())
        out.print(f"agreement (share of tickets where both decide the same): {agreement}")
    basis = report["basis"]
    for head, bases in report.get("differences", {}).items():
        table = Table(
            title=f"{head}: candidate minus live ({report['labels'][basis]}), "
            "paired bootstrap 95% interval"
        )
        for column in ("class", "metric", live, candidate, "difference", "interval"):
            table.add_column(column, justify="left" if column in ("class", "metric") else "right")
        for label, metrics in bases[basis].get("per_class", {}).items():
            for metric, value in metrics.items():
                scores = [
                    _score(models[v]["heads"][head], basis, label, metric)
                    for v in (live, candidate)
                ]
                interval = (
                    "n/a" if value["low"] is None else f"[{value['low']:.3f}, {value['high']:.3f}]"
                )
                table.add_row(
                    label, metric, *map(_number, scores), _number(value["difference"]), interval
                )
        out.print(table)
    out.print(
        f"[bold]{report['verdict']}[/]: {report['recommendation']}",
        highlight=False,
        soft_wrap=True,
    )


def _score(head: dict[str, Any], basis: str, label: str, metric: str) -> float | None:
    """One version's figure for a class on the comparison's basis."""
    if basis == "audit":
        return head["audit"]["per_class"].get(label, {}).get(metric, {}).get("estimate")
    return head["feedback"]["per_class"].get(label, {}).get(metric)
