"""Nothing lost, nothing twice: the outbox worker against a help desk that is down, rate limits,
refuses for good, or whose worker dies mid-send."""

from __future__ import annotations

import itertools
import time

from helpers import GROUPS, outbox_of, zendesk_headers, zendesk_ticket, zendesk_trigger
from sqlalchemy import select
from typer.testing import CliRunner

from ticket_triage.cli import app
from ticket_triage.connectors.http import Backoff
from ticket_triage.production.outbox import Outbox
from ticket_triage.production.store import FeedbackRow


def _send(client, fakes, ticket_id: int, text: str = "Card declined, error 402") -> None:
    ticket = zendesk_ticket(ticket_id, f"Ticket {ticket_id}", text)
    fakes["zendesk"].add(ticket)
    body = zendesk_trigger(ticket)
    answer = client.post("/v1/connectors/zendesk", content=body, headers=zendesk_headers(body))
    assert answer.status_code == 202, answer.text


def test_a_desk_down_for_a_minute_gets_every_update_exactly_once(connected, fakes, wait_until):
    # GIVEN Zendesk refusing connections for a minute
    fakes["zendesk"].down_for(60, refuse=True)
    client = connected(connectors_retry_base=1.0, connectors_retry_cap=4.0)
    started = time.time()
    # WHEN 30 tickets are created meanwhile
    for n in range(30):
        _send(client, fakes, 600 + n)
    # THEN none is lost while it is down, and each arrives exactly once when it is back
    assert outbox_of(client).counts()["zendesk"]["done"] == 0
    wait_until(lambda: outbox_of(client).counts()["zendesk"]["done"] == 30, timeout=120)
    assert time.time() - started >= 60
    for n in range(30):
        assert len(fakes["zendesk"].writes(str(600 + n))) == 1
    assert outbox_of(client).counts()["zendesk"]["dead"] == 0


def test_a_503_storm_is_retried_with_backoff_then_delivered_once(connected, fakes, wait_until):
    fakes["zendesk"].fail(503, 503, 502, 500)
    client = connected()
    _send(client, fakes, 700)
    wait_until(lambda: fakes["zendesk"].writes("700"))
    attempts = [r for r in fakes["zendesk"].received if r.path == "/api/v2/tickets/700"]
    # each retry reads the ticket first (has a person triaged it meanwhile?), then writes once
    assert [(r.method, r.status) for r in attempts] == [
        ("PUT", 503), ("GET", 503), ("GET", 502), ("GET", 500), ("GET", 200), ("PUT", 200),
    ]  # fmt: skip
    assert len(fakes["zendesk"].writes("700")) == 1


def test_rate_limits_are_waited_out_and_never_dead_letter(connected, fakes, wait_until):
    # GIVEN Zendesk answering 429 with Retry-After: 1 to the next 15 calls, for longer than a
    # failing write-back is retried before it is dead
    fakes["zendesk"].rate_limit(15, retry_after=1)
    client = connected(connectors_max_age=5.0)
    _send(client, fakes, 710)
    # THEN the write-back waits at least Retry-After between tries and is delivered
    wait_until(lambda: fakes["zendesk"].writes("710"), timeout=60)
    tries = [r.at for r in fakes["zendesk"].received if r.path == "/api/v2/tickets/710"]
    assert len(tries) == 16
    assert min(b - a for a, b in itertools.pairwise(tries)) >= 0.9
    assert outbox_of(client).counts()["zendesk"]["dead"] == 0


def test_a_permanent_refusal_is_dead_visible_and_can_be_retried(
    connected, fakes, wait_until, tmp_path
):
    # GIVEN a ticket Zendesk does not know (deleted before we wrote back: 404)
    client = connected()
    ticket = zendesk_ticket(720, "Where is my invoice", "Need the invoice")
    body = zendesk_trigger(ticket)
    client.post("/v1/connectors/zendesk", content=body, headers=zendesk_headers(body))
    outbox = outbox_of(client)
    # THEN the write-back is dead at once, with Zendesk's own reason
    wait_until(lambda: outbox.counts()["zendesk"]["dead"] == 1)
    (dead,) = outbox.rows(status="dead")
    assert "HTTP 404" in dead["last_error"]
    assert "RecordNotFound" in dead["last_error"]
    # AND `triage connectors status` shows it, and /metrics and the dashboard count it
    url = str(outbox.store.engine.url)
    shown = CliRunner().invoke(app, ["connectors", "status", "--db", url])
    assert shown.exit_code == 0, shown.output
    assert "720" in shown.output
    assert "RecordNotFound" in shown.output
    metrics = client.get("/metrics").text
    assert 'triage_outbox{desk="zendesk",state="dead"} 1.0' in metrics
    assert 'triage_webhooks_total{desk="zendesk",outcome="accepted"} 1.0' in metrics
    assert "Dead letters" in client.get("/dashboard").text
    # AND once the ticket exists again, `triage connectors retry` sends it
    fakes["zendesk"].add(ticket)
    retried = CliRunner().invoke(app, ["connectors", "retry", "--db", url])
    assert retried.exit_code == 0, retried.output
    assert "1 write-backs will be sent again" in retried.output
    client.app.state.service.loaded.connectors.worker.wake()
    wait_until(lambda: outbox.counts()["zendesk"]["done"] == 1)
    assert len(fakes["zendesk"].writes("720")) == 1


def test_a_worker_that_dies_mid_send_leaves_a_lease_that_expires(connected, fakes, wait_until):
    # GIVEN a write-back claimed by a worker that then died (its lease is 0.5 s)
    client = connected(connectors_worker=False)
    _send(client, fakes, 730)
    outbox: Outbox = outbox_of(client)
    (claimed,) = outbox.claim(lease_seconds=0.5)
    assert outbox.claim() == []  # leased: nobody else takes it meanwhile
    # WHEN another worker looks after the lease expired
    time.sleep(0.6)
    worker = client.app.state.service.loaded.connectors.worker
    assert worker.run_once() == 1
    # THEN it sends it, once
    assert outbox.counts()["zendesk"]["done"] == 1
    assert len(fakes["zendesk"].writes("730")) == 1
    assert claimed.id == outbox.rows(status="done")[0]["id"]


def test_backoff_is_exponential_with_full_jitter() -> None:
    import random

    policy = Backoff(base=2.0, cap=60.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (6, 60.0), (20, 60.0)]:
        draws = [policy.delay(attempt, rng) for _ in range(500)]
        assert 0.0 <= min(draws) < ceiling * 0.1
        assert ceiling * 0.9 < max(draws) <= ceiling


def test_a_webhook_while_the_database_is_down_is_refused_then_accepted_once(
    connected, fakes, stoppable_postgres, wait_until
):
    # GIVEN the service's outbox in a real PostgreSQL server, which then stops
    client = connected(database_url=stoppable_postgres.url)
    ticket = zendesk_ticket(800, "Payment failed!!!", "Card declined twice, error 402")
    fakes["zendesk"].add(ticket)
    body = zendesk_trigger(ticket)
    try:
        stoppable_postgres.stop()
        # WHEN Zendesk delivers the ticket's webhook
        refused = client.post("/v1/connectors/zendesk", content=body, headers=zendesk_headers(body))
        # THEN nothing is accepted, and Zendesk is told to deliver again
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "5"
        assert not fakes["zendesk"].writes("800")
    finally:
        stoppable_postgres.start()
    # AND its redelivery once the database is back is accepted and written back exactly once
    wait_until(
        lambda: (
            client.post(
                "/v1/connectors/zendesk", content=body, headers=zendesk_headers(body)
            ).status_code
            in (200, 202)
        )
    )
    wait_until(lambda: fakes["zendesk"].writes("800"))
    again = client.post("/v1/connectors/zendesk", content=body, headers=zendesk_headers(body))
    assert again.json()["outcome"] == "duplicate"
    time.sleep(1)
    assert len(fakes["zendesk"].writes("800")) == 1
    assert outbox_of(client).counts()["zendesk"]["done"] == 1


def test_a_late_write_back_never_overwrites_a_person_s_triage(connected, fakes, wait_until):
    # GIVEN a ticket accepted while Zendesk's API is down
    fakes["zendesk"].down_for(3)
    client = connected(connectors_retry_base=1.0, connectors_retry_cap=1.0)
    ticket = zendesk_ticket(820, "Payment failed!!!", "Card declined twice, error 402")
    fakes["zendesk"].add(ticket)
    body = zendesk_trigger(ticket)
    answer = client.post("/v1/connectors/zendesk", content=body, headers=zendesk_headers(body))
    assert answer.status_code == 202, answer.text
    ours = answer.json()["queue"]
    # WHEN an agent routes it by hand meanwhile, to another group, before the API is back
    theirs = next(queue for queue in GROUPS if queue != ours)
    fakes["zendesk"].tickets["820"]["group_id"] = GROUPS[theirs]
    # THEN the retried write-back reads the ticket first and gives way: nothing is written
    outbox = outbox_of(client)
    wait_until(lambda: outbox.counts()["zendesk"]["superseded"] == 1)
    assert fakes["zendesk"].writes("820") == []
    assert fakes["zendesk"].tickets["820"]["group_id"] == GROUPS[theirs]
    # AND the agent's choice is feedback for our decision
    with outbox.store.engine.connect() as connection:
        (feedback,) = connection.execute(select(FeedbackRow.__table__)).mappings().all()
    assert feedback["queue"] == theirs
    assert feedback["prediction_id"] == answer.json()["prediction_id"]
