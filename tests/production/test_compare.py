"""``triage compare`` on a real store (SQLite, and PostgreSQL on ``database_url``): the numbers
of a small log checked by hand, and the promote, keep-live and refusal verdicts with their exit
codes through the console script."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ticket_triage.production.monitoring.compare import compare
from ticket_triage.production.records import new_id
from ticket_triage.production.store import FeedbackRecord, Store

TRIAGE = Path(sys.executable).parent / "triage"
NOW = datetime.now(UTC)
SINCE = NOW - timedelta(days=7)


def row(version: str, topic: str, **kw: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "created_at": kw.pop("at", NOW - timedelta(hours=1)),
        "model_version": version,
        "urgency": "normal",
        "urgency_confidence": 0.9,
        "topic": topic,
        "topic_confidence": 0.9,
        "probabilities": {},
        "queue": topic,
        "queue_rule": "test",
        "needs_review": kw.pop("needs_review", False),
        "latency_ms": kw.pop("latency_ms", 1.0),
        "unseen_share": 0.0,
        "metadata": {},
        "subject": None,
        "body": None,
        "role": "live",
        "served_id": None,
        "needs_audit": False,
        "audit_probability": None,
        **kw,
    }


def fill(store: Store, triples: list[tuple[str, str, str | None]], **kw: Any) -> None:
    """Per (live topic, candidate topic, agent's topic or None): a live row, a shadow row
    naming it, and the agent's feedback on the live decision."""
    rows, feedback = [], []
    for i, (live, candidate, truth) in enumerate(triples):
        served = row("v1", live, latency_ms=1.0 + i, **kw)
        shadow = row("v2", candidate, role="shadow", served_id=served["id"], latency_ms=3.0)
        rows += [served, shadow]
        if truth is not None:
            feedback.append(FeedbackRecord(served["id"], None, truth, None, "a", NOW))
    store.add_predictions(rows)
    for record in feedback:
        store.add_feedback(record)


HAND = [
    ("billing", "billing", "billing"),
    ("bug", "billing", "billing"),
    ("bug", "bug", "bug"),
    ("account", "bug", "bug"),
    ("billing", "billing", "account"),
    ("account", "account", "account"),
    ("bug", "bug", None),
]


def test_numbers_match_a_hand_count(database_url: str) -> None:
    store = Store.open(database_url)
    fill(store, HAND)
    stray = row("v1", "bug")  # live only: not paired
    other = row("v3", "bug", role="shadow", served_id=stray["id"])  # another version
    old = row("v1", "bug", at=NOW - timedelta(days=30))  # before the window
    store.add_predictions([stray, other, old])
    report = compare(store, "v1", "v2", since=SINCE, min_feedback=50)
    store.close()
    assert (report["n_pairs"], report["n_feedback"], report["n_audited"]) == (7, 6, 0)
    assert report["agreement"]["topic"] == round(5 / 7, 6)
    assert report["agreement"]["queue"] == round(5 / 7, 6)
    live, candidate = (report["models"][v] for v in ("v1", "v2"))
    assert live["queues"] == {
        "account": round(2 / 7, 6),
        "billing": round(2 / 7, 6),
        "bug": round(3 / 7, 6),
    }
    assert live["latency_ms"]["p50"] == 4.0
    assert candidate["latency_ms"]["mean"] == 3.0
    live_scores = live["heads"]["topic"]["feedback"]["per_class"]
    candidate_scores = candidate["heads"]["topic"]["feedback"]["per_class"]
    assert (live_scores["billing"]["precision"], live_scores["billing"]["recall"]) == (0.5, 0.5)
    assert candidate_scores["billing"]["precision"] == round(2 / 3, 6)
    assert candidate_scores["billing"]["recall"] == 1.0
    assert (candidate_scores["bug"]["precision"], candidate_scores["bug"]["recall"]) == (1.0, 1.0)
    difference = report["differences"]["topic"]["feedback"]["per_class"]["billing"]
    assert difference["precision"]["difference"] == round(2 / 3 - 1 / 2, 6)
    assert difference["recall"]["difference"] == 0.5
    # six tickets with feedback are fewer than 50: no recommendation
    assert (report["verdict"], report["exit_code"]) == ("insufficient", 5)
    assert "6 paired tickets have feedback, fewer than the 50" in report["recommendation"]


def big_log(seed: int = 3, n: int = 400) -> list[tuple[str, str, str]]:
    """v2 finds billing far more often than v1 (recall 0.9 against 0.6), same elsewhere."""
    rng = np.random.default_rng(seed)
    triples = []
    for _ in range(n):
        truth = str(rng.choice(["billing", "bug"]))
        if truth == "billing":
            live = "billing" if rng.random() < 0.6 else "bug"
            candidate = "billing" if rng.random() < 0.9 else "bug"
        else:
            live = candidate = "bug" if rng.random() < 0.9 else "billing"
        triples.append((live, candidate, truth))
    return triples


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TRIAGE), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_recommendation_paths_and_exit_codes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    store = Store.open(url)
    fill(store, big_log())
    store.close()
    out = tmp_path / "compare.json"
    # candidate better on billing recall: promote, exit 0, the evidence in words
    promoted = run("compare", "--db", url, "--live", "v1", "--candidate", "v2", "--json", str(out))
    assert promoted.returncode == 0, promoted.stderr
    report = json.loads(out.read_text())
    assert report["verdict"] == "promote"
    (evidence,) = [e for e in report["evidence"] if e["metric"] == "recall"]
    assert (evidence["class"], evidence["candidate"]) == ("billing", "better")
    assert 0 < evidence["low"] < evidence["difference"] < evidence["high"]
    assert "candidate better on topic billing recall" in promoted.stdout
    # the other way round the candidate is worse: keep live, exit 3
    kept = run("compare", "--db", url, "--live", "v2", "--candidate", "v1")
    assert kept.returncode == 3, kept.stderr
    assert "keep_live" in kept.stdout
    assert "candidate worse on topic billing recall" in kept.stdout
    # asking for more feedback than there is: refusal, exit 5
    refused = run(
        "compare", "--db", url, "--live", "v1", "--candidate", "v2", "--min-feedback", "1000"
    )
    assert refused.returncode == 5
    assert "No recommendation: too little feedback" in refused.stdout
    # an unknown version: no pairs, refusal naming the versions seen
    unknown = run("compare", "--db", url, "--live", "v1", "--candidate", "v9")
    assert unknown.returncode == 5
    assert "v2 (400)" in unknown.stdout
    # the same version twice: a usage error in one line
    same = run("compare", "--db", url, "--live", "v1", "--candidate", "v1")
    assert same.returncode == 1
    assert "both 'v1'" in same.stderr


def test_audit_rows_make_the_evidence_audit_weighted(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'a.db'}")
    fill(store, big_log(seed=5, n=300), needs_audit=True, audit_probability=0.5)
    report = compare(store, "v1", "v2", since=SINCE, min_audit=30)
    store.close()
    assert report["basis"] == "audit"
    assert report["n_audited"] == 300
    assert {e["basis"] for e in report["evidence"]} == {"audit"}
    weighted = report["models"]["v2"]["heads"]["topic"]["audit"]["per_class"]["billing"]
    plain = report["models"]["v2"]["heads"]["topic"]["feedback"]["per_class"]["billing"]
    # one inclusion probability for all: the weighted figure equals the plain one
    assert weighted["recall"]["estimate"] == pytest.approx(plain["recall"])
