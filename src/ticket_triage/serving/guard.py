"""Pure ASGI middleware in front of the app: the size and content-type guard, and request timing.

Pure ASGI classes rather than Starlette's ``BaseHTTPMiddleware``, which would cost every request a
task: these run on the hot path of every request, Lambda invokes included.
"""

from __future__ import annotations

import time

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticket_triage.serving.metrics import Metrics
from ticket_triage.serving.service import Service
from ticket_triage.serving.settings import Settings

__all__ = ["BATCH_PATH", "GITHUB_PATH", "WEBHOOKS", "Guard", "Timing"]

BATCH_PATH = "/v1/triage/batch"
WEBHOOKS = "/v1/connectors/"
GITHUB_PATH = "/v1/connectors/github"
ADMIN = "/v1/admin/"


class Guard:
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

        path = scope["path"]
        if scope["method"] != "POST" or not path.startswith("/v1/") or path.startswith(ADMIN):
            # Only the JSON endpoints take a body (admin actions read none); anything else is
            # FastAPI's 404 or 405.
            await self.app(scope, receive, send_with_version)
            return
        headers = dict(scope["headers"])
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        # GitHub sends form-encoded webhooks unless told otherwise; its route reads them.
        form = kind == b"application/x-www-form-urlencoded" and scope["path"] == GITHUB_PATH
        if kind != b"application/json" and not kind.endswith(b"+json") and not form:
            await _reply(send_with_version, 415, "Content-Type must be application/json")
            return
        # A batch, and a help desk's webhook (a ticket with its whole history), may be large.
        batch = scope["path"].rstrip("/") == BATCH_PATH or scope["path"].startswith(WEBHOOKS)
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


class Timing:
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
