"""``triage serve``: the HTTP API under uvicorn, after checking the model and rules load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ticket_triage.cli.common import DEFAULT_MODEL, EXAMPLES, app, err, fail


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
    connectors: Annotated[
        Path | None,
        typer.Option(
            "--connectors",
            envvar="TRIAGE_CONNECTORS_FILE",
            help="connectors.toml: the help desks whose webhooks to take.",
        ),
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
        raise fail(message) from None

    settings = load_settings(
        model_dir=model_dir, rules_file=rules, database_url=database, connectors_file=connectors
    )
    configure_logging(settings.log_level)
    service = Service.start(settings)
    if not service.ready:
        raise fail(f"not serving: {service.error}")
    base = f"http://{'localhost' if host in {'127.0.0.1', '0.0.0.0'} else host}:{port}"  # noqa: S104
    example = json.dumps(EXAMPLES[0], ensure_ascii=False)
    desks = service.loaded.connectors.desks if service.loaded.connectors is not None else ()
    webhooks = "".join(f"  webhook: {base}/v1/connectors/{desk}\n" for desk in desks)
    err.print(
        f"ticket-triage {service.model_version} on {base}\n"
        f"  docs:  {base}/docs\n"
        f"  dashboard: {base}/dashboard\n"
        f"{webhooks}"
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
