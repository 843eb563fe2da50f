"""Calling a help desk's REST API: one write-back, its outcome, and when to try again.

Every answer is sorted into what the outbox does next:

- 2xx (or a status the request names as fine, such as GitHub's 404 for a label already gone):
  **done**;
- 409 Conflict: **superseded**: the desk refuses the update because the ticket changed under
  it; the change wins, nothing is retried (a late write-back is also superseded, before it is
  sent, when the worker finds that a person set the group or priority meanwhile);
- 429 Too Many Requests, or GitHub's 403 with ``x-ratelimit-remaining: 0``: **wait** exactly as
  long as ``Retry-After`` (seconds or an HTTP date) or ``x-ratelimit-reset`` says; this does not
  count as a failed attempt, so a 429 storm never dead-letters an update;
- 5xx, 408, a timeout or a connection error: **retry** after exponential backoff with full
  jitter (:class:`Backoff`), for as long as the write-back is younger than ``max_age`` (a day by
  default): an outage of the desk, however long within that, loses nothing;
- any other 4xx (401 bad token, 404 deleted ticket, 422 bad group id): **dead**, with the
  desk's own error text: retrying cannot help until a person fixes the cause
  (``triage connectors retry`` sends it again then).

httpx2 (the maintained continuation of httpx, same API) is the client: connection pooling and
timeouts per call, and nothing else.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx2

from ticket_triage.connectors.events import Request
from ticket_triage.core.errors import HelpDeskError

__all__ = ["Backoff", "Outcome", "Sender", "retry_after"]

#: Statuses that mean "try again later" rather than "this will never work".
_TRANSIENT = frozenset({408, 500, 502, 503, 504})


@dataclass(frozen=True)
class Outcome:
    """What one attempt at a write-back came to.

    ``state`` is ``done``, ``superseded``, ``wait`` (rate limited until ``not_before``), ``retry``
    (failed, back off) or ``dead`` (will not work as it is); ``error`` says why when not done.
    """

    state: str
    error: str | None = None
    not_before: float | None = None  # epoch seconds, for ``wait``


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: attempt ``n`` waits a uniform draw from
    ``[0, min(cap, base * 2**(n-1))]``; a write-back still failing ``max_age`` seconds after it
    was accepted is dead (``max_attempts`` bounds the tries of one backfill page instead).

    Full jitter spreads the retries of many updates that failed together (a help-desk outage),
    so they do not all hit the desk again in the same second when it comes back.
    """

    base: float = 2.0
    cap: float = 600.0
    max_age: float = 86_400.0
    max_attempts: int = 8

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``attempt``-th failure (1-based)."""
        ceiling = min(self.cap, self.base * 2.0 ** max(attempt - 1, 0))
        return (rng or random).uniform(0.0, ceiling)


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """When a rate-limited call may be made again (epoch seconds), from ``Retry-After`` (delta
    seconds or HTTP date) or GitHub's ``x-ratelimit-reset`` when nothing remains; None if absent.

    Examples
    --------
    >>> retry_after({"retry-after": "30"}, now=1000.0)
    1030.0
    >>> retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=0.0)
    1445412480.0
    >>> retry_after({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1500"}, now=1000.0)
    1500.0
    """
    value = headers.get("retry-after")
    if value is not None:
        value = value.strip()
        if value.isdigit():
            return now + float(value)
        try:
            return parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return None
    if headers.get("x-ratelimit-remaining") == "0":
        reset = headers.get("x-ratelimit-reset", "")
        if reset.isdigit():
            return float(reset)
    return None


class Sender:
    """One help desk's API client: its base URL and credentials, a pooled connection, a
    timeout per call. :meth:`send` runs a write-back's calls in order and sorts the outcome."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx2.Client(
            base_url=self.base_url,
            headers={"user-agent": "ticket-triage", **(headers or {})},
            auth=auth,
            timeout=timeout,
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()

    def call(self, request: Request) -> httpx2.Response:
        """One call, answered (raises httpx2's errors for a network failure)."""
        return self._client.request(request.method, request.path, json=request.json)

    def fetch(
        self,
        path: str,
        params: Mapping[str, object] | None = None,
        *,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> httpx2.Response:
        """A GET under the API URL (a backfill page; ``path`` may be the full URL the desk gave
        as the next page), waiting out rate limits and retrying transient failures.

        Raises
        ------
        HelpDeskError
            The desk refused for good (4xx), or kept failing for ``backoff.max_attempts`` tries.
        """
        policy = backoff or Backoff(base=1.0, cap=60.0, max_attempts=8)
        request = Request("GET", path)
        failures = 0
        while True:
            try:
                response = self._client.get(path, params=dict(params) if params else None)
            except httpx2.TransportError as exc:
                outcome = Outcome("retry", f"GET {path}: {type(exc).__name__}")
            else:
                outcome = classify(response, request, time.time())
                if outcome.state == "done":
                    return response
            if outcome.state == "wait":
                sleep(max(0.0, (outcome.not_before or 0.0) - time.time()))
                continue
            failures += 1
            if outcome.state != "retry" or failures >= policy.max_attempts:
                raise HelpDeskError(f"{self.base_url}: {outcome.error}")
            sleep(policy.delay(failures))

    def send(self, requests: Sequence[Request], now: float | None = None) -> Outcome:
        """Run every call of one write-back in order; the first that does not succeed decides the
        outcome (the calls are idempotent, so a retry runs all of them again)."""
        for request in requests:
            outcome, _ = self.read(request, now)
            if outcome.state != "done":
                return outcome
        return Outcome("done")

    def read(self, request: Request, now: float | None = None) -> tuple[Outcome, Any]:
        """One call, its outcome sorted, and its JSON answer when done (None otherwise)."""
        try:
            response = self.call(request)
        except httpx2.TimeoutException:
            return Outcome("retry", f"{request.method} {request.path}: timed out"), None
        except httpx2.TransportError as exc:
            return Outcome("retry", f"{request.method} {request.path}: {type(exc).__name__}"), None
        outcome = classify(response, request, time.time() if now is None else now)
        if outcome.state != "done" or not response.content:
            return outcome, None
        try:
            return outcome, response.json()
        except ValueError:
            return outcome, None


def classify(response: httpx2.Response, request: Request, now: float) -> Outcome:
    """Sort one answer (see the module docstring)."""
    status = response.status_code
    if 200 <= status < 300 or status in request.ok:
        return Outcome("done")
    where = f"{request.method} {request.path}: HTTP {status}"
    limited = status == 429 or (
        status == 403 and response.headers.get("x-ratelimit-remaining") == "0"
    )
    if limited:
        until = retry_after(response.headers, now)
        return Outcome("wait", f"{where} (rate limited)", until if until else now + 60.0)
    if status == 409:
        return Outcome("superseded", f"{where}: the ticket changed since the event")
    if status in _TRANSIENT or status >= 500:
        return Outcome("retry", where)
    return Outcome("dead", f"{where}: {_reason(response)}")


def _reason(response: httpx2.Response) -> str:
    """The desk's own error text, short (its JSON ``error``/``message``/``description``)."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(data, dict):
        for key in ("error", "message", "description", "details"):
            if data.get(key):
                return str(data[key])[:200]
    return str(data)[:200]
