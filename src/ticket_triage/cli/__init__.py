"""``triage``: the command line (typer + rich). Each command is a thin wrapper over a library call.

Failures the user can fix (a bad file, a tampered model, an unknown option) print one line to
stderr and exit with status 1 (2 for usage errors, from typer): never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ticket_triage.core.errors import TriageError

__all__ = ["app", "main"]

app = typer.Typer(
    name="triage",
    help="Triage support tickets by urgency and topic: train, evaluate, predict.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

DEFAULT_MODEL = Path("models/default")

#: A handful of tickets for `triage demo`: what `make run` prints before the API exists.
EXAMPLES: list[dict[str, Any]] = [
    {
        "subject": "Payment failed!!!",
        "body": "Card declined with error 402 and the whole team is locked out. ASAP please",
        "metadata": {"product": "billing", "plan": "enterprise"},
    },
    {
        "subject": "Dark mode?",
        "body": "Would be lovely to have a dark mode in the dashboard some day. No rush.",
        "metadata": {"product": "web_app", "plan": "free"},
    },
    {
        "subject": "App crashes on upload",
        "body": "The mobile app crashes with E1234 every time I upload a photo since the update.",
        "metadata": {"product": "mobile_app", "plan": "pro"},
    },
    {
        "subject": "Passwort zurücksetzen",
        "body": "Ich kann mich nicht mehr anmelden, der Link zum Zurücksetzen kommt nicht an.",
        "metadata": {"product": "web_app", "plan": "business", "region": "eu"},
    },
    {
        "subject": "Invoice address",
        "body": "Please change the billing address on our next invoice. Thanks!",
        "metadata": {"product": "billing", "plan": "pro"},
    },
]


@contextmanager
def _steps(enabled: bool) -> Iterator[Callable[[str], None]]:
    """A progress display whose callback starts a new step and completes the previous one."""
    if not enabled or not err.is_terminal:
        yield lambda _: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        current: list[Any] = []

        def step(name: str) -> None:
            if current:
                progress.update(current[-1], completed=1, total=1)
            current.append(progress.add_task(name, total=None))

        yield step
        if current:
            progress.update(current[-1], completed=1, total=1)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _print_summary(metrics: dict[str, Any]) -> None:
    """A readable table of held-out metrics and the target result in plain words."""
    table = Table(title=f"model {metrics['model']['version']} on {metrics['data']['n_rows']} rows")
    for column in ("head", "n", "accuracy", "macro-F1", "argmax macro-F1", "coverage", "ECE"):
        table.add_column(column, justify="left" if column == "head" else "right")
    for name, head in metrics["heads"].items():
        table.add_row(
            name,
            str(head["n"]),
            f"{head['accuracy']:.3f}",
            f"{head['macro_f1']:.3f}",
            f"{head['argmax']['macro_f1']:.3f}",
            f"{head['coverage']:.1%}",
            f"{head['ece']:.3f}",
        )
    out.print(table)
    for name, head in metrics["heads"].items():
        target = head.get("target")
        if not target:
            continue
        label, goal = target["class"], target["min_precision"]
        sure = f"{target['confidence']:.0%} confidence"
        here = f"Here: precision {target['precision']:.3f}, recall {target['recall']:.3f}."
        if target["reachable"]:
            out.print(
                f"{name}: '{label}' when p >= {target['threshold']:.3f} (precision >= {goal} "
                f"with {sure} on out-of-fold predictions). {here}"
            )
        else:
            out.print(
                f"[bold yellow]{name}: precision target {goal} for '{label}' is NOT reachable[/] "
                f"with {sure} on out-of-fold predictions (the best they support is "
                f"{target['best_precision']:.3f}); falling back to that threshold, "
                f"{target['threshold']:.3f}. {here}"
            )


def _router(model: Any, rules: Path | None) -> Any:
    """The routing rules of ``--rules FILE``, or the built-in ones, checked against the model."""
    from ticket_triage.core.routing import Router

    if rules is None:
        return Router.default(model.head_classes)
    return Router.load(rules, model.head_classes)


RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="Routing rules (TOML); default: priority, review, per topic."),
]


def _read_for(model: Any, path: Path, require_labels: bool, frame: Any = None) -> Any:
    """Read a file to score with ``model``: its metadata columns, those absent taken as empty."""
    from ticket_triage.training.data import read_table, tickets_from_frame

    tickets = tickets_from_frame(
        read_table(path) if frame is None else frame,
        path,
        list(model.meta.get("metadata", [])),
        require_labels,
        optional_metadata=True,
    )
    if tickets.missing_metadata:
        err.print(
            f"[yellow]warning:[/] {path.name} has no {', '.join(tickets.missing_metadata)} "
            "column(s); scoring without that metadata",
            highlight=False,
        )
    return tickets


@app.command()
def train(
    data: Annotated[Path, typer.Argument(help="Labelled tickets: .csv, .jsonl or .parquet.")],
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
    as_json: Annotated[bool, typer.Option("--json", help="Print metrics.json to stdout.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress display.")] = False,
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
    with _steps(not quiet and not as_json) as step:
        result = run_training(data, out_dir, settings, progress=step)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if as_json:
        sys.stdout.write(json.dumps(result.metrics, indent=2) + "\n")
        return
    _print_summary(result.metrics)
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
    tickets = _read_for(model, data, require_labels=True)
    metrics, evaluations, warnings = run_evaluation(model, tickets, description=data.name)
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if not metrics["heads"]:
        raise _fail(
            f"{data}: no labels for any of the model's heads ({', '.join(model.head_names)})"
        )
    _print_summary(metrics)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(metrics, indent=2) + "\n")
    if report is not None:
        write_report(report, metrics, evaluations, title=f"ticket-triage evaluation: {data.name}")


def _score_batch(
    model: Any, router: Any, batch: list[dict[str, Any]], offset: int = 0
) -> dict[str, list[Any]]:
    """The decision and queue columns of ``batch``: what ``triage_many`` plus routing give, from
    the model's decision arrays (no object per ticket and head) and one routing call per distinct
    (labels, review, metadata) combination: together half of the scoring time otherwise.
    ``offset`` is the batch's first row in the file, for error messages."""
    import numpy as np

    from ticket_triage.core.errors import InvalidTicket

    texts = []
    for position, ticket in enumerate(batch, start=offset):
        try:
            texts.append(model.text_of(ticket))
        except InvalidTicket as exc:
            raise InvalidTicket(f"ticket {position}: {exc}") from exc
    decided = model.decide_texts(texts)
    columns: dict[str, list[Any]] = {}
    for name, head in decided.items():
        columns[f"{name}_label"] = head.labels.tolist()
        columns[f"{name}_confidence"] = [round(value, 6) for value in head.confidence.tolist()]
        columns[f"{name}_needs_review"] = head.needs_review.tolist()
    review = np.logical_or.reduce([head.needs_review for head in decided.values()]).tolist()
    columns["needs_review"] = review
    labels = list(zip(*(columns[f"{name}_label"] for name in decided), strict=True))
    routes: dict[tuple[Any, ...], Any] = {}
    queues, rules = [], []
    for ticket, ticket_labels, needs_review in zip(batch, labels, review, strict=True):
        key = (ticket_labels, needs_review, tuple(ticket["metadata"].items()))
        route = routes.get(key)
        if route is None:
            route = router.route(
                dict(zip(decided, ticket_labels, strict=True)), needs_review, ticket["metadata"]
            )
            routes[key] = route
        queues.append(route.queue)
        rules.append(route.rule)
    columns["queue"], columns["queue_rule"] = queues, rules
    return columns


#: The model and router of ``triage predict``, inherited by its forked scoring processes.
_FORKED: dict[str, Any] = {}


def _score_forked(start: int, batch: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """:func:`_score_batch` in a forked worker, with the parent's model (no reload per worker)."""
    return _score_batch(_FORKED["model"], _FORKED["router"], batch, start)


def _score_all(
    model: Any, router: Any, tickets: list[dict[str, Any]], batch_size: int, workers: int
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
        _FORKED.update(model=model, router=router)
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            parts = list(pool.map(_score_forked, starts, batches))
    else:
        parts = [
            _score_batch(model, router, batch, start)
            for start, batch in zip(starts, batches, strict=True)
        ]
    for part in parts:
        for name, values in part.items():
            columns.setdefault(name, []).extend(values)
    return columns


@app.command()
def predict(
    model_dir: Annotated[Path, typer.Argument(help="Model directory written by `triage train`.")],
    input_file: Annotated[Path, typer.Argument(help="Tickets: .csv, .jsonl or .parquet.")],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Output file (format from its extension).")
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
) -> None:
    """Batch scoring: the input's rows with decision and queue columns added, same format."""
    import os
    import time

    import pandas as pd

    from ticket_triage.core.model import TriageModel
    from ticket_triage.training.data import read_table, write_table

    model = TriageModel.load(model_dir)
    router = _router(model, rules)
    started = time.perf_counter()
    frame = read_table(input_file)
    tickets = _read_for(model, input_file, require_labels=False, frame=frame)
    if tickets.n_dropped:
        raise _fail(f"{input_file}: {tickets.n_dropped} rows have neither subject nor body")
    read_done = time.perf_counter()
    processes = workers or os.cpu_count() or 1
    columns = _score_all(model, router, tickets.tickets, batch_size, processes)
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
        raise _fail("Parquet output needs --out FILE")
    if timings:
        # benchmarks/scale.py reads this line: scoring alone versus the file handling around it.
        spent = {
            "read_seconds": read_done - started,
            "score_seconds": score_done - read_done,
            "write_seconds": time.perf_counter() - score_done,
            "tickets": len(tickets.tickets),
        }
        err.print(f"timings: {json.dumps(spent)}", highlight=False, soft_wrap=True)


@app.command()
def demo(
    model_dir: Annotated[Path, typer.Argument(help="Model directory.")] = DEFAULT_MODEL,
    rules: RulesOption = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Also show the n-grams behind each decision.")
    ] = False,
) -> None:
    """Triage a handful of example tickets and print the decisions and queues."""
    from ticket_triage.core.model import TriageModel

    model = TriageModel.load(model_dir)
    router = _router(model, rules)
    table = Table(title=f"ticket-triage {model.version}: example decisions")
    table.add_column("ticket", no_wrap=True)
    for name in model.head_names:
        table.add_column(name)
    table.add_column("queue", no_wrap=True)
    for ticket, result in zip(EXAMPLES, model.triage_many(EXAMPLES), strict=True):
        cells = [f"{result[name].label} {result[name].confidence:.0%}" for name in model.head_names]
        labels = {name: result[name].label for name in model.head_names}
        queue = router.route(labels, result.needs_review, ticket["metadata"]).queue
        table.add_row(ticket["subject"], *cells, queue)
    out.print(table)
    if explain:
        for ticket in EXAMPLES:
            out.print(f"[bold]{ticket['subject']}[/]", highlight=False)
            for name, why in model.explain(ticket, top=3).items():
                reasons = ", ".join(
                    f"{' / '.join(c.ngrams)!r} +{c.weight:.2f}" for c in why.contributions
                )
                out.print(f"  {name}: {why.label} over {why.versus}: {reasons}", highlight=False)


@app.command()
def serve(
    model_dir: Annotated[
        Path, typer.Option("--model", envvar="TRIAGE_MODEL_DIR", help="Model directory.")
    ] = DEFAULT_MODEL,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to bind.")] = 8000,
    rules: Annotated[
        Path | None,
        typer.Option("--rules", envvar="TRIAGE_RULES_FILE", help="Routing rules (TOML)."),
    ] = None,
    database: Annotated[
        str,
        typer.Option(
            "--db",
            envvar="TRIAGE_DATABASE_URL",
            help="Prediction log and feedback; 'none' to keep no log.",
        ),
    ] = "sqlite:///triage.db",
) -> None:
    """Serve the HTTP API (one uvicorn worker); other settings come from TRIAGE_* variables."""
    try:
        import uvicorn

        from ticket_triage.serving.api import create_app
        from ticket_triage.serving.logs import configure_logging
        from ticket_triage.serving.service import Service
        from ticket_triage.serving.settings import load_settings
    except ImportError as exc:
        message = f"serving needs the serve extra: pip install 'ticket-triage[serve]' ({exc})"
        raise _fail(message) from None

    settings = load_settings(model_dir=model_dir, rules_file=rules, database_url=database)
    configure_logging(settings.log_level)
    service = Service.start(settings)
    if not service.ready:
        raise _fail(f"not serving: {service.error}")
    base = f"http://{'localhost' if host in {'127.0.0.1', '0.0.0.0'} else host}:{port}"  # noqa: S104
    example = json.dumps(EXAMPLES[0], ensure_ascii=False)
    err.print(
        f"ticket-triage {service.model_version} on {base}\n"
        f"  docs:  {base}/docs\n"
        f"  dashboard: {base}/dashboard\n"
        f"  try:   curl -s {base}/v1/triage -H 'content-type: application/json' "
        f"-d '{example}'",
        highlight=False,
        soft_wrap=True,
    )
    uvicorn.run(
        create_app(settings, service),
        host=host,
        port=port,
        log_config=None,  # records go to the JSON handler configure_logging installed
        timeout_graceful_shutdown=30,
    )


DatabaseOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="TRIAGE_DATABASE_URL",
        help="The prediction log (sqlite:///... or postgresql+psycopg://...).",
    ),
]
SinceOption = Annotated[
    str | None,
    typer.Option(help="Only predictions since: 30d, 12h, 2w, or a date (2026-11-01); default all."),
]


def _since(text: str | None) -> datetime | None:
    """``30d`` / ``12h`` / ``2w`` ago, or an ISO date or time (UTC unless it says otherwise)."""
    if text is None:
        return None
    units = {"h": "hours", "d": "days", "w": "weeks"}
    number, unit = text[:-1], text[-1:].lower()
    if unit in units and number.isdigit():
        return datetime.now(UTC) - timedelta(**{units[unit]: int(number)})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"--since {text!r}: use 30d, 12h, 2w or a date such as 2026-11-01") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _open_store(url: str) -> Any:
    from ticket_triage.production.store import Store

    return Store.open(url)


@app.command()
def export(
    database: DatabaseOption,
    out_file: Annotated[Path, typer.Option("--out", help="CSV, JSONL or Parquet file to write.")],
    since: SinceOption = None,
) -> None:
    """Write the tickets agents corrected or confirmed as training data (the data contract)."""
    import pandas as pd

    from ticket_triage.training.data import write_table

    rows, no_text = _open_store(database).corrected_tickets(_since(since))
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

    start = _since(since)
    if start is None:
        raise _fail("--since is required for a report, e.g. 30d")
    report = build_report(_open_store(database), model_dir, since=start)
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
        model_dir, _open_store(database), since=_since(since), out_dir=out_dir
    )
    for line in result.summary().splitlines():
        out.print(line, highlight=False)


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


def main() -> None:
    """Console-script entry point: run the app, turning expected failures into one line."""
    try:
        app()
    except TriageError as exc:
        raise SystemExit(_fail(str(exc)).exit_code) from None
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise SystemExit(_fail(f"{where}{exc.strerror or exc}").exit_code) from None
