"""`triage predict` and `triage demo`: queues from the built-in or a --rules file, explanations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ticket_triage.sample import SAMPLE_TICKETS

TRIAGE = str(Path(sys.executable).parent / "triage")


def _run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TRIAGE, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    directory = tmp_path_factory.mktemp("routing")
    sample = pd.read_csv(SAMPLE_TICKETS, dtype=str)
    data = directory / "tickets.csv"
    sample.iloc[:600].to_csv(data, index=False)
    run = _run("train", data, "--out", directory / "model", "--quiet")
    assert run.returncode == 0, run.stderr
    return directory / "model", data


def test_predict_adds_queue_columns_from_the_default_rules(trained, tmp_path):
    model, data = trained
    out = tmp_path / "scored.csv"
    run = _run("predict", model, data, "--out", out)
    assert run.returncode == 0, run.stderr
    scored = pd.read_csv(out, dtype=str, keep_default_na=False)
    # THEN every row has a queue, and the queue follows the default rules' order
    high = scored.urgency_label == "high"
    assert (scored.queue[high] == "priority").all()
    review = ~high & (scored.needs_review == "True")
    assert (scored.queue[review] == "review").all()
    rest = ~high & ~review
    assert (scored.queue[rest] == scored.topic_label[rest]).all()
    assert set(scored.queue_rule) <= {"priority", "review", "by-topic"}


def test_predict_with_a_rules_file_uses_metadata(trained, tmp_path):
    model, data = trained
    rules = tmp_path / "routing.toml"
    rules.write_text(
        '[[rules]]\nname = "vip"\nqueue = "vip"\nwhen = { metadata = { plan = "enterprise" } }\n'
        '[[rules]]\nname = "rest"\nqueue = "general"\n'
    )
    out = tmp_path / "scored.jsonl"
    run = _run("predict", model, data, "--out", out, "--rules", rules)
    assert run.returncode == 0, run.stderr
    scored = pd.read_json(out, lines=True, dtype=False)
    assert (scored.queue == scored.plan.map({"enterprise": "vip"}).fillna("general")).all()


def test_a_broken_rules_file_is_one_line_naming_the_rule(trained, tmp_path):
    model, _ = trained
    rules = tmp_path / "routing.toml"
    rules.write_text('[[rules]]\nname = "typo"\nqueue = "x"\nwhen = { topic = "biling" }\n')
    run = _run("demo", model, "--rules", rules)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "rule 'typo': topic 'biling' is not a class" in lines[0]


def test_demo_explains_each_decision(trained):
    model, _ = trained
    run = _run("demo", model, "--explain")
    assert run.returncode == 0, run.stderr
    # THEN each example gets a line per head naming the runner-up and the n-grams with weights
    assert run.stdout.count(" over ") >= 2 * 5
    assert "'!!!' +" in run.stdout
