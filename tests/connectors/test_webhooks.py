"""Webhooks in, write-backs out, corrections back as feedback: each help desk end to end, the app
in process (TestClient), the help desks real HTTP servers on loopback, a SQLite store."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from helpers import (
    BOT_GITHUB,
    BOT_ZENDESK,
    GROUPS,
    REPOSITORY,
    fixture,
    freshdesk_headers,
    github_headers,
    outbox_of,
    zendesk_headers,
    zendesk_ticket,
    zendesk_trigger,
)
from sqlalchemy import select

from ticket_triage.production.store import FeedbackRow
from ticket_triage.serving.api import create_app
from ticket_triage.serving.settings import Settings

PRINTER = "Payment failed!!! Card declined with error 402, the whole team is locked out. ASAP"


def _feedback(client) -> list[dict]:
    store = outbox_of(client).store
    with store.engine.connect() as connection:
        return [dict(r) for r in connection.execute(select(FeedbackRow.__table__)).mappings()]


def _post_zendesk(client, body: bytes, **headers):
    return client.post(
        "/v1/connectors/zendesk", content=body, headers={**zendesk_headers(body), **headers}
    )


def test_a_new_zendesk_ticket_is_triaged_and_written_back_once(connected, fakes, wait_until):
    # GIVEN a ticket created in Zendesk, and its trigger's signed webhook
    ticket = zendesk_ticket(501, "Payment failed!!!", PRINTER)
    fakes["zendesk"].add(ticket)
    client = connected()
    body = zendesk_trigger(ticket)
    # WHEN the webhook arrives
    answer = client.post("/v1/connectors/zendesk", content=body, headers=zendesk_headers(body))
    # THEN it is accepted (stored with its write-back) before it is answered
    assert answer.status_code == 202, answer.text
    decision = answer.json()
    assert decision["outcome"] == "accepted"
    assert decision["ticket"] == "501"
    # AND the worker writes the decision back: group from the queue, priority, triage tags
    wait_until(lambda: fakes["zendesk"].writes("501"))
    (write,) = fakes["zendesk"].writes("501")
    assert write.method == "PUT"
    assert write.path == "/api/v2/tickets/501"
    update = write.body["ticket"]
    assert update["group_id"] == GROUPS[decision["queue"]]
    assert update["priority"] in ("urgent", "normal", "low")
    assert "triage_urgency_high" in update["additional_tags"] or update["priority"] != "urgent"
    assert any(tag.startswith("triage_topic_") for tag in update["additional_tags"])
    assert "enterprise" not in update.get("remove_tags", [])  # the agent's own tags stay
    # AND a redelivery of the same webhook changes nothing
    again = client.post("/v1/connectors/zendesk", content=body, headers=zendesk_headers(body))
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    # AND the echo of our own write-back (the trigger fires on it) is not triaged again
    echo = zendesk_trigger(fakes["zendesk"].tickets["501"], actor=BOT_ZENDESK)
    assert _post_zendesk(client, echo).json()["outcome"] == "own_update"
    assert len(fakes["zendesk"].writes("501")) == 1
    # AND the prediction is in the log, linked to the ticket
    counts = outbox_of(client).counts()["zendesk"]
    assert (counts["done"], counts["pending"], counts["dead"]) == (1, 0, 0)


def test_an_agent_moving_a_zendesk_ticket_becomes_feedback(connected, fakes, wait_until):
    ticket = zendesk_ticket(
        502, "Invoice address", "Please change the billing address on our invoice."
    )
    fakes["zendesk"].add(ticket)
    client = connected()
    body = zendesk_trigger(ticket)
    decision = client.post(
        "/v1/connectors/zendesk", content=body, headers=zendesk_headers(body)
    ).json()
    wait_until(lambda: outbox_of(client).counts()["zendesk"]["done"] == 1)
    # WHEN an agent moves it to the bug group (the update trigger, by a person)
    moved = dict(fakes["zendesk"].tickets["502"], group_id=GROUPS["bug"])
    moved["updated_at"] = "2026-12-02T12:00:00Z"
    answer = _post_zendesk(client, zendesk_trigger(moved, actor="777"))
    # THEN the correction is recorded as feedback for our prediction: the queue the group means
    assert answer.json()["outcome"] == "feedback", answer.text
    (feedback,) = _feedback(client)
    assert feedback["prediction_id"] == decision["prediction_id"]
    assert feedback["queue"] == "bug"
    assert feedback["agent"] == "zendesk:777"
    # AND our write-back is never feedback, nor is an unchanged update
    assert (
        _post_zendesk(client, zendesk_trigger(moved | {"updated_at": "x"}, actor="777")).json()[
            "outcome"
        ]
        == "unchanged"
    )
    assert len(_feedback(client)) == 1


def test_a_zendesk_update_without_the_group_is_checked_against_the_ticket(
    connected, fakes, wait_until
):
    # GIVEN Zendesk's own event payload (no trigger), and a ticket we triaged
    event = fixture("zendesk_event_ticket_created.json")
    ticket = zendesk_ticket(35436, event["detail"]["subject"], event["detail"]["description"])
    fakes["zendesk"].add(ticket)
    client = connected()
    body = json.dumps(event).encode()
    assert _post_zendesk(client, body).json()["outcome"] == "accepted"
    wait_until(lambda: outbox_of(client).counts()["zendesk"]["done"] == 1)
    # WHEN an agent changes the priority to urgent, and a trigger without the group says so
    fakes["zendesk"].tickets["35436"]["priority"] = "urgent"
    partial = {"ticket": {"id": "35436", "subject": ticket["subject"], "description": "x"},
               "current_user_id": "777"}  # fmt: skip
    answer = _post_zendesk(client, json.dumps(partial).encode())
    # THEN the worker reads the ticket itself and records the urgency the agent chose
    assert answer.json()["outcome"] == "check"
    wait_until(lambda: _feedback(client))
    (feedback,) = _feedback(client)
    assert feedback["urgency"] == "high"
    assert any(
        r.method == "GET" and r.path == "/api/v2/tickets/35436" for r in fakes["zendesk"].received
    )


def test_github_issues_get_labels_and_a_human_label_is_feedback(connected, fakes, wait_until):
    # GIVEN GitHub's documented "issues opened" payload for a repository we connect
    payload = fixture("github_issues_opened.json")
    fakes["github"].add(dict(payload["issue"]))
    client = connected()
    body = json.dumps(payload).encode()
    # WHEN it is delivered, form-encoded as GitHub does by default
    from urllib.parse import quote

    form = f"payload={quote(body.decode())}".encode()
    headers = github_headers(form) | {"content-type": "application/x-www-form-urlencoded"}
    answer = client.post("/v1/connectors/github", content=form, headers=headers)
    assert answer.status_code == 202, answer.text
    # THEN our labels are added, the issue's own "bug" label kept
    wait_until(lambda: fakes["github"].writes("1"))
    (write,) = fakes["github"].writes("1")
    assert write.path == f"/repos/{REPOSITORY}/issues/1/labels"
    added = write.body["labels"]
    assert any(label.startswith("triage: urgency ") for label in added)
    assert any(label.startswith("triage: queue ") for label in added)
    assert {"name": "bug"} in fakes["github"].tickets["1"]["labels"]
    # AND the "labeled" event our own write causes is ours
    labeled = fixture("github_issues_labeled.json")
    labeled["issue"]["labels"] = fakes["github"].tickets["1"]["labels"]
    labeled["sender"]["login"] = BOT_GITHUB
    echo = json.dumps(labeled).encode()
    mine = client.post(
        "/v1/connectors/github", content=echo, headers=github_headers(echo, delivery="d-2")
    )
    assert mine.json()["outcome"] == "own_update"
    # AND a person relabelling the topic is feedback
    topic = next(label for label in added if label.startswith("triage: topic "))
    labels = [label for label in fakes["github"].tickets["1"]["labels"] if label["name"] != topic]
    labeled["issue"]["labels"] = [*labels, {"name": "triage: topic feature_request"}]
    labeled["sender"]["login"] = "Codertocat"
    human = json.dumps(labeled).encode()
    answer = client.post(
        "/v1/connectors/github", content=human, headers=github_headers(human, delivery="d-3")
    )
    if topic == "triage: topic feature_request":
        assert answer.json()["outcome"] == "unchanged"
    else:
        assert answer.json()["outcome"] == "feedback", answer.text
        assert _feedback(client)[0]["topic"] == "feature_request"
    # AND a ping, or a pull request, is acknowledged and ignored
    ping = json.dumps(fixture("github_ping.json")).encode()
    pong = client.post(
        "/v1/connectors/github", content=ping, headers=github_headers(ping, "ping", "d-4")
    )
    assert (pong.status_code, pong.json()["outcome"]) == (200, "ignored")


def test_freshdesk_tickets_are_written_back_keeping_their_tags(connected, fakes, wait_until):
    ticket = fixture("freshdesk_ticket.json") | {"tags": ["vip"]}
    fakes["freshdesk"].add(ticket)
    client = connected()
    payload = fixture("freshdesk_webhook_simple.json")
    payload["freshdesk_webhook"]["ticket_tags"] = "vip"
    body = json.dumps(payload).encode()
    answer = client.post("/v1/connectors/freshdesk", content=body, headers=freshdesk_headers())
    assert answer.status_code == 202, answer.text
    wait_until(lambda: fakes["freshdesk"].writes("20"))
    (write,) = fakes["freshdesk"].writes("20")
    assert write.path == "/api/v2/tickets/20"
    assert write.body["priority"] in (1, 2, 4)
    assert write.body["group_id"] == GROUPS[answer.json()["queue"]]
    assert write.body["tags"][0] == "vip"
    assert any(tag.startswith("triage_topic_") for tag in write.body["tags"])


@pytest.mark.parametrize(
    ("desk", "headers", "reason"),
    [
        ("zendesk", {"content-type": "application/json"}, "unsigned"),
        (
            "zendesk",
            {
                "x-zendesk-webhook-signature": "AAAA",
                "x-zendesk-webhook-signature-timestamp": "2026-12-02T10:00:00Z",
            },
            "stale",
        ),
        (
            "github",
            {"x-github-event": "issues", "x-hub-signature-256": "sha256=00"},
            "bad signature",
        ),
        ("github", {"x-github-event": "issues"}, "unsigned"),
        ("freshdesk", {"authorization": "Basic Zm9vOmJhcg=="}, "wrong secret"),
        ("freshdesk", {}, "no secret"),
    ],
)
def test_unsigned_badly_signed_or_stale_webhooks_are_refused_without_logging_the_body(
    connected, desk, headers, reason, caplog
):
    client = connected()
    body = json.dumps({"ticket": {"id": "9", "subject": "secret-subject-text"}}).encode()
    with caplog.at_level(logging.INFO):
        answer = client.post(f"/v1/connectors/{desk}", content=body,
                             headers={"content-type": "application/json", **headers})  # fmt: skip
    assert answer.status_code == 401
    assert reason in answer.json()["detail"]
    assert "secret-subject-text" not in caplog.text
    assert outbox_of(client).counts() == {}


def test_a_replayed_zendesk_webhook_is_stale(connected, fakes):
    ticket = zendesk_ticket(503, "Crash", "The app crashes")
    client = connected()
    body = zendesk_trigger(ticket)
    old = datetime.now(UTC) - timedelta(minutes=6)
    answer = client.post(
        "/v1/connectors/zendesk", content=body, headers=zendesk_headers(body, at=old)
    )
    assert answer.status_code == 401
    assert "stale" in answer.json()["detail"]
    good = client.post("/v1/connectors/zendesk", content=body, headers=zendesk_headers(body))
    assert good.status_code == 202


def test_bad_payloads_and_unknown_desks_are_clear_errors(connected):
    client = connected()
    not_json = b"{not json"
    answer = _post_zendesk(client, not_json)
    assert answer.status_code == 422
    assert "not JSON" in answer.text
    no_id = json.dumps({"ticket": {"subject": "x"}}).encode()
    assert _post_zendesk(client, no_id).status_code == 422
    assert client.post("/v1/connectors/jira", json={}).status_code == 404
    other = fixture("github_issues_opened.json")
    other["repository"]["full_name"] = "someone/else"
    body = json.dumps(other).encode()
    refused = client.post("/v1/connectors/github", content=body, headers=github_headers(body))
    assert refused.status_code == 422
    assert "not configured" in refused.text


def test_the_schema_lists_the_connected_desks_only(connected, sample_model):
    """Clients and fuzzers read the schema: the webhook route names the desks connected here,
    and a service without help desks does not document it at all."""
    paths = connected().get("/openapi.json").json()["paths"]
    (operation,) = paths["/v1/connectors/{desk}"].values()
    (desk,) = [p for p in operation["parameters"] if p["name"] == "desk"]
    assert desk["schema"]["enum"] == ["zendesk", "freshdesk", "github"]
    assert {"202", "200", "401", "404", "413", "415", "422", "503"} <= set(operation["responses"])
    unconnected = create_app(Settings(model_dir=sample_model, database_url=None))
    with TestClient(unconnected) as client:
        assert "/v1/connectors/{desk}" not in client.get("/openapi.json").json()["paths"]
