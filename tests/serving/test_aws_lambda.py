"""The Lambda handler driven by the real AWS event payloads in ../shared/lambda_events (issue 3).

The module builds its app at import (the init phase), so the fixture imports it once with
``TRIAGE_MODEL_DIR`` pointing at the session's sample model.
"""

from __future__ import annotations

import base64
import copy
import importlib
import json
import logging
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from ticket_triage.serving.logs import JsonFormatter
from ticket_triage.serving.settings import get_settings

from ..conftest import ROOT
from .test_api import CASES

EVENTS = ROOT.parent / "shared" / "lambda_events"
HTTP_EVENTS = ["api_gateway_rest_v1", "api_gateway_http_v2", "lambda_function_url"]
TICKET = {"subject": "Payment failed!!!", "body": "Card declined, error 402", "metadata": {}}


@pytest.fixture(scope="module")
def aws_lambda(sample_model: Path) -> ModuleType:
    patch = pytest.MonkeyPatch()
    patch.setenv("TRIAGE_MODEL_DIR", str(sample_model))
    get_settings.cache_clear()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    sys.modules.pop("ticket_triage.serving.aws_lambda", None)
    try:
        module = importlib.import_module("ticket_triage.serving.aws_lambda")
    finally:
        root.handlers[:], root.level = handlers, level  # keep pytest's log capture
        patch.undo()
        get_settings.cache_clear()
    return module


def _event(kind: str, shared_datasets: Path) -> dict[str, Any]:
    """A real payload of ``kind``; ``shared_datasets`` makes CI fail if ../shared is absent."""
    return json.loads((EVENTS / f"{kind}.json").read_text())


def http_event(
    kind: str,
    method: str,
    path: str,
    body: object = None,
    *,
    base64_body: bool = False,
    query: str = "",
) -> dict[str, Any]:
    """The shared payload of ``kind`` with method, path, JSON body and query set for our API."""
    event = copy.deepcopy(json.loads((EVENTS / f"{kind}.json").read_text()))
    raw = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    encoded = base64.b64encode(raw).decode() if base64_body else raw.decode("utf-8", "replace")
    params = dict(p.split("=", 1) for p in query.split("&") if p)
    if event.get("version") == "2.0":
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["requestContext"]["http"]["method"] = method
        event["rawQueryString"] = query
        event["queryStringParameters"] = params or None
        event["headers"] = {"content-type": "application/json"}
    else:
        event["path"] = event["resource"] = event["requestContext"]["path"] = path
        event["httpMethod"] = event["requestContext"]["httpMethod"] = method
        event["headers"] = {"Content-Type": "application/json"}
        event["multiValueHeaders"] = {"Content-Type": ["application/json"]}
        event["queryStringParameters"] = params or None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in params.items()} or None
    event["body"] = encoded if raw else None
    event["isBase64Encoded"] = base64_body
    return event


def context(request_id: str = "req-123") -> SimpleNamespace:
    return SimpleNamespace(
        aws_request_id=request_id, function_name="triage", memory_limit_in_mb=1536
    )


@pytest.mark.parametrize("kind", HTTP_EVENTS)
@pytest.mark.parametrize("base64_body", [False, True], ids=["plain", "base64"])
def test_triage_through_every_http_event_kind(aws_lambda, shared_datasets, kind, base64_body):
    # GIVEN a real API Gateway / Function URL payload carrying a ticket
    event = http_event(kind, "POST", "/v1/triage", TICKET, base64_body=base64_body)
    # WHEN the handler serves it
    result = aws_lambda.handler(event, context())
    # THEN it answers like the HTTP API does
    assert result["statusCode"] == 200, result
    body = json.loads(result["body"])
    assert body["urgency"]["label"] in {"high", "normal", "low"}
    assert body["queue"]
    assert body["model_version"] == result["headers"]["x-model-version"]


@pytest.mark.parametrize("kind", HTTP_EVENTS)
def test_every_endpoint_answers_through_lambda(aws_lambda, shared_datasets, kind):
    assert _call(aws_lambda, kind, "GET", "/healthz")[0] == 200
    assert _call(aws_lambda, kind, "GET", "/readyz")[1]["ready"] is True
    assert "heads" in _call(aws_lambda, kind, "GET", "/v1/model")[1]
    status, body = _call(aws_lambda, kind, "POST", "/v1/triage/batch", {"tickets": [TICKET] * 3})
    assert (status, len(body["results"])) == (200, 3)
    status, body = _call(aws_lambda, kind, "POST", "/v1/triage", TICKET, query="explain=true")
    assert set(body["explanation"]) == {"urgency", "topic"}
    # no TRIAGE_DATABASE_URL in this function: feedback cannot be stored, and says so
    status, body = _call(aws_lambda, kind, "POST", "/v1/feedback", {"id": "abc123", "topic": "bug"})
    assert status == 503
    assert "TRIAGE_DATABASE_URL" in body["detail"]


@pytest.mark.parametrize("kind", HTTP_EVENTS)
@pytest.mark.parametrize(
    ("payload", "status", "field", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_the_bad_input_matrix_through_lambda(
    aws_lambda, shared_datasets, kind, payload, status, field, fragment
):
    """The API's bad-input matrix (tests/serving/test_api.py), through every event kind,
    with the body as text and base64-encoded as API Gateway sends binary bodies."""
    for base64_body in (False, True):
        if not base64_body and isinstance(payload, bytes) and b"\xff" in payload:
            continue  # a text body cannot carry invalid UTF-8; API Gateway base64-encodes it
        event = http_event(kind, "POST", "/v1/triage", payload, base64_body=base64_body)
        result = aws_lambda.handler(event, context())
        assert result["statusCode"] == status, result
        detail = json.loads(result["body"])["detail"]
        if field is None:
            assert fragment in detail
        else:
            assert any(p["field"] == field and fragment in p["msg"] for p in detail), detail


@pytest.mark.parametrize("kind", HTTP_EVENTS)
def test_wrong_content_type_through_lambda(aws_lambda, shared_datasets, kind):
    event = http_event(kind, "POST", "/v1/triage", {"body": "x"})
    event["headers"] = {"content-type": "text/plain"}
    event.pop("multiValueHeaders", None)
    result = aws_lambda.handler(event, context())
    assert result["statusCode"] == 415


@pytest.mark.parametrize(
    "event",
    [{"warmup": True}, {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}],
    ids=["payload", "eventbridge schedule"],
)
def test_warmup_returns_without_touching_the_app(aws_lambda, monkeypatch, event):
    def untouchable(*args, **kwargs):
        raise AssertionError("the app was called for a warm-up event")

    monkeypatch.setattr("mangum.adapter.Mangum.__call__", untouchable)
    result = aws_lambda.handler(event, context())
    assert result["warmup"] is True
    assert result["ready"] is True


def test_non_http_event_gets_an_error_result(aws_lambda, shared_datasets):
    event = _event("eventbridge_non_http", shared_datasets)
    result = aws_lambda.handler(event, context())
    assert result["statusCode"] == 400
    assert result["error"] == "unsupported event"
    assert "aws.ec2" in result["detail"]
    assert aws_lambda.handler([1, 2], context())["error"] == "unsupported event"


def test_log_lines_are_json_with_the_request_id(aws_lambda, shared_datasets):
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    keep = Keep()
    keep.setFormatter(JsonFormatter("test"))
    logger = logging.getLogger("ticket_triage")
    logger.addHandler(keep)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        event = http_event("api_gateway_http_v2", "POST", "/v1/triage", TICKET)
        aws_lambda.handler(event, context("abc-42"))
    finally:
        logger.removeHandler(keep)
        logger.setLevel(level)
    lines = [json.loads(line) for line in records]
    triaged = [line for line in lines if line["message"] == "triaged"]
    assert triaged
    assert triaged[0]["request_id"] == "abc-42"
    assert "Card declined" not in "".join(records)  # ticket text never reaches the logs


def _call(module, kind, method, path, body=None, query=""):
    result = module.handler(http_event(kind, method, path, body, query=query), context())
    return result["statusCode"], json.loads(result["body"])


def test_each_triage_prints_an_emf_line_of_counts(aws_lambda, shared_datasets, capsys):
    capsys.readouterr()
    event = http_event("api_gateway_http_v2", "POST", "/v1/triage/batch", {"tickets": [TICKET] * 3})
    result = aws_lambda.handler(event, context())
    decisions = json.loads(result["body"])["results"]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(lines) == 1
    emf = lines[0]
    metrics = emf["_aws"]["CloudWatchMetrics"][0]
    assert metrics["Namespace"] == "ticket-triage"
    assert emf["decisions"] == 3
    assert emf[f"queue.{decisions[0]['queue']}"] == 3
    assert emf[f"urgency.{decisions[0]['urgency']['label']}"] == 3
    assert {m["Name"] for m in metrics["Metrics"]} <= set(emf)


def test_with_a_database_records_are_written_within_the_invoke(
    aws_lambda, sample_model, tmp_path, shared_datasets
):
    # GIVEN a Lambda handler whose function has TRIAGE_DATABASE_URL set
    from ticket_triage.serving.api import create_app
    from ticket_triage.serving.service import Service
    from ticket_triage.serving.settings import Settings

    settings = Settings(
        model_dir=sample_model,
        database_url=f"sqlite:///{tmp_path / 'log.db'}",
        spool_path=tmp_path / "spool.jsonl",
    )
    service = Service.start(settings, background_writes=False)
    handler = aws_lambda.make_handler(create_app(settings, service))
    # WHEN a ticket is triaged
    result = handler(http_event("api_gateway_http_v2", "POST", "/v1/triage", TICKET), context())
    decision = json.loads(result["body"])
    # THEN its record is already in the database when the invoke returns (nothing runs later)
    store = service.loaded.recorder.store
    assert store.has_prediction(decision["id"])
    feedback = http_event("api_gateway_http_v2", "POST", "/v1/feedback",
                          {"id": decision["id"], "topic": "billing"})  # fmt: skip
    assert handler(feedback, context())["statusCode"] == 201
    store.close()
