"""The same FastAPI app on AWS Lambda: ``ticket_triage.serving.aws_lambda.handler``.

Everything costly happens at import, in Lambda's init phase (which provisioned concurrency runs
before any request): settings from the environment, the artifact read and verified, the dense
scoring table built, the app assembled. Mangum runs with ``lifespan="off"``; it would otherwise
start and stop the app's lifespan on every invocation, which is why the model is not loaded in
a lifespan hook.

:func:`handler` then sorts each event:

- API Gateway REST (v1), HTTP API (v2) and Function URL events go to the app through Mangum;
- a warm-up ping (an EventBridge ``Scheduled Event``, or ``{"warmup": true}``) returns at once
  without touching the app;
- ``{"connectors": "drain"}`` (the template's every-minute schedule, when help desks are
  connected) sends the outbox's due write-backs, for as long as the invoke has time: a webhook's
  own invoke sends its write-back at once, and this picks up what failed there (the desk was
  down, rate limited) once its retry time has come;
- anything else gets an error result naming what arrived, not an exception.

Logs are JSON lines on stdout (CloudWatch) carrying the invocation's request id; see
:mod:`ticket_triage.serving.logs` for why they come from the standard library rather than
Powertools.
Each triage request also prints one Embedded Metric Format line: counts per class, per queue and
for review become CloudWatch metrics without an API call. With ``TRIAGE_DATABASE_URL`` set,
prediction records go to that database within the request (spooled to ``TRIAGE_SPOOL_PATH``,
``/tmp`` in the template, while it is down; that spool lives only as long as the execution
environment).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from mangum import Mangum
from mangum.adapter import HANDLERS

from ticket_triage.serving.api import create_app
from ticket_triage.serving.logs import configure_logging, request_id
from ticket_triage.serving.metrics import emf_line
from ticket_triage.serving.schemas import TriageOut
from ticket_triage.serving.service import Service
from ticket_triage.serving.settings import get_settings

__all__ = ["handler", "make_handler"]

logger = logging.getLogger(__name__)

LambdaHandler = Callable[[Mapping[str, Any], Any], dict[str, Any]]


def is_warmup(event: Mapping[str, Any]) -> bool:
    """A keep-warm ping: the scheduled EventBridge rule of the SAM template, or a manual one.

    Examples
    --------
    >>> is_warmup({"source": "aws.events", "detail-type": "Scheduled Event"}), is_warmup({})
    (True, False)
    """
    return event.get("warmup") is True or (
        event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"
    )


def make_handler(app: FastAPI) -> LambdaHandler:
    """A Lambda handler serving ``app`` (built by :func:`~ticket_triage.serving.api.create_app`)."""
    adapter = Mangum(app, lifespan="off")
    service: Service = app.state.service

    def handle(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        token = request_id.set(getattr(context, "aws_request_id", None))
        try:
            if not isinstance(event, Mapping):
                return _unsupported(f"an event must be a JSON object, got {type(event).__name__}")
            if event.get("connectors") == "drain":
                return _drain(service, context)
            if is_warmup(event):
                return {
                    "warmup": True,
                    "ready": service.ready,
                    "model_version": service.model_version,
                }
            if not any(kind.infer(event, context, adapter.config) for kind in HANDLERS):
                source = event.get("source") or event.get("detail-type") or "unknown source"
                return _unsupported(
                    f"not an HTTP event ({source}); this function serves API Gateway REST and "
                    "HTTP APIs, Function URLs, and warm-up pings"
                )
            return adapter(dict(event), context)
        finally:
            request_id.reset(token)

    return handle


def _drain(service: Service, context: Any) -> dict[str, Any]:
    """Send what the outbox has due, leaving 5 s of the invoke's time (50 s without a context)."""
    connectors = service.loaded.connectors if service.ready else None
    if connectors is None:
        return _unsupported("no help desk is connected (TRIAGE_CONNECTORS_FILE)")
    remaining = getattr(context, "get_remaining_time_in_millis", lambda: 55_000)() / 1000
    sent = connectors.worker.drain(max(1.0, remaining - 5.0))
    return {"drained": sent, "outbox": connectors.outbox.counts()}


def _unsupported(message: str) -> dict[str, Any]:
    logger.warning("unsupported event: %s", message)
    return {"statusCode": 400, "error": "unsupported event", "detail": message}


def _emf(decisions: Sequence[TriageOut]) -> None:
    """Counts per class, queue and review as one CloudWatch EMF line on stdout."""
    sys.stdout.write(emf_line(decisions) + "\n")


def _init() -> LambdaHandler:
    settings = get_settings()
    configure_logging(settings.log_level, service="ticket-triage-lambda")
    # Nothing runs between invocations, so prediction records (if a database is configured)
    # are written within the request rather than by a writer thread.
    service = Service.start(settings, background_writes=False)
    service.listeners.append(_emf)
    return make_handler(create_app(settings, service))


#: The function's entry point; the SAM template names it through the stable re-export
#: ``ticket_triage.aws_lambda.handler``.
handler: LambdaHandler = _init()
