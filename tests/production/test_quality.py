"""Audit-weighted quality against a known ground truth: 10,000 simulated decisions where agents
label every reviewed ticket and the audit sample only, so feedback alone is biased."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ticket_triage.production.audit import audit_draw, uniform
from ticket_triage.production.monitoring.quality import hajek, weighted_scores
from ticket_triage.production.monitoring.scores import class_scores

CLASSES = ["account", "billing", "bug", "feature_request"]


def simulate(seed: int, n: int = 10_000, share: float = 0.05) -> tuple[list[dict[str, Any]], dict]:
    """Decisions of a model right 93 % of the time when it routes automatically and 55 % of the
    time on the 20 % it sends to review; feedback on reviewed and audited tickets only. Returns
    the rows and the true per-class scores over every decision."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(CLASSES, size=n, p=[0.2, 0.3, 0.35, 0.15])
    review = rng.random(n) < 0.2
    right = rng.random(n) < np.where(review, 0.55, 0.93)
    shift = rng.integers(1, len(CLASSES), size=n)
    wrong = np.array(CLASSES)[(np.searchsorted(CLASSES, truth) + shift) % len(CLASSES)]
    predicted = np.where(right, truth, wrong)
    rows = []
    for i in range(n):
        decision_id = rng.bytes(16).hex()
        draw = audit_draw(decision_id, bool(review[i]), share)
        row = {
            "id": decision_id,
            "topic": str(predicted[i]),
            "needs_review": bool(review[i]),
            "needs_audit": draw.needs_audit,
            "audit_probability": draw.probability,
        }
        if review[i] or draw.needs_audit:
            row["final_topic"] = str(truth[i])
        rows.append(row)
    return rows, class_scores(list(truth), list(predicted), CLASSES)["per_class"]


def feedback_only(rows: list[dict[str, Any]]) -> dict[str, Any]:
    labelled = [row for row in rows if "final_topic" in row]
    truth = [row["final_topic"] for row in labelled]
    return class_scores(truth, [row["topic"] for row in labelled], CLASSES)["per_class"]


def test_weighted_precision_covers_the_truth_where_feedback_only_does_not() -> None:
    # GIVEN 10,000 decisions, feedback only on the reviewed ones and a 5 % audit sample
    rows, true = simulate(seed=12)
    # WHEN precision and recall are estimated both ways
    weighted = weighted_scores("topic", CLASSES, rows)
    biased = feedback_only(rows)
    # THEN every audit-weighted interval holds the true figure, and the feedback-only figure
    # (dominated by the hard, reviewed tickets) lies outside the interval
    assert 300 < weighted["n_audited"] < 500
    for label in CLASSES:
        precision = weighted["per_class"][label]["precision"]
        assert precision["low"] <= true[label]["precision"] <= precision["high"], label
        assert not precision["low"] <= biased[label]["precision"] <= precision["high"], label
        recall = weighted["per_class"][label]["recall"]
        assert recall["low"] <= true[label]["recall"] <= recall["high"], label


def test_intervals_cover_the_truth_about_as_often_as_they_claim() -> None:
    # GIVEN 20 independent simulations of 10,000 decisions each (4 classes x 2 metrics)
    covered, total = 0, 0
    for seed in range(100, 120):
        rows, true = simulate(seed)
        weighted = weighted_scores("topic", CLASSES, rows)["per_class"]
        for label in CLASSES:
            for metric in ("precision", "recall"):
                value = weighted[label][metric]
                covered += value["low"] <= true[label][metric] <= value["high"]
                total += 1
    # THEN the 95 % intervals cover the truth in 88 % to 100 % of the 160 cases (a binomial
    # with p 0.95 falls below 88 % with probability under 0.1 %; unweighted figures cover ~0)
    assert covered / total >= 0.88


def test_the_draw_is_reproducible_and_has_the_configured_share() -> None:
    ids = [f"{i:032x}" for i in range(20_000)]
    drawn = [audit_draw(i, needs_review=False, share=0.02).needs_audit for i in ids]
    assert drawn == [audit_draw(i, needs_review=False, share=0.02).needs_audit for i in ids]
    assert 0.017 < sum(drawn) / len(ids) < 0.023  # 20,000 draws: sd 0.001
    assert all(0.0 <= uniform(i) < 1.0 for i in ids[:100])
    with pytest.raises(ValueError, match="audit share"):
        audit_draw("x", needs_review=False, share=1.5)


def test_hajek_by_hand() -> None:
    # two reviewed tickets (p 1), one right; two audited (p 0.25), both right
    y = np.array([1.0, 0.0, 1.0, 1.0])
    z = np.ones(4)
    p = np.array([1.0, 1.0, 0.25, 0.25])
    result = hajek(y, z, p)
    assert result["estimate"] == pytest.approx((1 + 4 + 4) / (1 + 1 + 4 + 4))
    assert result["low"] < result["estimate"] < result["high"]
    assert hajek(y, np.zeros(4), p)["estimate"] is None


def test_monitor_reports_both_figures_and_names_them(tmp_path: Path, sample_model: Path) -> None:
    # GIVEN a log of simulated topic decisions, with the agents' feedback where it was given
    from datetime import UTC, datetime, timedelta

    from ticket_triage.cli.production import quality_lines
    from ticket_triage.production.monitoring import build_report, report_html
    from ticket_triage.production.store import FeedbackRecord, Store

    rows, _ = simulate(seed=7, n=2_000, share=0.2)
    now = datetime.now(UTC)
    store = Store.open(f"sqlite:///{tmp_path / 'log.db'}")
    store.add_predictions([_logged(row, now) for row in rows])
    for row in rows:
        if "final_topic" in row:
            store.add_feedback(FeedbackRecord(row["id"], None, row["final_topic"], None, "a", now))
    # WHEN the window is reported
    report = build_report(store, sample_model, since=now - timedelta(days=1))
    store.close()
    # THEN each head has the audit-weighted figures beside the feedback-only ones, both named
    audit = report["heads"]["topic"]["audit"]
    assert audit["n_audited"] == sum(1 for r in rows if r["needs_audit"])
    assert report["audit"]["n_flagged"] == audit["n_audited"]
    assert report["audit"]["audit_shares"] == [0.2]
    billing = audit["per_class"]["billing"]["precision"]
    assert billing["low"] <= billing["estimate"] <= billing["high"]
    assert (
        billing["estimate"]
        != report["heads"]["topic"]["feedback"]["per_class"]["billing"]["precision"]
    )
    html = report_html(report, figures=False)
    assert "audit-weighted (unbiased" in html
    assert "feedback only (biased" in html
    lines = quality_lines(report)
    assert any("billing: precision audit-weighted" in line for line in lines)
    assert any("no labelled audit tickets" in line for line in lines)  # the urgency head


def _logged(row: dict[str, Any], at: Any) -> dict[str, Any]:
    """A simulated decision as the prediction log stores it (topic head only)."""
    return {
        **{k: v for k, v in row.items() if k != "final_topic"},
        "created_at": at,
        "model_version": "v-test",
        "urgency": None,
        "urgency_confidence": None,
        "topic_confidence": 0.9,
        "probabilities": {},
        "queue": row["topic"],
        "queue_rule": "test",
        "latency_ms": 1.0,
        "unseen_share": 0.0,
        "metadata": {},
        "subject": None,
        "body": None,
    }
