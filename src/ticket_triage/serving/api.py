"""The HTTP API (FastAPI): an app factory over one :class:`~ticket_triage.serving.service.Service`.

=========================  =================================================================
``POST /v1/triage``        one ticket -> labels, probabilities, queue, ``needs_review``, ``id``
``POST /v1/triage/batch``  ``{"tickets": [...]}`` -> ``{"results": [...]}`` in order
``POST /v1/feedback``      an agent's final labels for a decision (bearer token if configured)
``GET /v1/model``          version, classes, thresholds, queues and routing rules
``GET /healthz``           the process is alive
``GET /readyz``            the model is loaded and verified (503 with the reason if not)
``GET /metrics``           Prometheus counters
``GET /dashboard``         the monitoring report and a form to try a ticket
``GET /docs``              OpenAPI documentation
=========================  =================================================================

Every error is JSON ``{"detail": ...}``: a 422 lists each problem with the field at fault
(``field`` is the JSON path, e.g. ``tickets.3.body``), 413 names the size limit, 415 the content
type, 401 the token, 503 why the model is not loaded. Unexpected failures are logged and answered
with a plain 500 JSON body, never a traceback. Validation errors never echo the input back:
tickets are personal data.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticket_triage import __version__
from ticket_triage.core.errors import StoreUnavailable, UnknownPrediction
from ticket_triage.serving.metrics import CONTENT_TYPE_LATEST, Metrics
from ticket_triage.serving.schemas import (
    BatchIn,
    BatchOut,
    ErrorOut,
    FeedbackIn,
    FeedbackOut,
    HealthOut,
    ModelOut,
    ReadyOut,
    TicketIn,
    TriageOut,
)
from ticket_triage.serving.service import Rejected, Service
from ticket_triage.serving.settings import Settings, get_settings

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

BATCH_PATH = "/v1/triage/batch"
RETRY_AFTER = 5  # seconds a client should wait before retrying feedback when the store is down
_bearer = HTTPBearer(auto_error=False, description="TRIAGE_API_TOKEN, when the service sets one.")


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
    app.state.service = service
    app.state.metrics = metrics
    app.include_router(_health)
    app.include_router(_triage)
    app.include_router(_feedback)
    app.include_router(_model)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Rejected, _rejected)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(_Guard, settings=settings, service=service)
    app.add_middleware(_Timing, metrics=metrics)
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
            path.startswith("/v1/feedback") or settings.protect_triage
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


# -- dependencies ------------------------------------------------------------------------------


# Dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency in a worker
# thread, which under Mangum means a new thread on every Lambda invoke (measured: p99 1.4 ms
# per invoke with them, 0.4 ms without). None of them waits on anything.


async def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def _ready_service(request: Request) -> Service:
    service: Service = request.app.state.service
    if not service.ready:
        raise HTTPException(503, f"model not loaded: {service.error}")
    return service


def _check_token(
    service: Service,
    credentials: HTTPAuthorizationCredentials | None,
) -> None:
    token = service.settings.api_token
    if token is None:
        return
    if credentials is None:
        raise HTTPException(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
    if not secrets.compare_digest(
        credentials.credentials.encode(), token.get_secret_value().encode()
    ):
        raise HTTPException(401, "invalid bearer token", {"WWW-Authenticate": "Bearer"})


async def _token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    _check_token(request.app.state.service, credentials)


async def _triage_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    service: Service = request.app.state.service
    if service.settings.protect_triage:
        _check_token(service, credentials)


ServiceDep = Annotated[Service, Depends(_service)]
ReadyDep = Annotated[Service, Depends(_ready_service)]
Explain = Annotated[
    bool, Query(description="Add, per head, the n-grams that pushed the decision most.")
]


# -- routes ------------------------------------------------------------------------------------


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "model": ErrorOut}


#: What the guard, the token and an unready model answer, documented on every route they reach.
_BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The body is not valid UTF-8."),
    401: _error("Missing or wrong bearer token (when one is configured)."),
    413: _error("The body is over the configured size."),
    415: _error("The content type is not JSON."),
    503: _error("The model is not loaded (see /readyz), or the database is unavailable."),
}
_health = APIRouter(tags=["health"])
_triage = APIRouter(
    prefix="/v1",
    tags=["triage"],
    dependencies=[Depends(_triage_token)],
    responses=_BODY_ERRORS,
)
_feedback = APIRouter(
    prefix="/v1", tags=["feedback"], dependencies=[Depends(_token)], responses=_BODY_ERRORS
)
_model = APIRouter(prefix="/v1", tags=["model"], responses={503: _BODY_ERRORS[503]})


@_health.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    """The documentation."""
    return RedirectResponse("/docs")


@_health.get("/healthz")
async def healthz(service: ServiceDep) -> HealthOut:
    """The process is alive (it may not be ready)."""
    return HealthOut(status="ok", model_version=service.model_version)


@_health.get("/readyz", responses={503: {"model": ReadyOut}})
async def readyz(service: ServiceDep) -> Any:
    """The model and routing rules are loaded and verified."""
    body = ReadyOut(ready=service.ready, model_version=service.model_version, detail=service.error)
    if not service.ready:
        return JSONResponse(body.model_dump(), status_code=503)
    return body


@_triage.post("/triage", response_model_exclude_none=True)
async def triage(ticket: TicketIn, service: ReadyDep, explain: Explain = False) -> TriageOut:
    """Decide urgency and topic of one ticket and route it to a queue."""
    return service.triage([ticket], explain=explain)[0]


@_triage.post("/triage/batch", response_model_exclude_none=True)
async def triage_batch(batch: BatchIn, service: ReadyDep, explain: Explain = False) -> BatchOut:
    """Decide and route many tickets at once (vectorised); results keep the request's order."""
    limit = service.settings.max_batch
    if len(batch.tickets) > limit:
        raise Rejected(
            ("tickets",),
            f"{len(batch.tickets)} tickets; at most {limit} per batch (TRIAGE_MAX_BATCH)",
        )
    # A big batch takes milliseconds of CPU: off the event loop, so single tickets keep flowing.
    results = await run_in_threadpool(
        service.triage, batch.tickets, explain=explain, loc=("tickets",)
    )
    return BatchOut(results=results, model_version=service.loaded.model.version)


@_feedback.post(
    "/feedback",
    status_code=201,
    responses={
        200: {"model": FeedbackOut, "description": "The same feedback was already stored."},
        404: _error("No prediction has this id."),
    },
)
async def feedback(body: FeedbackIn, service: ReadyDep, response: Response) -> FeedbackOut:
    """Store an agent's final urgency, topic or queue for a decision; durable when answered."""
    try:
        stored = await run_in_threadpool(service.add_feedback, body)
    except UnknownPrediction:
        raise HTTPException(404, f"id: no prediction {body.id!r}") from None
    except StoreUnavailable as exc:
        logger.warning("feedback refused: store unavailable", extra={"error": str(exc)})
        detail = "feedback needs a database: set TRIAGE_DATABASE_URL"
        if service.loaded.recorder is not None:
            detail = "the database is unavailable; nothing was stored, retry later"
        raise HTTPException(503, detail, {"Retry-After": str(RETRY_AFTER)}) from None
    if not stored:
        response.status_code = 200  # the same feedback was already stored: nothing new
    return FeedbackOut(id=body.id, stored=stored, model_version=service.loaded.model.version)


@_health.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    service: ReadyDep,
    days: Annotated[int, Query(ge=1, le=366, description="The report's window, in days.")] = 30,
) -> HTMLResponse:
    """The monitoring report (per-class quality, queues, drift, alerts) and a try-a-ticket form."""
    return HTMLResponse(await run_in_threadpool(service.dashboard, days))


@_health.get("/metrics", response_class=Response)
async def prometheus(request: Request) -> Response:
    """Prometheus metrics: requests and latency per route, decisions per class and queue."""
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)


@_model.get("/model")
async def model_info(service: ReadyDep) -> ModelOut:
    """The served model: version, classes, thresholds, queues and routing rules."""
    return service.describe()


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


# -- the guard: size, content type and the model version header, before any parsing ------------


class _Guard:
    """Pure ASGI middleware (a Starlette ``BaseHTTPMiddleware`` would cost every request a
    task): refuses bodies over the configured size with 413 and non-JSON POSTs with 415 before
    FastAPI reads them, and adds ``x-model-version`` to every response."""

    def __init__(self, app: ASGIApp, settings: Settings, service: Service) -> None:
        self.app = app
        self.settings = settings
        version = service.model_version or "none"
        self.header = (b"x-model-version", version.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        if scope["method"] != "POST" or not scope["path"].startswith("/v1/"):
            # Only the JSON endpoints take a body; anything else is FastAPI's 404 or 405.
            await self.app(scope, receive, send_with_version)
            return
        headers = dict(scope["headers"])
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if kind != b"application/json" and not kind.endswith(b"+json"):
            await _reply(send_with_version, 415, "Content-Type must be application/json")
            return
        batch = scope["path"].rstrip("/") == BATCH_PATH
        limit = self.settings.max_batch_body_bytes if batch else self.settings.max_body_bytes
        variable = "TRIAGE_MAX_BATCH_BODY_BYTES" if batch else "TRIAGE_MAX_BODY_BYTES"
        too_big = f"request body over {limit} bytes ({variable})"
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _reply(send_with_version, 413, too_big)
            return
        # Read the body here (FastAPI would read all of it anyway) so a body without a length,
        # or with a false one, is stopped at the limit instead of filling memory.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _reply(send_with_version, 413, too_big)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            body.decode("utf-8")  # JSON must be UTF-8 (RFC 8259); say so instead of "cannot parse"
        except UnicodeDecodeError as exc:
            await _reply(send_with_version, 400, f"body is not valid UTF-8 (byte {exc.start})")
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send_with_version)


class _Timing:
    """Counts every request and its latency by route template (``/v1/triage``, never a raw
    path, so a scan of random URLs cannot blow up the metric's label set)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            elapsed = time.perf_counter() - started
            self.metrics.request(scope["method"], template, status, elapsed)


async def _reply(send: Send, status: int, detail: str) -> None:
    payload = JSONResponse({"detail": detail}, status_code=status)
    await send({"type": "http.response.start", "status": status, "headers": payload.raw_headers})
    await send({"type": "http.response.body", "body": payload.body})
