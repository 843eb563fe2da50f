"""The HTTP API (FastAPI): an app factory over one :class:`~ticket_triage.serving.service.Service`.

The app includes the JSON routes (:mod:`~ticket_triage.serving.routes`, listed there), the
dashboard (:mod:`~ticket_triage.serving.dashboard`), the help desks' webhooks
(:mod:`~ticket_triage.serving.webhooks`) and FastAPI's ``/docs``; in front of them the
guard (:mod:`~ticket_triage.serving.guard`) checks size and content type before any parsing.

Every error is JSON ``{"detail": ...}``: a 422 lists each problem with the field at fault
(``field`` is the JSON path, e.g. ``tickets.3.body``), 413 names the size limit, 415 the content
type, 401 the token, 503 why the model is not loaded. Unexpected failures are logged and answered
with a plain 500 JSON body, never a traceback. Validation errors never echo the input back:
tickets are personal data.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ticket_triage import __version__
from ticket_triage.core.errors import Rejected
from ticket_triage.serving.dashboard import Dashboard
from ticket_triage.serving.dashboard import router as dashboard_router
from ticket_triage.serving.guard import Guard, Timing
from ticket_triage.serving.metrics import Metrics
from ticket_triage.serving.routes import ROUTERS
from ticket_triage.serving.service import Service
from ticket_triage.serving.settings import Settings, get_settings
from ticket_triage.serving.webhooks import PATH as WEBHOOK_PATH
from ticket_triage.serving.webhooks import router as webhooks_router

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, service: Service | None = None) -> FastAPI:
    """Build the app. The model loads here, once (not in ``lifespan``: the Lambda adapter runs
    with lifespan off, and the same factory serves both).

    Parameters
    ----------
    settings
        Defaults to :func:`~ticket_triage.serving.settings.get_settings` (the environment).
    service
        An already started service (``triage serve`` checks readiness before binding a port).
    """
    settings = settings or get_settings()
    service = service or Service.start(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        # SIGTERM under uvicorn: in-flight requests have finished; drain the prediction log.
        await run_in_threadpool(service.close)

    app = FastAPI(
        title="ticket-triage",
        version=__version__,
        summary="Urgency and topic of support tickets, routed to queues, in microseconds.",
        lifespan=lifespan,
    )
    metrics = Metrics(service.model_version, lambda: service.store_up)
    service.listeners.append(metrics.observe)
    service.webhook_listeners.append(metrics.webhook)
    metrics.watch_versions(service.version_stats)
    connectors = service.loaded.connectors if service.ready else None
    if connectors is not None:
        connectors.worker.listeners.append(metrics.write_back)
        metrics.watch_outbox(connectors.outbox.counts)
    app.state.service = service
    app.state.metrics = metrics
    app.state.dashboard = Dashboard(service)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(dashboard_router)
    app.include_router(webhooks_router)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Rejected, _rejected)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(Guard, settings=settings, service=service)
    app.add_middleware(Timing, metrics=metrics)
    schema_of = app.openapi

    def openapi() -> dict[str, Any]:
        """The schema FastAPI derives, with each route's token requirement as configured and the
        feedback labels this model knows; built once, as FastAPI's own is (the settings and the
        model do not change in a running process)."""
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = _document_auth(schema_of(), settings)  # schema_of caches it on the app
        if service.ready:
            _document_labels(schema, service.feedback_labels())
        _document_desks(schema, connectors.desks if connectors is not None else ())
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _document_auth(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Say in the schema which routes need the bearer token with *these* settings.

    FastAPI lists the bearer scheme as required on every route that depends on it, but whether it
    is depends on configuration: with no ``TRIAGE_API_TOKEN`` nothing needs it, and the triage
    routes need it only with ``TRIAGE_PROTECT_TRIAGE``. Clients and fuzzers read this, so it must
    not claim more than the service checks.
    """
    for path, operations in schema.get("paths", {}).items():
        protected = settings.api_token is not None and (
            path.startswith(("/v1/feedback", "/v1/admin")) or settings.protect_triage
        )
        for operation in operations.values():
            if "security" in operation and not protected:
                del operation["security"]
                operation.get("responses", {}).pop("401", None)
    return schema


def _document_labels(schema: dict[str, Any], allowed: dict[str, list[str]]) -> None:
    """List the allowed feedback labels as enums: they come from the loaded model and rules, so a
    static schema cannot name them, and a client should not learn them from 422s."""
    properties = schema["components"]["schemas"]["FeedbackIn"]["properties"]
    for field, values in allowed.items():
        if field in properties:
            properties[field]["anyOf"][0]["enum"] = sorted(values)


def _document_desks(schema: dict[str, Any], desks: Sequence[str]) -> None:
    """List the connected help desks as the webhook route's only ``desk`` values, or leave the
    route out when none is connected (it then answers 404 to every desk)."""
    paths = schema.get("paths", {})
    if not desks:
        paths.pop(WEBHOOK_PATH, None)
        return
    for operation in paths.get(WEBHOOK_PATH, {}).values():
        for parameter in operation.get("parameters", []):
            if parameter.get("name") == "desk":
                parameter["schema"]["enum"] = list(desks)


# -- errors ------------------------------------------------------------------------------------


def _problem(loc: tuple[Any, ...], message: str, kind: str) -> dict[str, Any]:
    path = [str(part) for part in loc]
    field = ".".join(path[1:] if path and path[0] in {"body", "query", "header"} else path)
    return {"loc": list(loc), "field": field or "request", "msg": message, "type": kind}


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover - registered for it only
        raise exc
    problems = []
    for error in exc.errors():
        if error["type"] == "json_invalid":  # loc is ("body", character offset)
            where = error["loc"][-1]
            reason = error.get("ctx", {}).get("error", "invalid JSON")
            problems.append(
                _problem(("body",), f"invalid JSON at character {where}: {reason}", "json_invalid")
            )
        else:
            problems.append(_problem(tuple(error["loc"]), error["msg"], error["type"]))
    return JSONResponse({"detail": problems}, status_code=422)


async def _rejected(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, Rejected):  # pragma: no cover - registered for it only
        raise exc
    problem = _problem(("body", *exc.loc), exc.message, "value_error")
    return JSONResponse({"detail": [problem]}, status_code=422)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unexpected error", extra={"path": request.url.path})
    return JSONResponse({"detail": "internal error; the service logged it"}, status_code=500)
