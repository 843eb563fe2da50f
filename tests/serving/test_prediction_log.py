"""The API's prediction log, feedback and Prometheus metrics (issue 4)."""

from __future__ import annotations

import time

from sqlalchemy import create_engine

from ticket_triage.cli.common import EXAMPLES
from ticket_triage.production.audit import audit_draw
from ticket_triage.production.store import FeedbackRow, PredictionRow

TICKET = {
    "subject": "Refund please",
    "body": "I was charged twice. Card 4111 1111 1111 1111, write to jane.doe@example.com "
    "or call +49 30 1234567.",
    "metadata": {"plan": "pro"},
}


def _store(client):
    return client.app.state.service.loaded.recorder.store


def _recorder(client):
    return client.app.state.service.loaded.recorder


def test_every_decision_is_logged_with_redacted_text(make_client) -> None:
    client = make_client()
    decision = client.post("/v1/triage", json=TICKET).json()
    batch = client.post("/v1/triage/batch", json={"tickets": [TICKET, TICKET]}).json()
    _recorder(client).flush()
    rows = {row["id"]: row for row in _store(client).predictions()}
    assert set(rows) == {decision["id"], *(r["id"] for r in batch["results"])}
    row = rows[decision["id"]]
    assert row["urgency"] == decision["urgency"]["label"]
    assert row["topic_confidence"] == decision["topic"]["confidence"]
    assert row["probabilities"]["topic"] == decision["topic"]["probabilities"]
    assert (row["queue"], row["needs_review"]) == (decision["queue"], decision["needs_review"])
    assert row["metadata"] == {"plan": "pro"}
    assert 0 <= row["unseen_share"] <= 1
    assert row["latency_ms"] > 0
    assert row["model_version"] == decision["model_version"]
    assert "[CARD]" in row["body"]
    assert "[EMAIL]" in row["body"]
    assert "[PHONE]" in row["body"]
    assert "4111" not in row["body"]
    assert "jane.doe" not in row["body"]


def test_store_text_none_keeps_no_text(make_client) -> None:
    client = make_client(store_text="none")
    decision = client.post("/v1/triage", json=TICKET).json()
    _recorder(client).flush()
    (row,) = _store(client).predictions()
    assert row["id"] == decision["id"]
    assert (row["subject"], row["body"]) == (None, None)


def test_feedback_right_after_its_prediction_finds_it_in_the_buffer(make_client) -> None:
    # GIVEN a writer that batches for a long time, so the prediction is still buffered
    client = make_client()
    recorder = _recorder(client)
    recorder.interval = 30
    time.sleep(0.3)  # the writer's current wait (0.2 s) ends and the long one starts
    decision = client.post("/v1/triage", json=TICKET).json()
    assert recorder.is_pending(decision["id"])
    # WHEN feedback arrives at once
    response = client.post("/v1/feedback", json={"id": decision["id"], "topic": "billing"})
    # THEN it is stored, after the prediction it points at
    assert response.status_code == 201
    assert _store(client).count(FeedbackRow) == 1
    assert _store(client).has_prediction(decision["id"])


def test_feedback_while_the_database_is_down_is_503_with_retry_after(make_client) -> None:
    client = make_client()
    decision = client.post("/v1/triage", json=TICKET).json()
    _recorder(client).flush()
    store = _store(client)
    # the database goes away (a path SQLite cannot open stands in for a stopped server)
    original, store.engine = store.engine, create_engine("sqlite:////nonexistent/dir/triage.db")
    try:
        response = client.post("/v1/feedback", json={"id": decision["id"], "topic": "bug"})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert "retry later" in response.json()["detail"]
        assert client.post("/v1/triage", json=TICKET).status_code == 200  # triage goes on
    finally:
        store.engine.dispose()
        store.engine = original


def test_metrics_count_requests_classes_and_queues(make_client) -> None:
    client = make_client()
    decisions = [client.post("/v1/triage", json=TICKET).json() for _ in range(3)]
    client.post("/v1/triage", json={"body": ""})  # a 422 is counted too
    text = client.get("/metrics").text
    label = decisions[0]["urgency"]["label"]
    assert f'triage_predictions_total{{head="urgency",label="{label}"}}' in text
    assert f'triage_routed_total{{queue="{decisions[0]["queue"]}"}}' in text
    assert 'triage_http_requests_total{method="POST",route="/v1/triage",status="200"} 3.0' in text
    assert 'route="/v1/triage",status="422"} 1.0' in text
    assert 'triage_http_request_duration_seconds_bucket{le="0.005",route="/v1/triage"}' in text
    assert f'triage_model_info{{version="{decisions[0]["model_version"]}"}} 1.0' in text
    assert "triage_needs_review_total" in text
    assert "triage_store_up 1.0" in text
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")


def test_a_scan_of_random_paths_does_not_grow_the_metrics(make_client) -> None:
    client = make_client()
    for index in range(20):
        assert client.get(f"/random/{index}").status_code == 404
    text = client.get("/metrics").text
    assert "/random" not in text
    assert 'route="unmatched",status="404"} 20.0' in text


def test_records_accepted_before_shutdown_are_written(make_client) -> None:
    client = make_client()
    with client:  # runs the app's lifespan: shutdown drains the writer
        ids = [client.post("/v1/triage", json=TICKET).json()["id"] for _ in range(25)]
    store = _store(client)
    assert store.count(PredictionRow) == 25
    assert {row["id"] for row in store.predictions()} == set(ids)


def test_feedback_round_trip_on_sqlite_and_postgresql(make_client, database_url) -> None:
    client = make_client(database_url=database_url)
    decision = client.post("/v1/triage", json=TICKET).json()
    body = {"id": decision["id"], "urgency": "normal", "topic": "billing", "agent": "kim"}
    assert client.post("/v1/feedback", json=body).status_code == 201
    assert client.post("/v1/feedback", json=body).status_code == 200  # stored once
    assert client.post("/v1/feedback", json={**body, "id": "f" * 32}).status_code == 404
    store = _store(client)
    (row,) = store.feedback()
    assert (row["id"], row["final_topic"], row["agent"]) == (decision["id"], "billing", "kim")
    assert store.count(FeedbackRow) == 1
    store.close()


def test_audit_sample_is_in_the_response_and_the_log(make_client) -> None:
    # GIVEN a service auditing every automatically routed ticket, and one auditing none
    audited = make_client(audit_share=1.0)
    plain = make_client()
    tickets = {"tickets": [TICKET, *EXAMPLES] * 4}
    # WHEN a batch is triaged by each
    results = audited.post("/v1/triage/batch", json=tickets).json()["results"]
    untouched = plain.post("/v1/triage/batch", json=tickets).json()["results"]
    _recorder(audited).flush()
    _recorder(plain).flush()
    # THEN exactly the automatically routed tickets are flagged, in the response and the log,
    # each with the probability it had of entering the labelled sample
    assert 0 < sum(r["needs_review"] for r in results) < len(results)
    assert [r["needs_audit"] for r in results] == [not r["needs_review"] for r in results]
    rows = {row["id"]: row for row in _store(audited).predictions()}
    for result in results:
        row = rows[result["id"]]
        assert row["needs_audit"] is result["needs_audit"]
        assert row["audit_probability"] == 1.0
    # and with a share of one half the draw is the decision id's, reproducible from it
    half = make_client(audit_share=0.5)
    drawn = half.post("/v1/triage/batch", json={"tickets": [TICKET, *EXAMPLES] * 8}).json()[
        "results"
    ]
    _recorder(half).flush()
    logged = {row["id"]: row for row in _store(half).predictions()}
    for result in drawn:
        expected = audit_draw(result["id"], result["needs_review"], 0.5)
        assert result["needs_audit"] is expected.needs_audit
        assert logged[result["id"]]["audit_probability"] == (1.0 if result["needs_review"] else 0.5)
    auto = [r for r in drawn if not r["needs_review"]]
    assert 0 < sum(r["needs_audit"] for r in auto) < len(auto)
    # and without TRIAGE_AUDIT_SHARE nothing is flagged and no probability is claimed
    assert not any(r["needs_audit"] for r in untouched)
    assert {row["audit_probability"] for row in _store(plain).predictions()} == {None}
    assert {row["needs_audit"] for row in _store(plain).predictions()} == {False}


def test_compare_page_shows_the_verdict(make_client) -> None:
    # GIVEN served decisions, each shadowed by a candidate that always predicts "bug"
    client = make_client()
    served = client.post("/v1/triage/batch", json={"tickets": [TICKET] * 3}).json()["results"]
    _recorder(client).flush()
    store = _store(client)
    rows = {row["id"]: row for row in store.predictions()}
    shadows = [
        {
            **rows[r["id"]],
            "id": r["id"][:-4] + "beef",
            "model_version": "cand",
            "topic": "bug",
            "role": "shadow",
            "served_id": r["id"],
        }
        for r in served
    ]
    store.add_predictions(shadows)
    client.post("/v1/feedback", json={"id": served[0]["id"], "topic": "billing"})
    live = served[0]["model_version"]
    # WHEN the comparison page is asked for
    page = client.get("/dashboard/compare", params={"live": live, "candidate": "cand"})
    # THEN it answers with the pairs and refuses to recommend on one ticket of feedback
    assert page.status_code == 200
    assert "3 tickets decided by both" in page.text
    assert "insufficient" in page.text
    assert "1 paired tickets have feedback, fewer than the 50" in page.text
    # and a bad request is a message, not a traceback
    same = client.get("/dashboard/compare", params={"live": live, "candidate": live})
    assert same.status_code == 200
    assert "are both" in same.text
    assert client.get("/dashboard/compare", params={"live": live}).status_code == 422
