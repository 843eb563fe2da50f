"""Production counters: Prometheus for the server (``GET /metrics``), CloudWatch Embedded Metric
Format lines for Lambda.

One :class:`Metrics` per app, on its own registry (not the process-global one), so tests and
several apps in one process never share counts. What is counted:

- ``triage_http_requests_total{method, route, status}`` and the latency histogram
  ``triage_http_request_duration_seconds{route}`` (route templates, never raw paths);
- ``triage_predictions_total{head, label}``, ``triage_routed_total{queue}``,
  ``triage_needs_review_total``: the class mix and the share per queue, over time;
- ``triage_model_info{version}`` and ``triage_store_up`` (1 when the database took the last
  write; 0 while records spool);
- with help desks connected: ``triage_webhooks_total{desk, outcome}`` (accepted, duplicate,
  own_update, feedback, unauthorized, ...), ``triage_write_backs_total{desk, outcome}`` (every
  attempt: done, wait, retry, dead, superseded) and ``triage_outbox{desk, state}`` (rows now
  pending, sending, done, superseded, dead: read from the database at each scrape, so several
  processes sharing one outbox report the same).
"""

from __future__ import annotations

import json
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from ticket_triage.core.errors import TriageError
from ticket_triage.serving.schemas import TriageOut

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "emf_line"]

#: Request latency buckets in seconds: the interesting range is well under 10 ms.
BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5)


class Metrics:
    """The counters of one app; :meth:`render` is the ``/metrics`` body."""

    def __init__(self, model_version: str | None, store_up: Callable[[], bool] | None) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "triage_http_requests",
            "HTTP requests by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "triage_http_request_duration_seconds",
            "Time from request to response, by route template.",
            ["route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "triage_predictions",
            "Decisions by head and label.",
            ["head", "label"],
            registry=self.registry,
        )
        self.routed = Counter(
            "triage_routed", "Decisions by queue.", ["queue"], registry=self.registry
        )
        self.review = Counter(
            "triage_needs_review", "Decisions flagged for review.", registry=self.registry
        )
        Info("triage_model", "The served model.", registry=self.registry).info(
            {"version": model_version or "none"}
        )
        self.webhooks = Counter(
            "triage_webhooks",
            "Help-desk webhooks by desk and what they came to.",
            ["desk", "outcome"],
            registry=self.registry,
        )
        self.write_backs = Counter(
            "triage_write_backs",
            "Attempts at help-desk write-backs by desk and outcome.",
            ["desk", "outcome"],
            registry=self.registry,
        )
        if store_up is not None:
            up = Gauge("triage_store_up", "1 when the database took the last write.", [],
                       registry=self.registry)  # fmt: skip
            up.set_function(lambda: float(store_up()))

    def webhook(self, desk: str, outcome: str) -> None:
        """Count one help-desk webhook by what it came to."""
        self.webhooks.labels(desk, outcome).inc()

    def write_back(self, desk: str, outcome: str) -> None:
        """Count one attempt of the outbox worker."""
        self.write_backs.labels(desk, outcome).inc()

    def watch_outbox(self, counts: Callable[[], dict[str, dict[str, int]]]) -> None:
        """Report the outbox's rows per desk and state at every scrape (dead letters are
        ``state="dead"``)."""
        self.registry.register(_OutboxCollector(counts))

    def watch_versions(self, stats: Callable[[], dict[str, Any]]) -> None:
        """Report the versions served and the shadow/canary/guard-rail counts at every scrape
        (``stats`` is :meth:`~ticket_triage.serving.service.Service.version_stats`)."""
        self.registry.register(_VersionsCollector(stats))

    def observe(self, decisions: Sequence[TriageOut]) -> None:
        """Count a request's decisions."""
        for decision in decisions:
            for head, out in (("urgency", decision.urgency), ("topic", decision.topic)):
                if out is not None:
                    self.predictions.labels(head, out.label).inc()
            self.routed.labels(decision.queue).inc()
            if decision.needs_review:
                self.review.inc()

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one HTTP request."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition of every counter."""
        return generate_latest(self.registry)


class _OutboxCollector:
    """``triage_outbox{desk, state}`` from the outbox's own counts, at scrape time."""

    def __init__(self, counts: Callable[[], dict[str, dict[str, int]]]) -> None:
        self.counts = counts

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "triage_outbox", "Help-desk outbox rows by desk and state.", labels=["desk", "state"]
        )
        try:
            counts = self.counts()
        except TriageError:  # the database is down: report nothing rather than fail the scrape
            counts = {}
        for desk, states in sorted(counts.items()):
            for state, n in states.items():
                family.add_metric([desk, state], n)
        yield family


class _VersionsCollector:
    """The served versions and their counters, read from the service at scrape time:

    ``triage_model_served{role, version}`` (1 per role served), ``triage_shadow_total{outcome}``
    (scored, dropped, error), ``triage_model_events_total{event}`` (swaps, reload_failures,
    canary_errors), ``triage_canary_stops_total{reason}``, ``triage_canary_alert{reason,
    version}`` (1 after a guard-rail stop, until a new canary is served),
    ``triage_model_reload_ok`` (0 while the last reload failed) and
    ``triage_model_swap_seconds`` (the last swap's load-and-swap time)."""

    def __init__(self, stats: Callable[[], dict[str, Any]]) -> None:
        self.stats = stats

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        stats = self.stats()
        served = GaugeMetricFamily(
            "triage_model_served", "The version served per role.", labels=["role", "version"]
        )
        for role, version in stats["versions"].items():
            if version is not None:
                served.add_metric([role, version], 1)
        shadow = CounterMetricFamily(
            "triage_shadow", "Tickets given to the shadow version.", labels=["outcome"]
        )
        for outcome, n in stats["shadow"].items():
            shadow.add_metric([outcome], n)
        events = CounterMetricFamily(
            "triage_model_events", "Swaps, failed reloads, canary errors.", labels=["event"]
        )
        for event in ("swaps", "reload_failures", "canary_errors"):
            events.add_metric([event], stats["events"].get(event, 0))
        stops = CounterMetricFamily(
            "triage_canary_stops", "Canaries stopped by a guard rail.", labels=["reason"]
        )
        for reason, n in stats["stops"].items():
            stops.add_metric([reason], n)
        alert = GaugeMetricFamily(
            "triage_canary_alert", "A guard rail stopped the canary.", labels=["reason", "version"]
        )
        if stats["alert"] is not None:
            alert.add_metric(list(stats["alert"]), 1)
        yield from (served, shadow, events, stops, alert)
        yield GaugeMetricFamily(
            "triage_model_reload_ok", "0 while the last reload failed.", value=stats["reload_ok"]
        )
        yield GaugeMetricFamily(
            "triage_model_swap_seconds", "The last swap's load time.", value=stats["swap_seconds"]
        )


def emf_line(decisions: Iterable[TriageOut], namespace: str = "ticket-triage") -> str:
    """One CloudWatch Embedded Metric Format line counting decisions per head/label, per queue
    and for review; printed to stdout by the Lambda handler, CloudWatch turns it into metrics
    without an API call.

    Examples
    --------
    >>> line = json.loads(emf_line([]))
    >>> line["_aws"]["CloudWatchMetrics"][0]["Namespace"]
    'ticket-triage'
    """
    tally: Tally[str] = Tally()
    for decision in decisions:
        for head, out in (("urgency", decision.urgency), ("topic", decision.topic)):
            if out is not None:
                tally[f"{head}.{out.label}"] += 1
        tally[f"queue.{decision.queue}"] += 1
        tally["needs_review"] += int(decision.needs_review)
        tally["decisions"] += 1
    line: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [[]],
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in sorted(tally)],
                }
            ],
        },
        **tally,
    }
    return json.dumps(line)
