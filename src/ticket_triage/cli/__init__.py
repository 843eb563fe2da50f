"""``triage``: the command line (typer + rich). Each command is a thin wrapper over a library call.

A module per group of commands: ``training.py`` (train, evaluate, sample), ``scoring.py`` (predict,
demo), ``serve.py`` (serve), ``production.py`` (export, monitor, retune), ``connectors.py``
(connectors status, retry, import, worker), ``models.py`` (the model registry: models list,
show, add, promote, rollback, shadow, canary), ``retrain.py`` (retrain); ``common.py`` holds the
app and what they share. Failures the user can fix print one line to stderr and exit with status 1
(2 for usage errors, from typer): never a traceback.
"""

from __future__ import annotations

from ticket_triage.cli import connectors, models, production, retrain, scoring, serve, training
from ticket_triage.cli.common import app, fail
from ticket_triage.core.errors import TriageError

__all__ = ["app", "main"]

# The command modules register their commands on ``app`` when imported.
_COMMANDS = (training, scoring, serve, production, connectors, models, retrain)


def main() -> None:
    """Console-script entry point: run the app, turning expected failures into one line."""
    try:
        app()
    except TriageError as exc:
        raise SystemExit(fail(str(exc)).exit_code) from None
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise SystemExit(fail(f"{where}{exc.strerror or exc}").exit_code) from None
