"""Helpers of the connectors' tests: the secrets, signed webhook requests as each desk sends
them, tickets in the vendors' shapes, and ``connectors.toml`` for the fake help desks."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fake_helpdesk import FakeHelpDesk
from fastapi.testclient import TestClient

from ticket_triage.connectors import github, zendesk

FIXTURES = Path(__file__).parent / "fixtures"
SECRETS = {
    "zendesk_signing_secret": "zendesk-signing-secret-for-tests",
    "zendesk_api_token": "zendesk-api-token",
    "freshdesk_webhook_secret": "freshdesk-shared-secret",
    "freshdesk_api_key": "freshdesk-api-key",
    "github_webhook_secret": "github-webhook-secret",
    "github_token": "github-token",
}
BOT_ZENDESK = "900001"
BOT_GITHUB = "triage-bot"
REPOSITORY = "Codertocat/Hello-World"
#: The sample model's queues (default rules) -> help-desk groups.
GROUPS = {"account": 101, "billing": 102, "bug": 103, "feature_request": 104, "priority": 105,
          "review": 106}  # fmt: skip


def fixture(name: str) -> dict[str, Any]:
    """A payload fixture (``tests/connectors/fixtures``, from the vendors' documentation)."""
    return json.loads((FIXTURES / name).read_text())


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def zendesk_headers(body: bytes, at: datetime | None = None, secret: str | None = None) -> dict:
    stamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = zendesk.sign(secret or SECRETS["zendesk_signing_secret"], stamp, body)
    return {
        "content-type": "application/json",
        "x-zendesk-webhook-signature": signature,
        "x-zendesk-webhook-signature-timestamp": stamp,
        "x-zendesk-webhook-invocation-id": "8350205582",
    }


def github_headers(body: bytes, event: str = "issues", delivery: str = "d-1") -> dict:
    return {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": delivery,
        "x-hub-signature-256": github.sign(SECRETS["github_webhook_secret"], body),
    }


def freshdesk_headers() -> dict:
    return {"content-type": "application/json",
            "authorization": basic("freshdesk", SECRETS["freshdesk_webhook_secret"])}  # fmt: skip


def zendesk_ticket(ticket_id: int, subject: str, body: str, **fields: Any) -> dict[str, Any]:
    """A Zendesk ticket as the API shows it (the docs' example, another id and text)."""
    ticket = fixture("zendesk_ticket.json")["ticket"]
    ticket.update(id=ticket_id, subject=subject, description=body, group_id=None,
                  priority="normal", tags=["enterprise"], **fields)  # fmt: skip
    return ticket


def zendesk_trigger(ticket: dict[str, Any], actor: str = "20978392") -> bytes:
    """The README's trigger body for ``ticket``, as Zendesk renders it."""
    payload = fixture("zendesk_trigger.json")
    payload["ticket"].update(
        id=str(ticket["id"]), subject=ticket["subject"], description=ticket["description"],
        priority=(ticket.get("priority") or "-").capitalize(),
        group_id=str(ticket.get("group_id") or ""), tags=" ".join(ticket.get("tags", [])),
        updated_at=ticket.get("updated_at", "2011-05-05T10:38:52Z"),
    )  # fmt: skip
    payload["current_user_id"] = actor
    return json.dumps(payload).encode()


def connectors_toml(fakes: dict[str, FakeHelpDesk]) -> str:
    groups = "\n".join(f"{queue} = {group}" for queue, group in GROUPS.items())
    return f"""
[zendesk]
url = "{fakes["zendesk"].url}"
email = "bot@example.com"
bot_user_id = {BOT_ZENDESK}
[zendesk.priority]
high = "urgent"
normal = "normal"
low = "low"
[zendesk.groups]
{groups}

[freshdesk]
url = "{fakes["freshdesk"].url}"
[freshdesk.priority]
high = 4
normal = 2
low = 1
[freshdesk.groups]
{groups}

[github]
api_url = "{fakes["github"].url}"
repositories = ["{REPOSITORY}"]
bot_login = "{BOT_GITHUB}"
[github.import]
topic = {{ bug = ["bug"], feature_request = ["enhancement"] }}
"""


def outbox_of(client: TestClient) -> Any:
    return client.app.state.service.loaded.connectors.outbox
