"""The one data path: Pipeline.triage (requests) and Pipeline.columns (files) give the same
decisions, featurise each ticket once, and say which ticket is at fault."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ticket_triage.core.errors import InvalidTicket
from ticket_triage.core.pipeline import Pipeline
from ticket_triage.sample import SAMPLE_TICKETS
from ticket_triage.training.data import read_tickets


@pytest.fixture(scope="module")
def pipeline(sample_model: Path) -> Pipeline:
    return Pipeline.load(sample_model)


@pytest.fixture(scope="module")
def tickets(pipeline: Pipeline) -> list[dict]:
    # tickets the model did not train on (it saw the first 1,200)
    return read_tickets(SAMPLE_TICKETS, list(pipeline.model.meta["metadata"])).tickets[2000:2300]


def test_requests_and_files_get_the_same_decisions_and_queues(pipeline, tickets) -> None:
    # WHEN the same tickets go through the request path and the file path
    decisions = pipeline.triage(tickets)
    columns = pipeline.columns(tickets)
    # THEN every head's label, confidence and review flag, and every queue, agree
    for name in pipeline.model.head_names:
        assert columns[f"{name}_label"] == [d.heads[name].label for d in decisions]
        assert columns[f"{name}_needs_review"] == [d.heads[name].needs_review for d in decisions]
        np.testing.assert_allclose(
            columns[f"{name}_confidence"], [d.heads[name].confidence for d in decisions], atol=1e-6
        )
    assert columns["needs_review"] == [d.needs_review for d in decisions]
    assert columns["queue"] == [d.queue for d in decisions]
    assert columns["queue_rule"] == [d.route.rule for d in decisions]
    assert len(set(columns["queue"])) > 2  # not vacuous: several queues


def test_one_ticket_at_a_time_decides_as_the_batch_does(pipeline, tickets) -> None:
    batch = pipeline.triage(tickets[:50])
    single = [pipeline.triage([ticket])[0] for ticket in tickets[:50]]  # the compiled path
    for one, many in zip(single, batch, strict=True):
        assert one.result.labels == many.result.labels
        assert one.queue == many.queue
        for name, head in one.heads.items():
            assert head.probabilities == pytest.approx(many.heads[name].probabilities, abs=1e-9)


def test_the_unseen_share_comes_from_the_scoring_pass(pipeline, tickets) -> None:
    # GIVEN tickets with words training never saw, scored alone and as a batch
    odd = [{**t, "body": t["body"] + " zorblax quuxification"} for t in tickets[:20]]
    texts = pipeline.model.texts_of(odd)
    expected = pipeline.model.unseen_share(texts)  # featurised separately, for comparison
    single = [pipeline.triage([ticket])[0].result.unseen_share for ticket in odd]
    batch = [decision.result.unseen_share for decision in pipeline.triage(odd)]
    explained = [d.result.unseen_share for d in pipeline.triage(odd, explain=3)]
    # THEN the share each scoring path returns is the one a separate pass measures
    for shares in (single, batch, explained):
        assert shares == pytest.approx(expected, abs=1e-12)
    assert min(expected) > 0


def test_an_explained_decision_is_the_decision(pipeline, tickets) -> None:
    # WHEN tickets are triaged with and without explanations
    plain = pipeline.triage(tickets[:40])
    explained = pipeline.triage(tickets[:40], explain=5)
    # THEN the explanation changes nothing about the decision, and explains that decision
    for one, why in zip(plain, explained, strict=True):
        assert why.result.labels == one.result.labels
        assert why.queue == one.queue
        assert why.explanation is not None
        assert one.explanation is None
        for name, explanation in why.explanation.items():
            assert explanation.label == why.heads[name].label
            assert len(explanation.contributions) <= 5


def test_a_bad_ticket_is_named_by_its_position(pipeline, tickets) -> None:
    batch = [tickets[0], {"subject": "", "body": "   "}, tickets[1]]
    with pytest.raises(InvalidTicket, match=r"^ticket 1: ticket has no text") as caught:
        pipeline.triage(batch)
    assert (caught.value.position, caught.value.reason) == (
        1,
        "ticket has no text: subject and body are both empty",
    )
    # a file's batch names the row in the file
    with pytest.raises(InvalidTicket, match=r"^ticket 101: body must be a string"):
        pipeline.columns([tickets[0], {"subject": "x", "body": 3}], offset=100)
