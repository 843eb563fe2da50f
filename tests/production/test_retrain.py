"""Retraining from agents' feedback (issue 12): which rows a candidate learns from, and
``triage retrain`` end to end on a real SQLite log and a folder registry.

The log is filled the way the service fills it: the session's sample model decides real sample
tickets, :func:`prediction_row` redacts their text, and feedback goes through the store.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ticket_triage.core.pipeline import Pipeline
from ticket_triage.production.feedback_examples import feedback_examples, ticket_key
from ticket_triage.production.records import prediction_row
from ticket_triage.production.store import FeedbackRecord, Store
from ticket_triage.registry import Registry
from ticket_triage.sample import SAMPLE_TICKETS
from ticket_triage.training.retrain import Holdout, build

TRIAGE = Path(sys.executable).parent / "triage"
NOW = datetime.now(UTC)
METADATA = ["product", "plan"]


def tickets_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {"subject": r.subject, "body": r.body, "metadata": {"product": r.product, "plan": r.plan}}
        for r in frame.itertuples()
    ]


def log(
    store: Store, pipeline: Pipeline, tickets: list[dict[str, Any]], *, store_text: bool = True
) -> list[dict[str, Any]]:
    """Decide ``tickets`` with the model and log the decisions, as the service does."""
    rows = [
        prediction_row(ticket, decision, 1.0, store_text=store_text)
        for ticket, decision in zip(tickets, pipeline.triage(tickets), strict=True)
    ]
    store.add_predictions(rows)
    return rows


def feedback(store: Store, row: dict[str, Any], at: datetime, **labels: str) -> None:
    record = FeedbackRecord(
        row["id"], labels.get("urgency"), labels.get("topic"), labels.get("queue"), "agent", at
    )
    assert store.add_feedback(record)


def other(label: str, classes: tuple[str, ...]) -> str:
    return next(candidate for candidate in classes if candidate != label)


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return pd.read_csv(str(SAMPLE_TICKETS), dtype=str, keep_default_na=False)


def test_only_feedback_enters_and_corrections_replace_older_labels(
    sample_model: Path, sample: pd.DataFrame, database_url: str
) -> None:
    # GIVEN base data of 50 tickets, the first with an e-mail address in it (the log redacts it),
    # and a prediction log in SQLite or PostgreSQL
    base = sample.iloc[:50].copy()
    base.loc[0, "body"] = base.loc[0, "body"] + " Write to jo.smith@example.org"
    store = Store.open(database_url)
    pipeline = Pipeline.load(sample_model)
    topics = pipeline.model.head_classes["topic"]
    # and a log of those base tickets again plus 6 new ones, decided by the model
    new = sample.iloc[1000:1006]
    rows = log(store, pipeline, tickets_of(base.iloc[:3]) + tickets_of(new))
    in_base, in_base_2, held_in_base, *fresh = rows
    week = NOW - timedelta(days=7)
    # a correction of a base ticket's topic only (its urgency stays the file's)
    corrected_topic = other(in_base["topic"], topics)
    feedback(store, in_base, week, topic=corrected_topic)
    # a confirmation, then a correction of the same decision: the later one wins
    feedback(store, in_base_2, week, topic=in_base_2["topic"])
    later_topic = other(in_base_2["topic"], topics)
    feedback(store, in_base_2, week + timedelta(hours=1), topic=later_topic, urgency="low")
    # a confirmation of a new ticket: the model's own label, confirmed by an agent
    confirmed = fresh[0]
    feedback(store, confirmed, week, topic=confirmed["topic"], urgency=confirmed["urgency"])
    # a queue-only correction (no label), and no feedback at all on fresh[2] and fresh[3]
    feedback(store, fresh[1], week, queue="billing")
    # feedback on a ticket whose text was not stored
    (hidden,) = log(store, pipeline, tickets_of(sample.iloc[1010:1011]), store_text=False)
    feedback(store, hidden, week, topic="billing")
    # and the newest feedback (the held-out slice): a base ticket and a new one
    feedback(store, held_in_base, NOW, topic=other(held_in_base["topic"], topics))
    feedback(store, fresh[4], NOW, topic=other(fresh[4]["topic"], topics))

    # WHEN the candidate's rows are built, holding out the last day of feedback
    found = feedback_examples(store)
    store.close()
    built = build(base, found.examples, ticket_key, Holdout(days=1), ("urgency", "topic"), METADATA)
    frame = built.frame
    keys = [ticket_key(s, b) for s, b in zip(frame.subject, frame.body, strict=True)]

    # THEN the corrected base ticket appears once, with the agent's topic and the file's urgency
    first = [i for i, key in enumerate(keys) if key == ticket_key(base.subject[0], base.body[0])]
    assert len(first) == 1
    assert frame.topic[first[0]] == corrected_topic
    assert frame.urgency[first[0]] == base.urgency[0]
    assert "[EMAIL]" in frame.body[first[0]]
    assert not frame.body.str.contains("jo.smith").any()
    # the ticket corrected twice carries the later feedback
    second = keys.index(ticket_key(base.subject[1], base.body[1]))
    assert (frame.topic[second], frame.urgency[second]) == (later_topic, "low")
    # the confirmation adds the confirmed label of a ticket the file did not have
    added = keys.index(ticket_key(new.subject.iloc[0], new.body.iloc[0]))
    assert frame.topic[added] == confirmed["topic"]
    assert frame.urgency[added] == confirmed["urgency"]
    assert frame["product"][added] == new["product"].iloc[0]
    # the model's unconfirmed decisions and the queue-only feedback never enter
    for index in (1, 2, 3):
        assert ticket_key(new.subject.iloc[index], new.body.iloc[index]) not in keys
    # the held-out tickets are out of training, the base row of the held-out one too
    for subject, body in ((base.subject[2], base.body[2]), (new.subject.iloc[4], new.body.iloc[4])):
        assert ticket_key(subject, body) not in keys
    assert len(built.held_out.tickets) == 2
    assert built.held_out.labels["urgency"] == ["", ""]  # the agents gave topics only
    # and the counts say all of it
    assert (found.no_text, found.no_label) == (1, 1)
    lineage = built.lineage
    assert (lineage.base_rows, lineage.base_replaced, lineage.base_held_out) == (50, 2, 1)
    assert (lineage.corrections, lineage.confirmations, lineage.held_out) == (2, 1, 2)
    assert len(frame) == lineage.training_rows == 50 - 2 - 1 + 3


def test_a_correction_changes_the_candidates_rows_a_confirmation_keeps_the_decision(
    sample_model: Path, sample: pd.DataFrame, tmp_path: Path
) -> None:
    # GIVEN three base tickets logged in two stores: in one an agent confirms the model's
    # topic for the first, in the other corrects it; the third is the held-out feedback
    base = sample.iloc[:3].copy()
    pipeline = Pipeline.load(sample_model)
    topics = pipeline.model.head_classes["topic"]
    frames, decided = {}, ""
    for case in ("confirms", "corrects"):
        store = Store.open(f"sqlite:///{tmp_path / f'{case}.db'}")
        first, _, held = log(store, pipeline, tickets_of(base))
        decided = first["topic"]
        label = decided if case == "confirms" else other(decided, topics)
        feedback(store, first, NOW - timedelta(days=3), topic=label)
        feedback(store, held, NOW, topic=base.topic[2])
        found = feedback_examples(store)
        assert found.examples[0].kind == case.replace("confirms", "confirmation").replace(
            "corrects", "correction"
        )
        built = build(base, found.examples, ticket_key, Holdout(share=0.5), ("topic",), METADATA)
        frames[case] = dict(zip(built.frame.subject, built.frame.topic, strict=True))
    # THEN the confirmation trains on the confirmed decision, the correction on the agent's
    # label; the ticket without feedback keeps the file's label in both
    first, second = base.subject[0], base.subject[1]
    assert frames["confirms"] == {first: decided, second: base.topic[1]}
    assert frames["corrects"] == {first: other(decided, topics), second: base.topic[1]}


def test_no_feedback_is_no_candidate(sample_model: Path, sample: pd.DataFrame, tmp_path) -> None:
    from ticket_triage.core.errors import DataError

    store = Store.open(f"sqlite:///{tmp_path / 'triage.db'}")
    log(store, Pipeline.load(sample_model), tickets_of(sample.iloc[:5]))
    examples = feedback_examples(store).examples
    with pytest.raises(DataError, match="no agent feedback"):
        build(sample.iloc[:5], examples, ticket_key, Holdout(), ("topic",), METADATA)


def test_triage_retrain_registers_a_candidate_of_the_live_version(
    sample_model: Path, sample: pd.DataFrame, tmp_path: Path, database_url: str
) -> None:
    # GIVEN the sample model live in a registry, and a log (SQLite or PostgreSQL) of 150 decided
    # tickets of which agents corrected or confirmed 100 (the base data is the model's own
    # training file)
    registry = Registry.open(tmp_path / "registry")
    registry.add(sample_model, by="test")
    registry.promote("v0001", by="test")
    store = Store.open(database_url)
    logged = sample.iloc[2000:2150]
    rows = log(store, Pipeline.load(sample_model), tickets_of(logged))
    for index, (row, truth) in enumerate(zip(rows[:100], logged.itertuples(), strict=False)):
        feedback(store, row, NOW - timedelta(hours=100 - index), topic=truth.topic)
    store.close()
    # WHEN it is retrained, holding out a quarter of the feedback
    report, base = tmp_path / "retrain.json", sample_model.parent / "tickets.csv"
    result = subprocess.run(
        [str(TRIAGE), "retrain", "--db", database_url, "--base-data", str(base),
         "--registry", str(registry.location), "--holdout-share", "0.25", "--json", str(report),
         "--quiet"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    # THEN a retrain entry is registered with the live version as its parent, not promoted
    assert result.returncode == 0, result.stderr
    entry = registry.entry("v0002")
    assert (entry.made_by, entry.parent) == ("retrain", "v0001")
    assert registry.pointers().live == "v0001"
    # and its note and the report give the lineage, the candidate trained on exactly those rows
    document = json.loads(report.read_text())
    lineage = document["lineage"]
    assert lineage["base_rows"] == 1200
    assert lineage["corrections"] + lineage["confirmations"] == 75
    assert lineage["held_out"] == 25
    assert f"{lineage['corrections']} from corrections" in entry.note
    assert "25 feedback tickets held out" in entry.note
    candidate = json.loads((registry.fetch("v0002", tmp_path / "cache") / "model.json").read_text())
    assert lineage["training_rows"] == 1200 - lineage["base_replaced"] + 75
    assert candidate["training"]["n_rows"] == lineage["training_rows"]
    # and both models were measured on the 25 held-out tickets' topics
    topic = document["comparison"]["heads"]["topic"]
    assert topic["n"] == 25
    assert 0.0 <= topic["live"]["macro_f1"] <= 1.0
    assert "v0002 registered" in result.stdout


def test_retrain_refusals_are_one_line(sample_model: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    base = str(sample_model.parent / "tickets.csv")
    registry = tmp_path / "registry"
    cases = {
        "no live version": ["--registry", str(registry)],
        "not both": ["--registry", str(registry), "--holdout-days", "7", "--holdout-share", "0.2"],
    }
    for words, extra in cases.items():
        result = subprocess.run(
            [str(TRIAGE), "retrain", "--db", url, "--base-data", base, *extra],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 1, result.stderr
        assert words in result.stderr
        assert "Traceback" not in result.stderr
