"""The connectors behind API Gateway: a signed Zendesk webhook through the Lambda handler is
written back within its own invoke, and what failed there is sent by the template's scheduled
``{"connectors": "drain"}`` invoke once the desk is back."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fake_helpdesk import FakeHelpDesk
from helpers import SECRETS, zendesk_headers, zendesk_ticket, zendesk_trigger

from ticket_triage.serving.service import Service
from ticket_triage.serving.settings import get_settings

from ..serving.test_aws_lambda import context, http_event


@pytest.fixture
def fresh_lambda(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ModuleType]]:
    """``fresh_lambda(environment)``: the Lambda module imported afresh (its init phase) with
    these settings; its service is closed at the end (a frozen Lambda sandbox never closes it,
    a test process must: the outbox's HTTP connections)."""
    modules: list[ModuleType] = []

    def build(environment: dict[str, str]) -> ModuleType:
        modules.append(_handler(monkeypatch, environment))
        return modules[-1]

    yield build
    for module in modules:
        cells = [cell.cell_contents for cell in module.handler.__closure__ or ()]
        for service in (value for value in cells if isinstance(value, Service)):
            service.close()


def _handler(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> ModuleType:
    """The Lambda module imported afresh (its init phase) with these settings."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    sys.modules.pop("ticket_triage.serving.aws_lambda", None)
    try:
        return importlib.import_module("ticket_triage.serving.aws_lambda")
    finally:
        root.handlers[:], root.level = handlers, level  # keep pytest's log capture
        get_settings.cache_clear()


def _webhook(ticket: dict) -> dict:
    """A signed trigger for ``ticket``, as an HTTP API (v2) event."""
    body = zendesk_trigger(ticket)
    event = http_event("api_gateway_http_v2", "POST", "/v1/connectors/zendesk", body)
    event["headers"] = zendesk_headers(body)
    return event


def test_webhooks_and_the_scheduled_drain_through_lambda(
    sample_model: Path,
    fakes: dict[str, FakeHelpDesk],
    connectors_file: Path,
    tmp_path: Path,
    shared_datasets: Path,
    fresh_lambda: Callable[..., ModuleType],
    wait_until: Callable[..., None],
) -> None:
    # GIVEN the function as the template configures it, with help desks connected
    aws_lambda = fresh_lambda({
        "TRIAGE_MODEL_DIR": str(sample_model),
        "TRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'triage.db'}",
        "TRIAGE_SPOOL_PATH": str(tmp_path / "spool.jsonl"),
        "TRIAGE_CONNECTORS_FILE": str(connectors_file),
        "TRIAGE_CONNECTORS_RETRY_BASE": "0.1",
        "TRIAGE_CONNECTORS_RETRY_CAP": "0.2",
        **{f"TRIAGE_{name.upper()}": value for name, value in SECRETS.items()},
    })  # fmt: skip
    zendesk = fakes["zendesk"]
    first = zendesk_ticket(501, "Payment failed!!!", "Card declined twice, error 402")
    second = zendesk_ticket(502, "Cannot log in", "Password reset link never arrives")
    zendesk.add(first)
    zendesk.add(second)
    # WHEN a webhook arrives through API Gateway
    result = aws_lambda.handler(_webhook(first), context("req-1"))
    # THEN it is accepted and written back before the invoke returns (no thread on Lambda)
    assert result["statusCode"] == 202, result
    assert json.loads(result["body"])["outcome"] == "accepted"
    assert [write.method for write in zendesk.writes("501")] == ["PUT"]
    # WHEN the desk is down during the next webhook's invoke
    zendesk.down_for(3600)
    result = aws_lambda.handler(_webhook(second), context("req-2"))
    assert result["statusCode"] == 202, result
    assert not zendesk.writes("502")
    # THEN a drain while it is still down sends nothing and loses nothing
    drained = aws_lambda.handler({"connectors": "drain"}, context("req-3"))
    assert drained["outbox"]["zendesk"]["pending"] == 1, drained
    # AND the scheduled drain after it is back writes the update, once
    zendesk.down_for(0)

    def drained_one() -> bool:
        answer = aws_lambda.handler({"connectors": "drain"}, context("req-4"))
        return answer["outbox"]["zendesk"]["done"] == 2

    wait_until(drained_one)
    assert [write.method for write in zendesk.writes("502")] == ["PUT"]
    assert [write.method for write in zendesk.writes("501")] == ["PUT"]


def test_a_drain_without_help_desks_says_so(
    sample_model: Path, fresh_lambda: Callable[..., ModuleType]
) -> None:
    aws_lambda = fresh_lambda({"TRIAGE_MODEL_DIR": str(sample_model)})
    result = aws_lambda.handler({"connectors": "drain"}, context())
    assert result["statusCode"] == 400
    assert "TRIAGE_CONNECTORS_FILE" in result["detail"]
