"""A help desk's REST API on loopback, for the connectors' tests and benchmark.

A real HTTP server (``http.server``, one thread per connection) that implements the endpoints the
connectors call, with the vendors' request and response shapes, pagination and auth:

- ``zendesk``: ``PUT``/``GET /api/v2/tickets/{id}`` and the cursor-based incremental export;
- ``freshdesk``: ``PUT``/``GET /api/v2/tickets/{id}`` and the paged ``GET /api/v2/tickets``;
- ``github``: ``POST .../issues/{n}/labels``, ``DELETE .../labels/{name}`` and the issues list
  with ``Link`` pagination (pull requests included, as GitHub's list has them).

It records every request it received and every write it applied, and plays faults on demand:
answer 503 (or refuse connections altogether) for a while, answer 429 with ``Retry-After`` (403 with
``x-ratelimit-remaining: 0`` on GitHub) for the next N requests, slow every page down.

Importable by the tests (``tests/connectors/conftest.py``) and by ``benchmarks/connectors.py``.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["FakeHelpDesk", "Received"]


@dataclass
class Received:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    at: float
    status: int = 0


@dataclass
class _Faults:
    down_until: float = 0.0
    refuse: bool = False
    limited: int = 0
    retry_after: float = 1.0
    fail_next: list[int] = field(default_factory=list)
    page_delay: float = 0.0


class FakeHelpDesk:
    """One help desk (``kind``: zendesk, freshdesk or github) with some tickets (or issues)."""

    def __init__(
        self,
        kind: str,
        tickets: Iterable[dict[str, Any]] = (),
        *,
        credentials: str | None = None,
        page_size: int = 100,
        port: int = 0,
    ) -> None:
        self.kind = kind
        self.credentials = credentials
        self.page_size = page_size
        self.tickets: dict[str, dict[str, Any]] = {}
        for ticket in tickets:
            self.add(ticket)
        self.received: list[Received] = []
        self.applied: list[Received] = []
        self.faults = _Faults()
        self._lock = threading.Lock()
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> FakeHelpDesk:
        fake = self

        class Handler(_Handler):
            owner = fake

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHelpDesk:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults -------------------------------------------------------------------------------

    def down_for(self, seconds: float, *, refuse: bool = False) -> None:
        """Answer 503 (``refuse``: close the listening socket, so connections are refused) for
        ``seconds``; then back, on the same port."""
        self.faults.down_until = time.time() + seconds
        if refuse:
            self.stop()
            timer = threading.Timer(seconds, self.start)
            timer.daemon = True
            timer.start()

    def rate_limit(self, requests: int, retry_after: float = 1.0) -> None:
        """Answer the next ``requests`` calls with a rate-limit response."""
        self.faults.limited, self.faults.retry_after = requests, retry_after

    def fail(self, *statuses: int) -> None:
        """Answer the next calls with these statuses, in order."""
        self.faults.fail_next.extend(statuses)

    # -- state --------------------------------------------------------------------------------

    def add(self, ticket: dict[str, Any]) -> None:
        key = str(ticket.get("number", ticket.get("id")))
        self.tickets[key] = json.loads(json.dumps(ticket))

    def writes(self, ticket: str | None = None) -> list[Received]:
        """The writes applied (to one ticket)."""
        with self._lock:
            return [r for r in self.applied if ticket is None or _ticket_of(r.path) == ticket]

    # -- the handler's side -------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], Any]:
        split = urlsplit(target)
        path, query = split.path, parse_qs(split.query)
        body = json.loads(raw) if raw else None
        record = Received(method, path, query, body, time.time())
        with self._lock:
            self.received.append(record)
        status, extra, answer = self._answer(method, path, query, headers, body, target)
        record.status = status
        if status < 300 and method in ("PUT", "POST", "DELETE"):
            with self._lock:
                self.applied.append(record)
        return status, extra, answer

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Any,
        target: str,
    ) -> tuple[int, dict[str, str], Any]:
        faults = self.faults
        if self.credentials is not None and headers.get("authorization") != self.credentials:
            return 401, {}, {"error": "Couldn't authenticate you"}
        if time.time() < faults.down_until:
            return 503, {}, {"error": "Service Unavailable"}
        with self._lock:
            if faults.fail_next:
                return faults.fail_next.pop(0), {}, {"error": "injected failure"}
            if faults.limited > 0:
                faults.limited -= 1
                if self.kind == "github":
                    reset = str(int(time.time() + faults.retry_after + 1))
                    return (
                        403,
                        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
                        {"message": "API rate limit exceeded"},
                    )
                return (
                    429,
                    {"retry-after": str(int(faults.retry_after))},
                    {"error": "Too many requests"},
                )
        if faults.page_delay and method == "GET":
            time.sleep(faults.page_delay)
        return getattr(self, f"_{self.kind}")(method, path, query, body, target)

    # -- zendesk ------------------------------------------------------------------------------

    def _zendesk(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, target: str
    ) -> tuple[int, dict[str, str], Any]:
        if path == "/api/v2/incremental/tickets/cursor.json":
            ordered = sorted(self.tickets.values(), key=lambda t: int(t["id"]))
            start = int(base64.b64decode(query["cursor"][0]).decode()) if "cursor" in query else 0
            page = ordered[start : start + self.page_size]
            end = start + len(page) >= len(ordered)
            cursor = base64.b64encode(str(start + len(page)).encode()).decode()
            return (
                200,
                {},
                {
                    "tickets": page,
                    "after_cursor": None if end else cursor,
                    "before_cursor": None,
                    "end_of_stream": end,
                },
            )
        ticket_id = path.removeprefix("/api/v2/tickets/").removesuffix(".json")
        ticket = self.tickets.get(ticket_id)
        if not path.startswith("/api/v2/tickets/") or ticket is None:
            return 404, {}, {"error": "RecordNotFound", "description": "Not found"}
        if method == "PUT":
            update = (body or {}).get("ticket", {})
            for key in ("group_id", "priority"):
                if key in update:
                    ticket[key] = update[key]
            tags = [t for t in ticket.get("tags", []) if t not in update.get("remove_tags", [])]
            tags += [t for t in update.get("additional_tags", []) if t not in tags]
            ticket["tags"] = update.get("tags", tags)
            ticket["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return 200, {}, {"ticket": ticket}

    # -- freshdesk ----------------------------------------------------------------------------

    def _freshdesk(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, target: str
    ) -> tuple[int, dict[str, str], Any]:
        if path == "/api/v2/tickets":
            ordered = sorted(self.tickets.values(), key=lambda t: (t["updated_at"], t["id"]))
            since = query.get("updated_since", [""])[0]
            ordered = [t for t in ordered if t["updated_at"] >= since]
            per_page = int(query.get("per_page", ["30"])[0])
            page = int(query.get("page", ["1"])[0])
            return 200, {}, ordered[(page - 1) * per_page : page * per_page]
        ticket = self.tickets.get(path.removeprefix("/api/v2/tickets/"))
        if ticket is None:
            return 404, {}, {"description": "Validation failed", "errors": [{"code": "not_found"}]}
        if method == "PUT":
            for key in ("group_id", "priority", "tags"):
                if key in (body or {}):
                    ticket[key] = body[key]
            ticket["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return 200, {}, ticket

    # -- github -------------------------------------------------------------------------------

    def _github(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, target: str
    ) -> tuple[int, dict[str, str], Any]:
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[0] == "repos" and parts[3] == "issues" and method == "GET":
            ordered = sorted(self.tickets.values(), key=lambda t: t["number"])
            page = int(query.get("page", ["1"])[0])
            per_page = int(query.get("per_page", ["30"])[0])
            chunk = ordered[(page - 1) * per_page : page * per_page]
            headers = {}
            if page * per_page < len(ordered):
                rest = "&".join(f"{k}={v[0]}" for k, v in query.items() if k != "page")
                headers["link"] = f'<{self.url}{path}?{rest}&page={page + 1}>; rel="next"'
            return 200, headers, chunk
        if len(parts) >= 6 and parts[3] == "issues" and parts[5] == "labels":
            issue = self.tickets.get(parts[4])
            if issue is None:
                return 404, {}, {"message": "Not Found"}
            names = [label["name"] for label in issue.get("labels", [])]
            if method == "POST":
                names += [name for name in (body or {}).get("labels", []) if name not in names]
            elif method == "DELETE":
                name = unquote(parts[6])
                if name not in names:
                    return 404, {}, {"message": "Label does not exist"}
                names.remove(name)
            issue["labels"] = [{"name": name} for name in names]
            return 200, {}, issue["labels"]
        return 404, {}, {"message": "Not Found"}


def _ticket_of(path: str) -> str:
    parts = path.strip("/").split("/")
    if "issues" in parts:
        return parts[parts.index("issues") + 1]
    return parts[-1].removesuffix(".json")


class _Handler(BaseHTTPRequestHandler):
    owner: FakeHelpDesk
    protocol_version = "HTTP/1.1"
    # One write per response, without Nagle: the standard library's handler otherwise sends the
    # headers and the body apart, and on a keep-alive connection the body then waits for the
    # client's delayed ACK (40 ms on Linux), a delay no real help desk adds.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read ``received`` instead."""

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, extra, answer = self.owner.handle(self.command, self.path, headers, raw)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = _serve
