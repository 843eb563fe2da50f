"""The serving core behind the HTTP API: the loaded model and router, and one call per request.

:class:`Service` is built once per process (uvicorn worker or Lambda execution environment). It
never raises for a bad artifact or rules file: it records why it is not ready, so ``/healthz``
still answers, ``/readyz`` says what is wrong (the message names the file), and triage answers
503 instead of the process dying in a restart loop. ``triage serve`` checks readiness first and
refuses to start a server that could not triage.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ticket_triage.core.errors import (
    InvalidTicket,
    StoreUnavailable,
    TriageError,
    UnknownPrediction,
)
from ticket_triage.core.model import Explanation, HeadDecision, TriageModel, TriageResult
from ticket_triage.core.routing import Router
from ticket_triage.production.recorder import Recorder
from ticket_triage.production.redact import redact
from ticket_triage.serving.schemas import (
    ContributionOut,
    ExplanationOut,
    FeedbackIn,
    HeadInfo,
    HeadOut,
    ModelOut,
    TicketIn,
    TriageOut,
)
from ticket_triage.serving.settings import Settings

__all__ = ["Rejected", "Service", "new_id"]

logger = logging.getLogger(__name__)

#: How long a rendered dashboard is reused: plotting the report takes about a second.
DASHBOARD_TTL_SECONDS = 60.0


class Rejected(ValueError):
    """Input that validated as JSON but cannot be used (a ticket without text, a label the
    model does not know); ``loc`` is the field at fault."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def new_id() -> str:
    """A time-ordered decision id (the UUIDv7 layout: 48-bit milliseconds, then 74 random
    bits), so ids sort by time and index well in the prediction store.

    Examples
    --------
    >>> a, b = new_id(), new_id()
    >>> len(a), a[12], a < b or a[:12] == b[:12]
    (32, '7', True)
    """
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value).hex


@dataclass(frozen=True)
class _Loaded:
    model: TriageModel
    router: Router
    recorder: Recorder | None


class Service:
    """The model, router and prediction log of one process, or the reason they could not be
    loaded. Listeners (metrics) are called with every request's decisions."""

    def __init__(self, settings: Settings, loaded: _Loaded | None, error: str | None) -> None:
        self.settings = settings
        self._loaded = loaded
        self.error = error
        self.listeners: list[Callable[[Sequence[TriageOut]], None]] = []
        self._dashboard_cache: dict[int, tuple[float, str]] = {}

    @classmethod
    def start(cls, settings: Settings, *, background_writes: bool = True) -> Service:
        """Load and verify the artifact and the rules once, and open the store; never raises
        for a bad artifact, rules file or database URL (the service stays unready instead).

        Parameters
        ----------
        background_writes
            Write prediction records from a writer thread (a server); False writes them in the
            request (Lambda, where nothing runs between invocations).
        """
        try:
            model = TriageModel.load(settings.model_dir)
            router = (
                Router.load(settings.rules_file, model.head_classes)
                if settings.rules_file
                else Router.default(model.head_classes)
            )
            recorder = _recorder(settings, background_writes)
        except TriageError as exc:
            logger.error("not ready: %s", exc, extra={"model_dir": str(settings.model_dir)})
            return cls(settings, None, str(exc))
        logger.info(
            "model loaded",
            extra={
                "model_version": model.version,
                "rules": router.source,
                "store": recorder.store.url if recorder else None,
            },
        )
        return cls(settings, _Loaded(model, router, recorder), None)

    def close(self) -> None:
        """Drain accepted prediction records to the database (or the spool) before exit."""
        if self._loaded is not None and self._loaded.recorder is not None:
            self._loaded.recorder.close()

    @property
    def store_up(self) -> bool:
        """Whether the last database write succeeded (False without a database)."""
        recorder = self._loaded.recorder if self._loaded else None
        return recorder is not None and recorder.database_up

    @property
    def ready(self) -> bool:
        """Whether the model and rules are loaded and verified."""
        return self._loaded is not None

    @property
    def model_version(self) -> str | None:
        """The served artifact's version, or None when not ready."""
        return self._loaded.model.version if self._loaded else None

    @property
    def loaded(self) -> _Loaded:
        """The model and router; only call when :attr:`ready`."""
        if self._loaded is None:
            raise RuntimeError("Service.loaded used before the model loaded")
        return self._loaded

    def triage(
        self, tickets: Sequence[TicketIn], *, explain: bool = False, loc: tuple[str | int, ...] = ()
    ) -> list[TriageOut]:
        """Decide and route tickets (one or a batch).

        Raises
        ------
        Rejected
            A ticket's text is over ``max_text_bytes`` or empty after cleaning; ``loc`` is
            ``loc + (position, field)`` for a batch, ``(field,)`` for a single ticket.
        """
        model = self.loaded.model
        started = time.perf_counter()
        texts = []
        for position, ticket in enumerate(tickets):
            where = (*loc, position) if loc else ()
            size = len(ticket.subject.encode()) + len(ticket.body.encode())
            if size > self.settings.max_text_bytes:
                raise Rejected(
                    (*where, "body"),
                    f"subject + body is {size} bytes; the limit is "
                    f"{self.settings.max_text_bytes} (TRIAGE_MAX_TEXT_BYTES)",
                )
            try:
                texts.append(model.text_of(ticket.model_dump()))
            except InvalidTicket as exc:
                raise Rejected((*where, "body"), str(exc)) from exc
        results = model.triage_texts(texts)
        out = []
        for ticket, result in zip(tickets, results, strict=True):
            out.append(self._decision(ticket, result, explain))
        elapsed_ms = (time.perf_counter() - started) * 1000
        recorder = self.loaded.recorder
        if recorder is not None:
            unseen = model.unseen_share(texts)
            per_ticket = elapsed_ms / len(out)
            for ticket, decision, share in zip(tickets, out, unseen, strict=True):
                recorder.record(self._record(ticket, decision, share, per_ticket))
        for listener in self.listeners:
            listener(out)
        for decision in out:
            logger.info(
                "triaged",
                extra={
                    "id": decision.id,
                    "queue": decision.queue,
                    "needs_review": decision.needs_review,
                    "labels": {h: d.label for h, d in result_heads(decision).items()},
                    "model_version": decision.model_version,
                    "latency_ms": round(elapsed_ms / len(out), 3),
                },
            )
        return out

    def _record(
        self, ticket: TicketIn, decision: TriageOut, unseen: float, latency_ms: float
    ) -> dict[str, Any]:
        """The prediction log's row for a decision; text redacted, or left out."""
        heads = result_heads(decision)
        keep = self.settings.store_text == "redacted"
        return {
            "id": decision.id,
            "created_at": datetime.now(UTC),
            "model_version": decision.model_version,
            "urgency": heads["urgency"].label if "urgency" in heads else None,
            "urgency_confidence": heads["urgency"].confidence if "urgency" in heads else None,
            "topic": heads["topic"].label if "topic" in heads else None,
            "topic_confidence": heads["topic"].confidence if "topic" in heads else None,
            "probabilities": {head: out.probabilities for head, out in heads.items()},
            "queue": decision.queue,
            "queue_rule": decision.queue_rule,
            "needs_review": decision.needs_review,
            "latency_ms": latency_ms,
            "unseen_share": unseen,
            "metadata": dict(ticket.metadata),
            "subject": redact(ticket.subject) if keep else None,
            "body": redact(ticket.body) if keep else None,
        }

    def add_feedback(self, feedback: FeedbackIn) -> bool:
        """Store feedback durably; True if new, False if the same feedback was already stored.

        Raises
        ------
        Rejected
            A label or queue the model does not know.
        UnknownPrediction
            No prediction with this id was ever recorded.
        StoreUnavailable
            No database is configured, or it cannot take the write now.
        """
        self.check_feedback(feedback)
        recorder = self.loaded.recorder
        if recorder is None:
            raise StoreUnavailable("feedback needs a database: set TRIAGE_DATABASE_URL")
        from ticket_triage.production.store import (
            FeedbackRecord,  # loaded with the store, if configured
        )

        record = FeedbackRecord(
            prediction_id=feedback.id,
            urgency=feedback.urgency,
            topic=feedback.topic,
            queue=feedback.queue,
            agent=feedback.agent,
            created_at=datetime.now(UTC),
        )
        try:
            return recorder.store.add_feedback(record)
        except UnknownPrediction:
            if not recorder.is_pending(feedback.id):
                raise
        # The prediction is still in the write buffer: write it now, then the feedback.
        recorder.flush()
        return recorder.store.add_feedback(record)

    def _decision(self, ticket: TicketIn, result: TriageResult, explain: bool) -> TriageOut:
        model, router = self.loaded.model, self.loaded.router
        labels = {head: decision.label for head, decision in result.heads.items()}
        route = router.route(labels, result.needs_review, ticket.metadata)
        heads: dict[str, Any] = {head: _head_out(d) for head, d in result.heads.items()}
        explanation = None
        if explain:
            explained = model.explain(ticket.model_dump(), top=self.settings.explain_top)
            explanation = {head: _explanation_out(e) for head, e in explained.items()}
        return TriageOut(
            id=new_id(),
            **heads,
            queue=route.queue,
            queue_rule=route.rule,
            needs_review=result.needs_review,
            model_version=result.model_version,
            explanation=explanation,
        )

    def feedback_labels(self) -> dict[str, list[str]]:
        """Per feedback field, the values this model and these rules know (head classes, queues)."""
        model, router = self.loaded.model, self.loaded.router
        return {**{h: list(c) for h, c in model.head_classes.items()}, "queue": list(router.queues)}

    def check_feedback(self, feedback: FeedbackIn) -> None:
        """Validate an agent's labels against the model's classes and the router's queues.

        Raises
        ------
        Rejected
            No label is given, or one is not a class (queue) the service knows; the message
            lists the allowed values.
        """
        allowed = self.feedback_labels()
        given = {f: getattr(feedback, f) for f in ("urgency", "topic", "queue")}
        if all(value is None for value in given.values()):
            raise Rejected(("urgency",), "give at least one of urgency, topic or queue")
        for field, value in given.items():
            if value is None:
                continue
            if field not in allowed:
                raise Rejected((field,), f"this model has no {field} head")
            if value not in allowed[field]:
                raise Rejected(
                    (field,), f"{value!r} is not one of: {', '.join(sorted(allowed[field]))}"
                )

    def dashboard(self, days: int) -> str:
        """The ``/dashboard`` page: the monitoring report of the last ``days`` days (rendered at
        most once a minute: the plots take a second) and the try-a-ticket form."""
        from ticket_triage.serving.dashboard import page

        now = time.monotonic()
        cached = self._dashboard_cache.get(days)
        if cached is not None and now - cached[0] < DASHBOARD_TTL_SECONDS:
            return cached[1]
        recorder = self.loaded.recorder
        report, note = None, f"The report covers the last {days} days of the prediction log."
        if recorder is None:
            note = "This service keeps no prediction log."
        else:
            from ticket_triage.production.monitoring import build_report, report_html

            # Plots need matplotlib, which the Lambda package leaves out: tables carry every
            # number either way.
            figures = importlib.util.find_spec("matplotlib") is not None
            try:
                recorder.flush()  # include the decisions still in the write buffer
                since = datetime.now(UTC) - timedelta(days=days)
                built = build_report(recorder.store, self.settings.model_dir, since=since)
                report = report_html(built, figures=figures)
            except StoreUnavailable:
                note = "The database is unavailable: no report until it is back."
        from ticket_triage.production.monitoring import CSS

        html = page(
            report,
            self.loaded.model.version,
            token_field=self.settings.protect_triage,
            note=note,
            report_css=CSS,
        )
        self._dashboard_cache[days] = (now, html)
        return html

    def describe(self) -> ModelOut:
        """What ``GET /v1/model`` shows: version, per-head classes and thresholds, rules."""
        model, router = self.loaded.model, self.loaded.router
        heads = {}
        for head in model.meta["heads"]:
            heads[head["name"]] = HeadInfo(
                classes=list(head["classes"]),
                target=head.get("target"),
                review_thresholds=head["review"]["thresholds"],
            )
        return ModelOut(
            model_version=model.version,
            heads=heads,
            queues=router.queues,
            rules_source=router.source,
            rules=router.to_json(),
            features=model.meta["features"],
        )


def _recorder(settings: Settings, background: bool) -> Recorder | None:
    """The prediction writer, if a database is configured. A database that is down at start
    is not fatal: records spool until it answers (and the schema is created then)."""
    if settings.database_url is None:
        return None
    from ticket_triage.production.store import (
        Store,  # SQLAlchemy costs cold start: only when configured
    )

    store = Store.open(settings.database_url, migrate=False)
    try:
        store.migrate()
    except StoreUnavailable as exc:
        logger.warning("database unavailable at start; spooling", extra={"error": str(exc)})
    recorder = Recorder(store, settings.spool_path, background=background)
    return recorder.start() if background else recorder


def result_heads(decision: TriageOut) -> dict[str, HeadOut]:
    """The heads present in a decision (a model may have only one of urgency and topic)."""
    return {
        name: head
        for name, head in (("urgency", decision.urgency), ("topic", decision.topic))
        if head is not None
    }


def _head_out(decision: HeadDecision) -> HeadOut:
    return HeadOut(
        label=decision.label,
        confidence=decision.confidence,
        probabilities=decision.probabilities,
        needs_review=decision.needs_review,
    )


def _explanation_out(explanation: Explanation) -> ExplanationOut:
    return ExplanationOut(
        label=explanation.label,
        versus=explanation.versus,
        bias=explanation.bias,
        rest=explanation.rest,
        contributions=[
            ContributionOut(ngrams=list(c.ngrams), weight=c.weight)
            for c in explanation.contributions
        ],
    )
