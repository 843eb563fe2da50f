"""What every ``triage`` command shares: the typer app, the consoles, one-line failures, the
progress display and the common options.

Failures the user can fix (a bad file, a tampered model, an unknown option) print one line to
stderr and exit with status 1 (2 for usage errors, from typer): never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:  # the commands import what they need: `triage --help` stays fast
    import pandas as pd

    from ticket_triage.core.model import TriageModel
    from ticket_triage.production.store import Store
    from ticket_triage.training.data import Tickets

__all__ = [
    "DEFAULT_MODEL",
    "EXAMPLES",
    "DatabaseOption",
    "EngineOption",
    "RulesOption",
    "SinceOption",
    "SparkMasterOption",
    "app",
    "err",
    "fail",
    "location",
    "on_spark",
    "open_store",
    "out",
    "print_summary",
    "read_for",
    "since_time",
    "steps",
]

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
def steps(enabled: bool) -> Iterator[Callable[[str], None]]:
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


def fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def print_summary(metrics: dict[str, Any]) -> None:
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


class _Location(type(Path())):  # type: ignore[misc]  # the concrete PosixPath/WindowsPath
    """A path as typed: ``Path("s3a://bucket/x")`` collapses the ``//`` of a URI, so the Spark
    engine reads the text given (:attr:`text`) while the local engine uses the path as before."""

    text: str


def location(value: str) -> Path:
    """A path argument that also keeps its text as typed (``--engine spark`` reads URIs)."""
    path = _Location(value)
    path.text = value
    return path


EngineOption = Annotated[
    str,
    typer.Option(help="'local' (this machine) or 'spark' (needs the spark extra and Java 17+)."),
]


SparkMasterOption = Annotated[
    str, typer.Option(help="With --engine spark: the Spark master URL (local[*]: every core here).")
]


def on_spark(engine: str) -> bool:
    """Whether ``--engine`` asks for Spark; a clear error for an unknown engine or a missing
    pyspark."""
    if engine not in ("local", "spark"):
        raise fail(f"--engine {engine!r}: use 'local' or 'spark'")
    if engine == "spark":
        from importlib.util import find_spec

        if find_spec("pyspark") is None:
            raise fail("--engine spark needs pyspark: pip install 'ticket-triage[spark]'")
    return engine == "spark"


RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="Routing rules (TOML); default: priority, review, per topic."),
]


def read_for(
    model: TriageModel, path: Path, require_labels: bool, frame: pd.DataFrame | None = None
) -> Tickets:
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
    typer.Option(help="Only predictions since: 30d, 12h, 2w, or a date (2026-11-01); unset: all."),
]


def since_time(text: str | None) -> datetime | None:
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
        raise fail(f"--since {text!r}: use 30d, 12h, 2w or a date such as 2026-11-01") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def open_store(url: str) -> Store:
    from ticket_triage.production.store import Store

    return Store.open(url)
