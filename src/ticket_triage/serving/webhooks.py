"""``POST /v1/connectors/{desk}``: the help desks' webhooks (Zendesk, Freshdesk, GitHub).

The route only adapts HTTP to :class:`~ticket_triage.connectors.intake.Intake`, which verifies,
parses and acts (:mod:`ticket_triage.connectors`). Answers:

- 202: the ticket is triaged and its write-back (or a check of an agent's change) is stored in
  the outbox, durably: from here nothing can be lost;
- 200: nothing to do, said in ``outcome``: ``duplicate`` (a redelivery), ``own_update`` (our own
  write-back echoed), ``unchanged``, ``pending_write``, ``feedback`` (an agent's correction was
  recorded), ``ignored`` (a ping, a pull request, another event);
- 401: unsigned, badly signed or stale (replayed): nothing of the body is logged, only why;
- 404: that help desk is not configured here; 422: not JSON, or no ticket id;
- 503: the database cannot take it now; the desk retries the delivery (``Retry-After``).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ticket_triage.core.errors import StoreUnavailable, Unauthorized
from ticket_triage.serving.dependencies import ReadyDep
from ticket_triage.serving.schemas import ErrorOut, WebhookOut

__all__ = ["PATH", "router"]

logger = logging.getLogger(__name__)

RETRY_AFTER = 5  # seconds a help desk should wait before delivering again when the store is down

router = APIRouter(tags=["connectors"])
#: The route, as the OpenAPI document names it.
PATH = "/v1/connectors/{desk}"


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "model": ErrorOut}


@router.post(
    PATH,
    status_code=202,
    response_model=WebhookOut,
    response_model_exclude_none=True,
    responses={
        200: {"model": WebhookOut, "description": "Nothing to do: see `outcome`."},
        401: _error("Unsigned, badly signed or stale (a replay)."),
        404: _error("No such help desk is configured."),
        413: _error("The body is over TRIAGE_MAX_BATCH_BODY_BYTES."),
        415: _error("Neither JSON nor, for GitHub, form-encoded."),
        503: _error("The model is not loaded, or the database cannot take the event now."),
    },
)
async def webhook(desk: str, request: Request, service: ReadyDep) -> Any:
    """Take one help-desk webhook: triage a new ticket, record an agent's correction."""
    connectors = service.loaded.connectors
    if connectors is None or desk not in connectors.desks:
        raise HTTPException(404, f"help desk {desk!r} is not configured (TRIAGE_CONNECTORS_FILE)")
    body = await request.body()
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        outcome = await run_in_threadpool(connectors.intake.handle, desk, headers, body)
    except Unauthorized as exc:
        logger.warning("webhook refused", extra={"desk": desk, "reason": str(exc)})
        service.count_webhook(desk, "unauthorized")
        raise HTTPException(401, str(exc)) from None
    except StoreUnavailable as exc:
        extra = {"desk": desk, "error": str(exc)}
        logger.warning("webhook not accepted: store unavailable", extra=extra)
        raise HTTPException(
            503, "the database is unavailable; nothing was accepted, deliver again",
            {"Retry-After": str(RETRY_AFTER)},
        ) from None  # fmt: skip
    service.count_webhook(desk, outcome.outcome)
    logger.info("webhook", extra={"desk": desk, **outcome.to_json()})
    if outcome.accepted:
        await run_in_threadpool(connectors.queued)
        return JSONResponse(outcome.to_json(), status_code=202)
    return JSONResponse(outcome.to_json(), status_code=200)
