"""``triage connectors``: the help desks' outbox and history.

``status`` (the outbox per desk and its dead letters), ``retry`` (send dead write-backs again),
``import`` (a desk's history as a training file, resumable) and ``worker`` (the outbox worker as a
process of its own). Secrets come from the same ``TRIAGE_*`` variables as the service's.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ticket_triage.cli.common import DEFAULT_MODEL, DatabaseOption, RulesOption, app, err, fail, out

__all__ = ["connectors"]

connectors = typer.Typer(
    name="connectors",
    help="Help desks: the outbox of write-backs, and importing a desk's history.",
    no_args_is_help=True,
)
app.add_typer(connectors)

ConfigOption = Annotated[
    Path,
    typer.Option("--connectors", envvar="TRIAGE_CONNECTORS_FILE", help="connectors.toml."),
]


def _outbox(database: str) -> Any:
    from ticket_triage.production.outbox import Outbox
    from ticket_triage.production.store import Store

    return Outbox(Store.open(database))


@connectors.command()
def status(
    database: DatabaseOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="Dead letters to list.")] = 20,
) -> None:
    """The outbox per help desk (pending, sending, done, superseded, dead) and its dead letters."""
    outbox = _outbox(database)
    counts = outbox.counts()
    dead = outbox.rows(status="dead", limit=limit)
    if as_json:
        sys.stdout.write(json.dumps({"outbox": counts, "dead": dead}, default=str, indent=2) + "\n")
        return
    states = ("pending", "sending", "done", "superseded", "dead")
    table = Table(title="help-desk outbox")
    table.add_column("desk")
    for state in states:
        table.add_column(state, justify="right")
    for desk, found in sorted(counts.items()):
        table.add_row(desk, *(str(found[state]) for state in states))
    out.print(table)
    if not counts:
        out.print("No help-desk events yet.")
    for row in dead:
        out.print(
            f"dead #{row['id']} {row['desk']} ticket {row['external_id']} after "
            f"{row['attempts']} attempts: {row['last_error']}",
            highlight=False,
        )
    if dead:
        out.print("Fix the cause, then: triage connectors retry --db ...", highlight=False)


@connectors.command()
def retry(
    database: DatabaseOption,
    ids: Annotated[
        list[int] | None, typer.Option("--id", help="Only these rows (repeat); default: all dead.")
    ] = None,
    desk: Annotated[str | None, typer.Option(help="Only this help desk's.")] = None,
) -> None:
    """Send dead (or superseded, with --id) write-backs again; the worker picks them up."""
    reset = _outbox(database).retry(ids=ids or (), desk=desk)
    err.print(f"{reset} write-backs will be sent again", highlight=False)


@connectors.command(name="import")
def import_(
    desk: Annotated[str, typer.Argument(help="zendesk, freshdesk or github.")],
    config: ConfigOption,
    out_file: Annotated[Path, typer.Option("--out", help="The CSV to write (data contract).")],
    since: Annotated[
        str | None, typer.Option(help="Only tickets updated since this date (2025-01-01).")
    ] = None,
    model_dir: Annotated[
        Path | None,
        typer.Option("--model", help="Check the config against this model (optional)."),
    ] = None,
    rules: RulesOption = None,
) -> None:
    """Write a help desk's history as a training file, then: triage train FILE --out DIR."""
    from ticket_triage.connectors.backfill import import_history
    from ticket_triage.connectors.config import load_connectors, taxonomy
    from ticket_triage.connectors.runtime import Secrets, build_desks
    from ticket_triage.serving.settings import HelpDeskSecrets

    if since is not None:
        try:
            moment = datetime.fromisoformat(since)
        except ValueError:
            raise fail(f"--since {since!r}: use a date such as 2025-01-01") from None
        since = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    heads: dict[str, tuple[str, ...]]
    queues: list[str]
    if model_dir is not None:
        from ticket_triage.core.pipeline import Pipeline

        pipeline = Pipeline.load(model_dir, rules)
        heads, queues = pipeline.model.head_classes, pipeline.router.queues
        parsed = load_connectors(config, heads, queues)
    else:
        parsed = load_connectors(config)
        heads = taxonomy(parsed)
        queues = sorted(
            {
                queue
                for name in parsed.desks
                for queue in getattr(getattr(parsed, name), "groups", {})
            }
        )
    if desk not in parsed.desks:
        raise fail(f"{config}: no [{desk}] table (configured: {', '.join(parsed.desks)})")
    desks = build_desks(parsed, Secrets(**HelpDeskSecrets().secrets()), heads, queues)
    result = import_history(
        desks[desk], desks[desk].sender(), out_file, since=since,
        progress=lambda n: err.print(f"  {n} tickets written", highlight=False),
    )  # fmt: skip
    done = "resumed and finished" if result.resumed else "finished"
    err.print(
        f"{desk}: {result.written} tickets -> {out_file} ({done}; {result.skipped} skipped; "
        f"urgency labels: {result.labelled.get('urgency', 0)}, topic labels: "
        f"{result.labelled.get('topic', 0)}). Next: triage train {out_file} --out models/mine",
        highlight=False,
    )


@connectors.command()
def worker(
    database: DatabaseOption,
    config: ConfigOption,
    model_dir: Annotated[
        Path, typer.Option("--model", envvar="TRIAGE_MODEL_DIR", help="The served model.")
    ] = DEFAULT_MODEL,
    rules: RulesOption = None,
) -> None:
    """Run the outbox worker in the foreground until SIGTERM or Ctrl-C.

    For deployments whose API processes run with TRIAGE_CONNECTORS_WORKER=false.
    """
    from ticket_triage.connectors.runtime import Connectors, Secrets
    from ticket_triage.core.pipeline import Pipeline
    from ticket_triage.production.records import prediction_row
    from ticket_triage.production.store import Store
    from ticket_triage.serving.logs import configure_logging
    from ticket_triage.serving.settings import HelpDeskSecrets

    configure_logging("INFO", service="ticket-triage-outbox")
    pipeline = Pipeline.load(model_dir, rules)
    secrets = Secrets(**HelpDeskSecrets().secrets())
    make_row = partial(prediction_row, store_text=True)
    runtime = Connectors.start(
        config, secrets, pipeline, Store.open(database), make_row, sending="thread"
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    err.print(f"outbox worker for {', '.join(runtime.desks)} on {database}", highlight=False)
    stop.wait()
    runtime.close()
