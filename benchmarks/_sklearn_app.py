"""The scikit-learn way to serve the same API on Lambda: the baseline of lambda_latency.py.

What a typical implementation of the original sketch deploys: FastAPI + Mangum, one pickled
``Pipeline([HashingVectorizer(ngram_range=(1, 2), alternate_sign=False),
LogisticRegression(class_weight="balanced")])`` per head, loaded at import (Lambda's init phase)
from the ``*.joblib`` files in ``SKLEARN_BASELINE_DIR``, which the benchmark fits and writes
beforehand. Benchmark-only: ticket-triage's own artifacts are never pickled.

It is kept lean so that the comparison flatters it: no routing, no review thresholds, no size
guard, no logging; only validation of the same request body and one ``predict_proba`` per head.
"""

from __future__ import annotations

import os
from pathlib import Path

import joblib
from fastapi import FastAPI
from mangum import Mangum
from pydantic import BaseModel, ConfigDict, Field


class TicketIn(BaseModel):
    """The request body of ``POST /v1/triage``, as ticket-triage accepts it."""

    model_config = ConfigDict(extra="forbid")

    subject: str = ""
    body: str
    metadata: dict[str, str] = Field(default_factory=dict)


class HeadOut(BaseModel):
    """One head's most probable label and the probabilities behind it."""

    label: str
    probabilities: dict[str, float]


def text_of(subject: str, body: str) -> str:
    """What the pipelines read: subject and body, as the quality benchmark's baseline does."""
    return f"{subject} {body}"


def create_app(model_dir: Path) -> FastAPI:
    """The app over every ``<head>.joblib`` pipeline in ``model_dir``."""
    pipelines = {path.stem: joblib.load(path) for path in sorted(model_dir.glob("*.joblib"))}
    app = FastAPI(title="scikit-learn baseline")

    @app.post("/v1/triage")
    async def triage(ticket: TicketIn) -> dict[str, HeadOut]:
        text = text_of(ticket.subject, ticket.body)
        out = {}
        for head, pipeline in pipelines.items():
            probabilities = pipeline.predict_proba([text])[0]
            classes = [str(c) for c in pipeline.classes_]
            out[head] = HeadOut(
                label=classes[int(probabilities.argmax())],
                probabilities=dict(zip(classes, map(float, probabilities), strict=True)),
            )
        return out

    return app


#: The Lambda entry point, built at import like ``ticket_triage.serving.aws_lambda.handler``.
handler = Mangum(create_app(Path(os.environ["SKLEARN_BASELINE_DIR"])), lifespan="off")
