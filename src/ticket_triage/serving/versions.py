"""Several model versions in one process: live, shadow and canary, swapped without a restart.

The versions a service serves are one immutable :class:`ModelSet`. The service holds it in one
attribute and replaces it with a single assignment; a request reads the attribute once, at its
start, so it finishes on the versions it started with while the next request already sees the
new set. Loading a new set (from directories, or from the registry's pointers) happens in a
background thread and is verified (:meth:`TriageModel.load` checks every checksum) before the
swap: a version that fails to load leaves the old set serving, and the reason is kept for
``/readyz`` and ``/metrics``.

- **Shadow**: every decided ticket is also scored by the shadow version in
  :class:`ShadowScorer`'s worker thread, behind a bounded queue that drops (and counts) rather
  than block a request. Its decision is logged with ``role="shadow"`` and ``served_id`` = the id
  returned to the client, and never returned. Whatever the shadow does (raise, stall) only
  costs its own thread.
- **Canary**: a ticket whose stickiness key (``TRIAGE_CANARY_KEY``, a metadata field such as
  ``requester_id``) hashes (mmh3) below ``canary_share`` is answered by the canary version, so
  one customer's tickets never flip between versions. A ticket without the key is answered by
  the live version.
- **Guard rails**: :class:`CanaryGuard` keeps the canary's last requests and feedback in a
  sliding window and names the first bound it breaches (error rate, p99 latency, precision on
  the target class); the service then stops the canary (in the registry when one is
  configured) and raises an alert.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import mmh3

from ticket_triage.core.pipeline import Decision

__all__ = [
    "CanaryGuard",
    "GuardBounds",
    "ModelSet",
    "Scorer",
    "ShadowScorer",
    "canary_bucket",
]

logger = logging.getLogger(__name__)

#: The seed of the canary hash: fixed, so a key lands in the same bucket in every process.
CANARY_SEED = 0x7A1A6E


class Scorer(Protocol):
    """What a version must do to be served: a :class:`~ticket_triage.core.pipeline.Pipeline`."""

    def triage(self, tickets: Sequence[Any], *, explain: int = 0) -> list[Decision]: ...


@dataclass(frozen=True)
class ModelSet:
    """The versions one request is served by; replaced whole, never changed.

    ``source`` says where the set came from (``settings`` or ``registry r<revision>``) and
    ``revision`` is the registry's pointer revision it reflects (-1 without a registry).
    """

    live: Scorer
    shadow: Scorer | None = None
    canary: Scorer | None = None
    canary_share: float = 0.0
    revision: int = -1
    source: str = "settings"

    def versions(self) -> dict[str, str | None]:
        """Per role, the version served (None when that role is off)."""
        return {
            "live": _version(self.live),
            "shadow": _version(self.shadow),
            "canary": _version(self.canary),
        }


def _version(scorer: Scorer | None) -> str | None:
    model = getattr(scorer, "model", None)
    return None if scorer is None else str(getattr(model, "version", "unknown"))


def canary_bucket(key: str) -> float:
    """Where a stickiness key falls in [0, 1): mmh3, uniform, the same in every process.

    Examples
    --------
    >>> canary_bucket("customer-42") == canary_bucket("customer-42")
    True
    >>> 0 <= canary_bucket("anything") < 1
    True
    """
    return mmh3.hash(key, CANARY_SEED, signed=False) / 2**32


class ShadowScorer:
    """A worker thread scoring tickets with the shadow version, behind a bounded queue.

    :meth:`submit` never blocks: with the queue full the job is dropped and counted
    (``dropped``), because a shadow must never slow the answer. ``record`` receives each shadow
    decision with the id it shadows; an exception from scoring or recording is logged and
    counted (``errors``), and the worker goes on.
    """

    def __init__(
        self, record: Callable[[Mapping[str, Any], Decision, float, str], None], size: int
    ) -> None:
        self.record = record
        self.jobs: queue.Queue[tuple[Scorer, list[dict[str, Any]], list[str]] | None]
        self.jobs = queue.Queue(maxsize=size)
        self.scored = 0
        self.dropped = 0
        self.errors = 0
        self._thread = threading.Thread(target=self._run, name="triage-shadow", daemon=True)
        self._thread.start()

    def submit(self, shadow: Scorer, tickets: list[dict[str, Any]], served: list[str]) -> None:
        """Queue tickets for the shadow version; drop them (counted) when the queue is full."""
        try:
            self.jobs.put_nowait((shadow, tickets, served))
        except queue.Full:
            self.dropped += len(tickets)

    def _run(self) -> None:
        while (job := self.jobs.get()) is not None:
            shadow, tickets, served = job
            try:
                started = time.perf_counter()
                decisions = shadow.triage(tickets)
                per_ticket = (time.perf_counter() - started) * 1000 / len(tickets)
                for ticket, decision, served_id in zip(tickets, decisions, served, strict=True):
                    self.record(ticket, decision, per_ticket, served_id)
                self.scored += len(tickets)
            except Exception:  # a broken shadow costs its own thread only, never the answer
                self.errors += len(tickets)
                logger.exception("shadow scoring failed")

    def close(self, timeout: float = 5.0) -> None:
        """Score what is queued (up to ``timeout``), then stop the thread."""
        try:
            self.jobs.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)


@dataclass(frozen=True)
class GuardBounds:
    """The canary's bounds over a sliding window of its last ``window`` requests; a bound is
    judged only once ``min_requests`` requests (``min_feedback`` feedback for precision) are in
    the window. None turns a bound off."""

    window: int = 500
    min_requests: int = 50
    max_error_rate: float | None = 0.05
    max_p99_ms: float | None = 250.0
    min_precision: float | None = None
    min_feedback: int = 30


@dataclass
class CanaryGuard:
    """The canary's recent outcomes, and the first bound they breach.

    Latency is the canary's own scoring time per request; an error is a request the canary
    raised on (it was answered by the live version instead). Precision is on each head's target
    class: of the canary's decisions labelled with the target that received feedback for that
    head, the share the agent confirmed.
    """

    bounds: GuardBounds
    targets: Mapping[str, str] = field(default_factory=dict)
    _outcomes: deque[tuple[bool, float]] = field(init=False)
    _decided: OrderedDict[str, dict[str, str]] = field(init=False)
    _judged: deque[bool] = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._outcomes = deque(maxlen=self.bounds.window)
        self._judged = deque(maxlen=self.bounds.window)
        self._decided = OrderedDict()

    def observe(self, ok: bool, latency_ms: float, labels: Mapping[str, Mapping[str, str]]) -> None:
        """One canary request: whether it succeeded, its scoring time, and per decision id the
        labels it gave (kept, for the window, to judge feedback against)."""
        with self._lock:
            self._outcomes.append((ok, latency_ms))
            for decision_id, heads in labels.items():
                self._decided[decision_id] = dict(heads)
                while len(self._decided) > 10 * self.bounds.window:
                    self._decided.popitem(last=False)

    def feedback(self, decision_id: str, given: Mapping[str, str | None]) -> None:
        """An agent's labels for a decision; counts towards precision when the canary made it
        and labelled a head with its target class."""
        with self._lock:
            heads = self._decided.get(decision_id)
            if heads is None:
                return
            for head, target in self.targets.items():
                label = given.get(head)
                if heads.get(head) == target and label is not None:
                    self._judged.append(label == target)

    def reset(self) -> None:
        """Forget everything: a new canary starts with an empty window."""
        with self._lock:
            self._outcomes.clear()
            self._judged.clear()
            self._decided.clear()

    def breach(self) -> str | None:
        """The first bound the window breaches, as a short reason label, or None."""
        bounds = self.bounds
        with self._lock:
            outcomes, judged = list(self._outcomes), list(self._judged)
        if len(outcomes) >= bounds.min_requests:
            errors = sum(not ok for ok, _ in outcomes) / len(outcomes)
            if bounds.max_error_rate is not None and errors > bounds.max_error_rate:
                return "error_rate"
            latencies = sorted(ms for ok, ms in outcomes if ok)
            if bounds.max_p99_ms is not None and latencies:
                p99 = latencies[min(len(latencies) - 1, math.ceil(0.99 * len(latencies)) - 1)]
                if p99 > bounds.max_p99_ms:
                    return "p99_latency"
        precision = sum(judged) / len(judged) if len(judged) >= bounds.min_feedback else None
        if bounds.min_precision is not None and precision is not None:
            return "precision" if precision < bounds.min_precision else None
        return None
