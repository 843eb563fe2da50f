"""Monitoring reports from a real prediction store (SQLite, and PostgreSQL on ``database_url``):
scores on feedback checked by hand, time buckets, queue shares, PSI on known mixes, every alert
raised and not raised, the empty and feedback-less windows, a one-head model, and the HTML."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ticket_triage.production.monitoring import build_report, psi, report_html, write_report
from ticket_triage.production.records import new_id
from ticket_triage.production.store import FeedbackRecord, Store
from ticket_triage.sample import SAMPLE_TICKETS
from ticket_triage.training.config import TrainConfig
from ticket_triage.training.evaluate import expected_calibration_error, per_class_scores
from ticket_triage.training.train import train

START = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday: ISO week 2025-W10
WEEK = timedelta(days=7)
URGENCY = ("high", "low", "normal")
TOPIC = ("account", "billing", "bug", "feature_request")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 't.db'}")
    yield opened
    opened.close()


def _proba(classes: tuple[str, ...], label: str, confidence: float) -> dict[str, float]:
    rest = (1.0 - confidence) / (len(classes) - 1)
    return {c: confidence if c == label else rest for c in classes}


def prediction(
    at: datetime,
    urgency: str | None = "normal",
    topic: str = "bug",
    *,
    queue: str | None = None,
    needs_review: bool = False,
    unseen: float = 0.05,
    confidence: float = 0.8,
    version: str = "v-test",
) -> dict[str, Any]:
    """A prediction row as the service records it (probabilities consistent with the labels)."""
    probabilities = {"topic": _proba(TOPIC, topic, confidence)}
    if urgency is not None:
        probabilities["urgency"] = _proba(URGENCY, urgency, confidence)
    return {
        "id": new_id(),
        "created_at": at,
        "model_version": version,
        "urgency": urgency,
        "urgency_confidence": confidence if urgency else None,
        "topic": topic,
        "topic_confidence": confidence,
        "probabilities": probabilities,
        "queue": queue or ("priority" if urgency == "high" else topic),
        "queue_rule": "test",
        "needs_review": needs_review,
        "latency_ms": 0.1,
        "unseen_share": unseen,
        "metadata": {},
        "subject": None,
        "body": None,
    }


def give_feedback(
    store: Store, row: dict[str, Any], urgency: str | None = None, topic: str | None = None
) -> None:
    store.add_feedback(
        FeedbackRecord(row["id"], urgency, topic, None, "agent-1", row["created_at"] + WEEK / 7)
    )


def spread(n: int, start: datetime, span: timedelta = WEEK) -> list[datetime]:
    """``n`` times evenly spread over ``[start, start + span)``."""
    return [start + span * (i / n) for i in range(n)]


def mix(counts: dict[str, int], start: datetime, **kwargs: Any) -> list[dict[str, Any]]:
    """Rows predicting each urgency class ``counts[c]`` times, spread over a week."""
    labels = [label for label, n in counts.items() for _ in range(n)]
    return [
        prediction(at, label, **kwargs)
        for at, label in zip(spread(len(labels), start), labels, strict=True)
    ]


def test_scores_on_feedback_match_a_hand_count(store: Store, sample_model: Path) -> None:
    # GIVEN feedback over two ISO weeks: (predicted, agent's) urgency per ticket
    week1 = [("high", "high"), ("high", "normal"), ("normal", "normal")]
    week2 = [("low", "normal"), ("normal", "low"), ("high", "high")]
    rows = []
    for week, pairs in enumerate((week1, week2)):
        for i, (predicted, final) in enumerate(pairs):
            row = prediction(START + week * WEEK + timedelta(hours=i), predicted)
            rows.append((row, final))
    topic_only = prediction(START + timedelta(days=1), "high", "billing")  # no urgency label
    no_feedback = prediction(START + timedelta(days=2), "high")
    store.add_predictions([row for row, _ in rows] + [topic_only, no_feedback])
    for row, final in rows:
        give_feedback(store, row, urgency=final)
    give_feedback(store, topic_only, topic="account")

    # WHEN the two weeks are reported
    report = build_report(store, sample_model, since=START, until=START + 2 * WEEK)

    # THEN only tickets with an urgency label count for urgency, and the scores are the hand count
    scores = report["heads"]["urgency"]["feedback"]
    assert report["n_predictions"] == 8
    assert report["n_feedback"] == 7
    assert scores["n"] == 6
    high, normal, low = (scores["per_class"][c] for c in ("high", "normal", "low"))
    assert high == {
        "precision": round(2 / 3, 6),
        "recall": 1.0,
        "f1": 0.8,
        "support": 2,
        "n_predicted": 3,
    }
    assert normal == {
        "precision": 0.5,
        "recall": round(1 / 3, 6),
        "f1": 0.4,
        "support": 3,
        "n_predicted": 2,
    }
    assert (low["precision"], low["recall"], low["f1"]) == (0.0, 0.0, 0.0)
    assert scores["accuracy"] == 0.5
    assert scores["macro_f1"] == pytest.approx(0.4)
    assert scores["confusion"]["labels"] == ["high", "low", "normal"]
    assert scores["confusion"]["counts"] == [[2, 0, 0], [0, 0, 1], [1, 1, 1]]
    # ... and per ISO week; a class with no ticket in a week is undefined, not 0
    weekly = {week["week"]: week for week in scores["weekly"]}
    assert list(weekly) == ["2025-W10", "2025-W11"]
    assert weekly["2025-W10"]["n"] == 3
    assert weekly["2025-W10"]["per_class"]["high"]["precision"] == 0.5
    assert weekly["2025-W10"]["per_class"]["normal"]["recall"] == 0.5
    assert weekly["2025-W10"]["per_class"]["low"]["precision"] is None
    assert weekly["2025-W10"]["per_class"]["low"]["recall"] is None
    assert weekly["2025-W11"]["per_class"]["high"]["precision"] == 1.0
    assert weekly["2025-W11"]["per_class"]["normal"]["precision"] == 0.0
    # ... agreeing with evaluate's per-class scores where those are defined
    index = {c: k for k, c in enumerate(URGENCY)}
    truth = np.array([index[final] for _, final in rows])
    predicted = np.array([index[row["urgency"]] for row, _ in rows])
    precision, recall, _, support = per_class_scores(truth, predicted, 3)
    for label, k in index.items():
        assert scores["per_class"][label]["precision"] == pytest.approx(precision[k], abs=1e-6)
        assert scores["per_class"][label]["recall"] == pytest.approx(recall[k], abs=1e-6)
        assert scores["per_class"][label]["support"] == support[k]
    # ... and the same ECE as evaluate, on the stored probabilities
    proba = np.array([[row["probabilities"]["urgency"][c] for c in URGENCY] for row, _ in rows])
    assert scores["calibration"]["ece"] == expected_calibration_error(proba, truth)
    assert sum(b["count"] for b in scores["calibration"]["bins"]) == 6
    # the topic-only feedback counts for topic alone
    assert report["heads"]["topic"]["feedback"]["n"] == 1
    assert report["heads"]["topic"]["feedback"]["per_class"]["billing"]["n_predicted"] == 1


def test_queue_shares_and_review_rate_per_week_and_per_day(
    store: Store, sample_model: Path
) -> None:
    # GIVEN four weeks: week 2 silent, week 3 half in review
    plan = {
        0: [("priority", False)] * 3 + [("bug", False)],
        2: [("review", True)] * 2 + [("bug", False)] * 2,
        3: [("bug", False)] * 4,
    }
    rows = []
    for week, tickets in plan.items():
        for at, (queue, review) in zip(
            spread(len(tickets), START + week * WEEK), tickets, strict=True
        ):
            rows.append(prediction(at, queue=queue, needs_review=review))
    store.add_predictions(rows)

    # WHEN the four weeks are reported (longer than two weeks: weekly buckets)
    report = build_report(store, sample_model, since=START, until=START + 4 * WEEK)

    # THEN every prediction counts (no feedback needed), bucketed by ISO week
    traffic = report["traffic"]
    assert report["window"]["bucket"] == "week"
    assert traffic["queues"] == {
        "bug": round(7 / 12, 6),
        "priority": 0.25,
        "review": round(2 / 12, 6),
    }
    assert traffic["review_rate"] == round(2 / 12, 6)
    buckets = [(b["bucket"], b["n"], b["review_rate"]) for b in traffic["buckets"]]
    assert buckets == [
        ("2025-W10", 4, 0.0),
        ("2025-W11", 0, None),
        ("2025-W12", 4, 0.5),
        ("2025-W13", 4, 0.0),
    ]
    assert traffic["buckets"][0]["queues"] == {"priority": 0.75, "bug": 0.25}
    assert traffic["buckets"][1]["queues"] == {}

    # WHEN a three-day window is reported: daily buckets, days outside it left out
    short = build_report(store, sample_model, since=START, until=START + timedelta(days=3))
    assert short["window"]["bucket"] == "day"
    assert [b["bucket"] for b in short["traffic"]["buckets"]] == [
        "2025-03-03",
        "2025-03-04",
        "2025-03-05",
    ]
    assert sum(b["n"] for b in short["traffic"]["buckets"]) == short["n_predictions"] == 2


def test_psi_of_a_known_mix_against_the_previous_window_and_training(
    store: Store, sample_model: Path
) -> None:
    # GIVEN a previous week predicting 20/30/50 % high/low/normal and this week 50/20/30 %
    store.add_predictions(mix({"high": 20, "low": 30, "normal": 50}, START - WEEK))
    store.add_predictions(mix({"high": 50, "low": 20, "normal": 30}, START))

    report = build_report(store, sample_model, since=START, until=START + WEEK)

    # THEN the PSI is the textbook sum, and above 0.2 it is an alert
    expected = 0.3 * math.log(0.5 / 0.2) + 0.1 * math.log(0.3 / 0.2) + 0.2 * math.log(0.5 / 0.3)
    urgency = report["heads"]["urgency"]
    assert urgency["psi"]["vs_previous"] == pytest.approx(expected, abs=1e-6)
    assert urgency["mix"]["high"]["previous_share"] == 0.2
    kinds = {(a["kind"], a["head"]) for a in report["alerts"]}
    assert ("psi_previous", "urgency") in kinds
    # topic was "bug" throughout: no change, no alert
    assert report["heads"]["topic"]["psi"]["vs_previous"] == 0.0
    assert ("psi_previous", "topic") not in kinds
    # against training: the held-out *predicted* mix, rebuilt from metrics.json
    held_out = json.loads((sample_model / "metrics.json").read_text())["heads"]["urgency"]
    predicted = {
        c: round(round(s["recall"] * s["support"]) / s["precision"])
        for c, s in held_out["per_class"].items()
    }
    assert sum(predicted.values()) == held_out["n"]
    assert urgency["psi"]["vs_training"] == pytest.approx(
        psi([50, 20, 30], [predicted[c] for c in URGENCY]), abs=1e-6
    )
    assert urgency["mix"]["normal"]["label_prior"] == pytest.approx(
        held_out["per_class"]["normal"]["support"] / held_out["n"], abs=1e-6
    )
    alert = next(a for a in report["alerts"] if a["kind"] == "psi_previous")
    assert alert["value"] == urgency["psi"]["vs_previous"]
    assert alert["threshold"] == 0.2
    assert "'high' 20% -> 50%" in alert["message"]


def test_psi_alerts_wait_for_enough_predictions(store: Store, sample_model: Path) -> None:
    store.add_predictions(mix({"high": 8, "low": 12, "normal": 20}, START - WEEK))
    store.add_predictions(mix({"high": 20, "low": 8, "normal": 12}, START))
    report = build_report(store, sample_model, since=START, until=START + WEEK)
    assert report["heads"]["urgency"]["psi"]["vs_previous"] > 0.2  # measured, but 40 < 50
    assert not [a for a in report["alerts"] if a["kind"].startswith("psi")]


@pytest.mark.parametrize(("n_predicted_high", "alerted"), [(20, True), (19, False)])
def test_target_precision_alert_needs_min_support(
    store: Store, sample_model: Path, n_predicted_high: int, alerted: bool
) -> None:
    # GIVEN tickets predicted "high", a quarter of which the agents call "normal"
    rows = mix({"high": n_predicted_high}, START)
    store.add_predictions(rows)
    for i, row in enumerate(rows):
        give_feedback(store, row, urgency="normal" if i % 4 == 0 else "high")

    report = build_report(store, sample_model, since=START, until=START + WEEK)

    target = report["heads"]["urgency"]["target"]
    assert target["precision"] < target["min_precision"] == 0.85
    alerts = [a for a in report["alerts"] if a["kind"] == "target_precision"]
    if alerted:
        assert alerts == [
            {
                "kind": "target_precision",
                "head": "urgency",
                "class": "high",
                "value": 0.75,
                "threshold": 0.85,
                "message": "urgency 'high': precision 0.75 on 20 feedback tickets predicted "
                "'high' is below its target 0.85",
            }
        ]
        assert 0 < target["precision_lower"] < 0.75  # the Wilson bound at the target's confidence
    else:
        assert alerts == []
        assert any("too few to judge" in line for line in report["summary"])


@pytest.mark.parametrize(("n_previous", "alerted"), [(60, True), (49, False)])
def test_review_rate_and_input_drift_alerts(
    store: Store, sample_model: Path, n_previous: int, alerted: bool
) -> None:
    # GIVEN a previous window with 10 % review and 5 % unseen features ...
    before = [
        prediction(at, needs_review=i % 10 == 0, unseen=0.05)
        for i, at in enumerate(spread(n_previous, START - WEEK))
    ]
    # ... and a window with 25 % review and 20 % unseen features
    now = [
        prediction(at, needs_review=i % 4 == 0, unseen=0.2)
        for i, at in enumerate(spread(60, START))
    ]
    store.add_predictions(before + now)

    report = build_report(store, sample_model, since=START, until=START + WEEK)

    assert report["traffic"]["review_rate"] == 0.25
    assert report["input_drift"]["change"] == pytest.approx(0.15)
    kinds = {a["kind"]: a for a in report["alerts"]}
    if alerted:
        assert kinds["review_rate"]["value"] == 0.25
        assert kinds["review_rate"]["threshold"] == 0.2
        assert kinds["review_rate"]["head"] is None
        assert "25% from 10%" in kinds["review_rate"]["message"]
        assert kinds["input_drift"]["value"] == 0.2
        assert kinds["input_drift"]["threshold"] == pytest.approx(0.15)
    else:  # the previous window is too small to compare with
        assert "review_rate" not in kinds
        assert "input_drift" not in kinds


def test_review_rate_short_of_doubling_is_no_alert(store: Store, sample_model: Path) -> None:
    before = [
        prediction(at, needs_review=i % 5 == 0) for i, at in enumerate(spread(60, START - WEEK))
    ]
    now = [prediction(at, needs_review=i % 3 == 0) for i, at in enumerate(spread(60, START))]
    store.add_predictions(before + now)
    report = build_report(store, sample_model, since=START, until=START + WEEK)
    assert report["traffic"]["previous_review_rate"] == 0.2
    assert report["traffic"]["review_rate"] == round(20 / 60, 6)
    assert not [a for a in report["alerts"] if a["kind"] == "review_rate"]


def test_empty_window(store: Store, sample_model: Path, tmp_path: Path) -> None:
    report = build_report(store, sample_model, since=START, until=START + WEEK)

    assert report["n_predictions"] == report["n_feedback"] == 0
    assert report["alerts"] == []
    assert "No predictions in this window." in report["notes"]
    assert "nothing to judge" in report["summary"][-1]
    for head in report["heads"].values():
        assert head["psi"] == {"vs_training": None, "vs_previous": None}
        assert head["feedback"]["n"] == 0
        assert head["feedback"]["calibration"] is None
    page = write_report(report, tmp_path / "out").read_text()
    assert "No predictions in this window." in page
    assert json.loads((tmp_path / "out" / "report.json").read_text()) == report


def test_window_without_feedback(store: Store, sample_model: Path, tmp_path: Path) -> None:
    rows = mix({"high": 30, "normal": 30}, START, version="another-version")
    store.add_predictions(rows)

    report = build_report(store, sample_model, since=START, until=START + WEEK)

    assert report["n_predictions"] == 60
    assert report["n_feedback"] == 0
    urgency = report["heads"]["urgency"]
    assert urgency["feedback"]["n"] == 0
    assert urgency["feedback"]["calibration"] is None
    assert urgency["target"]["n_predicted"] == 0
    assert urgency["target"]["precision"] is None
    assert not [a for a in report["alerts"] if a["kind"] == "target_precision"]
    # the share routed per queue still comes from every prediction
    assert report["traffic"]["queues"] == {"priority": 0.5, "bug": 0.5}
    notes = " ".join(report["notes"])
    assert "No feedback in this window" in notes
    assert "another-version (60)" in notes  # served by a model other than the one given
    page = write_report(report, tmp_path / "out").read_text()
    assert "No feedback with a urgency label yet." in page


def test_classes_absent_from_the_window_are_named(store: Store, sample_model: Path) -> None:
    rows = mix({"high": 5, "normal": 5}, START)
    store.add_predictions(rows)
    for row in rows:
        give_feedback(store, row, urgency=row["urgency"])

    report = build_report(store, sample_model, since=START, until=START + WEEK)

    urgency = report["heads"]["urgency"]
    assert urgency["absent"] == ["low"]
    assert urgency["mix"]["low"] == {
        **urgency["mix"]["low"],
        "count": 0,
        "share": 0.0,
    }
    assert urgency["feedback"]["per_class"]["low"]["precision"] is None
    assert urgency["feedback"]["per_class"]["low"]["recall"] is None
    assert urgency["feedback"]["macro_f1"] == 1.0  # over the classes that occur
    assert "urgency: never predicted in this window: 'low'." in report["notes"]
    # an empty class is a finite PSI term, thanks to the epsilon
    assert math.isfinite(urgency["psi"]["vs_training"])


@pytest.fixture(scope="module")
def one_head_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model with an urgency head only, trained on 800 bundled sample tickets."""
    directory = tmp_path_factory.mktemp("one_head")
    sample = pd.read_csv(str(SAMPLE_TICKETS), dtype=str)
    sample.iloc[:800].drop(columns=["topic"]).to_csv(directory / "tickets.csv", index=False)
    train(directory / "tickets.csv", directory / "model", TrainConfig())
    return directory / "model"


def test_a_model_with_one_head(store: Store, one_head_model: Path, tmp_path: Path) -> None:
    rows = mix({"high": 10, "low": 10, "normal": 10}, START)
    store.add_predictions(rows)
    for row in rows:
        give_feedback(store, row, urgency="high", topic="bug")

    report = build_report(store, one_head_model, since=START, until=START + WEEK)

    assert report["model"]["heads"] == ["urgency"]
    assert list(report["heads"]) == ["urgency"]
    assert report["heads"]["urgency"]["feedback"]["per_class"]["high"]["precision"] == 1.0
    assert "<h2>Head: urgency</h2>" in write_report(report, tmp_path / "out").read_text()


def test_html_report_has_summary_alerts_first_and_embedded_figures(
    store: Store, sample_model: Path, tmp_path: Path
) -> None:
    # GIVEN a shifted class mix, a queue with a name that is HTML, and feedback
    store.add_predictions(mix({"high": 20, "low": 30, "normal": 50}, START - WEEK))
    rows = mix({"high": 50, "low": 20, "normal": 30}, START, queue="<b>vip</b>")
    store.add_predictions(rows)
    for row in rows[:40]:
        give_feedback(store, row, urgency="high")
    report = build_report(store, sample_model, since=START, until=START + WEEK)
    assert report["alerts"]

    # WHEN it is written
    page = write_report(report, tmp_path / "out").read_text()

    # THEN it is one self-contained page: summary, alerts, then details, with PNG figures
    assert page.startswith("<!DOCTYPE html>")
    assert page.index("<h2>Summary</h2>") < page.index("<h2>Alerts</h2>")
    assert page.index("<h2>Alerts</h2>") < page.index("<h2>Traffic</h2>")
    for alert in report["alerts"]:
        assert alert["message"].replace("'", "&#x27;").replace(">", "&gt;") in page
    assert page.count('<img src="data:image/png;base64,') >= 5
    assert "<b>vip</b>" not in page
    assert "&lt;b&gt;vip&lt;/b&gt;" in page
    assert "<script" not in page
    assert 'src="http' not in page
    assert json.loads((tmp_path / "out" / "report.json").read_text()) == report
    # the fragment the API dashboard embeds is the page's body; without figures, no images
    fragment = report_html(report, figures=False)
    assert "<img" not in fragment
    assert "<html" not in fragment
    assert fragment in write_report(report, tmp_path / "plain", figures=False).read_text()


def test_report_on_every_database(database_url: str, sample_model: Path) -> None:
    store = Store.open(database_url)
    try:
        rows = mix({"high": 4, "normal": 6}, START)
        old = mix({"normal": 10}, START - WEEK)
        store.add_predictions(rows + old)
        for row in rows:
            give_feedback(store, row, urgency="high", topic="bug")

        report = build_report(
            store, sample_model, since=START, until=START + WEEK, now=START + 2 * WEEK
        )

        assert report["generated_at"] == (START + 2 * WEEK).isoformat()
        assert report["n_predictions"] == 10
        assert report["previous_window"]["n_predictions"] == 10
        assert report["n_feedback"] == 10
        scores = report["heads"]["urgency"]["feedback"]["per_class"]["high"]
        assert (scores["precision"], scores["recall"]) == (1.0, 0.4)
        assert report["heads"]["urgency"]["mix"]["normal"]["previous_share"] == 1.0
        json.dumps(report)  # serialisable as it is
    finally:
        store.close()


def test_until_must_follow_since(store: Store, sample_model: Path) -> None:
    with pytest.raises(ValueError, match="must be after since"):
        build_report(store, sample_model, since=START, until=START)
