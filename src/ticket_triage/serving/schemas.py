"""The HTTP API's request and response bodies (pydantic v2): the contract in DESIGN.md, typed.

Inputs forbid unknown fields, so a misspelt ``metdata`` is a 422 naming it instead of a ticket
silently triaged without its metadata. Outputs are declared on every route, so FastAPI serialises
them in pydantic's Rust core (its fast JSON path since 0.130; no orjson needed).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "BatchIn",
    "BatchOut",
    "ContributionOut",
    "ErrorOut",
    "ExplanationOut",
    "FeedbackIn",
    "FeedbackOut",
    "HeadInfo",
    "HeadOut",
    "HealthOut",
    "ModelOut",
    "ReadyOut",
    "TicketIn",
    "TriageOut",
    "WebhookOut",
]

#: Static upper bounds that keep a hostile request cheap to reject; the configurable caps
#: (``TRIAGE_MAX_TEXT_BYTES``, ``TRIAGE_MAX_BATCH``) are checked by the routes.
_MAX_FIELD_CHARS = 1024 * 1024
MetaKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MetaValue = Annotated[str, StringConstraints(max_length=256)]
_Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketIn(_In):
    """One support ticket."""

    subject: str = Field("", max_length=_MAX_FIELD_CHARS, examples=["Payment failed!!!"])
    body: str = Field(max_length=_MAX_FIELD_CHARS, examples=["Card declined with error 402."])
    metadata: dict[MetaKey, MetaValue] = Field(
        default_factory=dict,
        max_length=32,
        description="Flat string key/value pairs; they become tokens such as `plan:pro`.",
        examples=[{"product": "billing", "plan": "enterprise"}],
    )


class BatchIn(_In):
    """Up to ``TRIAGE_MAX_BATCH`` tickets, answered in order."""

    tickets: list[TicketIn] = Field(min_length=1)


class FeedbackIn(_In):
    """An agent's final labels for a decision; at least one of urgency, topic or queue."""

    id: _Id = Field(description="The `id` of the decision this corrects or confirms.")
    urgency: str | None = Field(None, max_length=64)
    topic: str | None = Field(None, max_length=64)
    queue: str | None = Field(None, max_length=128)
    agent: str | None = Field(None, max_length=128, description="Who decided (stored as given).")


class HeadOut(BaseModel):
    """One head's decision."""

    label: str
    confidence: float = Field(description="Calibrated probability of `label`.")
    probabilities: dict[str, float]
    needs_review: bool = Field(description="`confidence` is below this class's review threshold.")


class ContributionOut(BaseModel):
    """A hashed feature of the ticket and its share of the decision's margin."""

    ngrams: list[str] = Field(description="The ticket's own n-grams that hash to this feature.")
    weight: float


class ExplanationOut(BaseModel):
    """Why a head chose `label` over `versus`: `bias + rest + sum(weights)` is the margin."""

    label: str
    versus: str
    bias: float
    rest: float
    contributions: list[ContributionOut]


class TriageOut(BaseModel):
    """A decision: per-head labels, the queue, and whether a person should look first."""

    id: str
    urgency: HeadOut | None = None
    topic: HeadOut | None = None
    queue: str
    queue_rule: str = Field(description="The routing rule that chose `queue`.")
    needs_review: bool
    model_version: str
    explanation: dict[str, ExplanationOut] | None = None
    needs_audit: bool = Field(
        False,
        description="Drawn for the audit sample (TRIAGE_AUDIT_SHARE): an automatically routed "
        "ticket an agent should confirm, so quality can be measured without review bias.",
    )

    def heads(self) -> dict[str, HeadOut]:
        """The heads present (a model may have only one of urgency and topic)."""
        return {
            name: head
            for name, head in (("urgency", self.urgency), ("topic", self.topic))
            if head is not None
        }


class BatchOut(BaseModel):
    """Decisions in the order of the request's tickets."""

    results: list[TriageOut]
    model_version: str


class FeedbackOut(BaseModel):
    """Feedback committed to the store (201), or found already stored (200, ``stored`` false)."""

    id: str
    stored: bool
    model_version: str


class ErrorOut(BaseModel):
    """An error that is not about one field: what went wrong, in words."""

    detail: str


class HealthOut(BaseModel):
    """The process is alive."""

    status: str
    model_version: str | None


class ReadyOut(BaseModel):
    """Whether the model is loaded and verified; `detail` says why not."""

    ready: bool
    model_version: str | None
    detail: str | None = None
    versions: dict[str, str | None] | None = Field(
        None, description="Per role (live, shadow, canary), the version served."
    )


class HeadInfo(BaseModel):
    """A head as the model decides it."""

    classes: list[str]
    target: dict[str, object] | None = Field(
        None, description="The tuned target (e.g. urgency `high` at precision >= 0.85)."
    )
    review_thresholds: dict[str, float | None] = Field(
        description="Per class, the confidence below which a decision goes to review "
        "(null: never decided automatically)."
    )


class ModelOut(BaseModel):
    """What the service runs: version, heads, thresholds and routing rules."""

    model_version: str
    heads: dict[str, HeadInfo]
    queues: list[str]
    rules_source: str
    rules: list[dict[str, object]]
    features: dict[str, object]


class WebhookOut(BaseModel):
    """What a help-desk webhook came to (see ``POST /v1/connectors/{desk}``)."""

    outcome: str = Field(
        description="accepted, duplicate, own_update, unchanged, pending_write, feedback, "
        "check or ignored."
    )
    desk: str
    ticket: str | None = Field(None, description="The ticket's id in the help desk.")
    prediction_id: str | None = Field(None, description="Our decision for it.")
    queue: str | None = None
    detail: str | None = None
