"""The serving core behind the HTTP API: the loaded model and router, and one call per request.

:class:`Service` is built once per process (uvicorn worker or Lambda execution environment). It
never raises for a bad artifact or rules file: it records why it is not ready, so ``/healthz``
still answers, ``/readyz`` says what is wrong (the message names the file), and triage answers
503 instead of the process dying in a restart loop. ``triage serve`` checks readiness first and
refuses to start a server that could not triage.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ticket_triage.errors import InvalidTicket, TriageError
from ticket_triage.model import Explanation, HeadDecision, TriageModel, TriageResult
from ticket_triage.routing import Router
from ticket_triage.schemas import (
    ContributionOut,
    ExplanationOut,
    FeedbackIn,
    HeadInfo,
    HeadOut,
    ModelOut,
    TicketIn,
    TriageOut,
)
from ticket_triage.settings import Settings

__all__ = ["Rejected", "Service", "new_id"]

logger = logging.getLogger(__name__)


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


class Service:
    """The model and router of one process, or the reason they could not be loaded."""

    def __init__(self, settings: Settings, loaded: _Loaded | None, error: str | None) -> None:
        self.settings = settings
        self._loaded = loaded
        self.error = error

    @classmethod
    def start(cls, settings: Settings) -> Service:
        """Load and verify the artifact and the rules once; never raises for a bad one."""
        try:
            model = TriageModel.load(settings.model_dir)
            router = (
                Router.load(settings.rules_file, model.head_classes)
                if settings.rules_file
                else Router.default(model.head_classes)
            )
        except TriageError as exc:
            logger.error("not ready: %s", exc, extra={"model_dir": str(settings.model_dir)})
            return cls(settings, None, str(exc))
        logger.info(
            "model loaded",
            extra={"model_version": model.version, "rules": router.source},
        )
        return cls(settings, _Loaded(model, router), None)

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

    def check_feedback(self, feedback: FeedbackIn) -> None:
        """Validate an agent's labels against the model's classes and the router's queues.

        Raises
        ------
        Rejected
            No label is given, or one is not a class (queue) the service knows; the message
            lists the allowed values.
        """
        model, router = self.loaded.model, self.loaded.router
        allowed = {**{h: list(c) for h, c in model.head_classes.items()}, "queue": router.queues}
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
