"""The JSON endpoints: triage, feedback, the model, health and metrics.

=========================  =================================================================
``POST /v1/triage``        one ticket -> labels, probabilities, queue, ``needs_review``, ``id``
``POST /v1/triage/batch``  ``{"tickets": [...]}`` -> ``{"results": [...]}`` in order
``POST /v1/feedback``      an agent's final labels for a decision (bearer token if configured)
``GET /v1/model``          version, classes, thresholds, queues and routing rules
``GET /healthz``           the process is alive
``GET /readyz``            the model is loaded and verified (503 with the reason if not)
``GET /metrics``           Prometheus counters
``POST /v1/admin/reload``  re-read the registry's pointers (or the version dirs) now; token
=========================  =================================================================
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse

from ticket_triage.core.errors import Rejected, StoreUnavailable, UnknownPrediction
from ticket_triage.serving.dependencies import (
    Explain,
    ReadyDep,
    ServiceDep,
    admin_token,
    feedback_token,
    triage_token,
)
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

__all__ = ["ROUTERS", "error_response"]

logger = logging.getLogger(__name__)

RETRY_AFTER = 5  # seconds a client should wait before retrying feedback when the store is down


def error_response(description: str) -> dict[str, Any]:
    return {"description": description, "model": ErrorOut}


_BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: error_response("The body is not valid UTF-8."),
    401: error_response("Missing or wrong bearer token (when one is configured)."),
    413: error_response("The body is over the configured size."),
    415: error_response("The content type is not JSON."),
    503: error_response("The model is not loaded (see /readyz), or the database is unavailable."),
}

_health = APIRouter(tags=["health"])

_triage = APIRouter(
    prefix="/v1",
    tags=["triage"],
    dependencies=[Depends(triage_token)],
    responses=_BODY_ERRORS,
)

_feedback = APIRouter(
    prefix="/v1", tags=["feedback"], dependencies=[Depends(feedback_token)], responses=_BODY_ERRORS
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
    body = ReadyOut(
        ready=service.ready,
        model_version=service.model_version,
        detail=service.error or service.reload_error,
        versions=service.loaded.models.versions() if service.ready else None,
    )
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
    return BatchOut(results=results, model_version=service.loaded.pipeline.model.version)


@_feedback.post(
    "/feedback",
    status_code=201,
    responses={
        200: {"model": FeedbackOut, "description": "The same feedback was already stored."},
        404: error_response("No prediction has this id."),
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
    return FeedbackOut(
        id=body.id, stored=stored, model_version=service.loaded.pipeline.model.version
    )


@_health.get("/metrics", response_class=Response)
async def prometheus(request: Request) -> Response:
    """Prometheus metrics: requests and latency per route, decisions per class and queue."""
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)


@_model.get("/model")
async def model_info(service: ReadyDep) -> ModelOut:
    """The served model: version, classes, thresholds, queues and routing rules."""
    return service.describe()


_admin = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    dependencies=[Depends(admin_token)],
    responses={
        401: _BODY_ERRORS[401],
        403: error_response("No TRIAGE_API_TOKEN is configured: admin routes are off."),
        503: _BODY_ERRORS[503],
    },
)


@_admin.post("/reload", responses={409: error_response("The versions could not be loaded.")})
async def reload(service: ReadyDep) -> ReadyOut:
    """Load the versions the registry's pointers (or the version directories) name now, instead
    of at the next poll; verified before the swap, the old versions keep serving on failure."""
    await run_in_threadpool(service.reload)
    if service.reload_error is not None:
        raise HTTPException(409, service.reload_error)
    return ReadyOut(
        ready=True, model_version=service.model_version, versions=service.loaded.models.versions()
    )


#: Every router of the JSON API, in the order the app includes them.
ROUTERS = (_health, _triage, _feedback, _model, _admin)
