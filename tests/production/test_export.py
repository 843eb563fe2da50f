"""`triage export`: agents' corrections become the next training data (issue 4)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient

from ticket_triage.sample import SAMPLE_TICKETS
from ticket_triage.serving.api import create_app
from ticket_triage.serving.settings import Settings
from ticket_triage.training.data import read_tickets

TRIAGE = str(Path(sys.executable).with_name("triage"))


def _run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TRIAGE, *map(str, args)], capture_output=True, text=True, timeout=300, check=False
    )


def test_corrections_round_trip_into_training(sample_model: Path, tmp_path: Path) -> None:
    # GIVEN a served model whose decisions agents corrected or confirmed
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    settings = Settings(model_dir=sample_model, database_url=url, spool_path=tmp_path / "s.jsonl")
    sample = pd.read_csv(str(SAMPLE_TICKETS), dtype=str)
    tickets = sample.iloc[2000:2400]
    true_topic = {}
    with TestClient(create_app(settings)) as client:
        for index, (_, row) in enumerate(tickets.iterrows()):
            body = {
                "subject": row.subject,
                "body": f"{row.body} Reach me at jo.smith@example.org",
                "metadata": {"plan": row.plan, "product": row["product"]},
            }
            decision = client.post("/v1/triage", json=body).json()
            true_topic[decision["id"]] = row.topic
            if index % 4 == 3:
                continue  # no feedback: must not be exported
            labels = {"topic": row.topic}
            if index % 4 != 2:  # a quarter of the feedback gives the topic only
                labels["urgency"] = row.urgency
            if index == 0:
                client.post("/v1/feedback", json={"id": decision["id"], "queue": "review"})
                continue  # a queue-only correction teaches no label
            response = client.post("/v1/feedback", json={"id": decision["id"], **labels})
            assert response.status_code == 201
    # WHEN the corrections are exported
    out = tmp_path / "corrections.csv"
    result = _run("export", "--db", url, "--out", out)
    assert result.returncode == 0, result.stderr
    # THEN the file holds exactly the corrected tickets, with the agents' labels, redacted
    exported = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(exported) == 299  # 300 with feedback, minus the queue-only one
    assert "299 corrected or confirmed tickets" in result.stderr
    assert (exported.urgency == "").sum() == 100
    assert not exported.body.str.contains("jo.smith").any()
    assert exported.body.str.contains(r"\[EMAIL\]").all()
    assert set(exported.plan) <= set(tickets.plan)
    assert all(true_topic[i] == topic for i, topic in zip(exported.id, exported.topic, strict=True))
    # and the next `triage train` reads it as training data
    data = read_tickets(out)
    assert set(data.labels) == {"urgency", "topic"}
    retrained = _run("train", out, "--out", tmp_path / "next", "--quiet")
    assert retrained.returncode == 0, retrained.stderr


def test_export_bad_database_is_one_line(tmp_path: Path) -> None:
    result = _run("export", "--db", "nosuchdriver://x", "--out", tmp_path / "x.csv")
    assert result.returncode == 1
    assert "TRIAGE_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
    bad_since = _run(
        "export", "--db", f"sqlite:///{tmp_path / 'a.db'}", "--out", tmp_path / "x.csv",
        "--since", "yesterday",
    )  # fmt: skip
    assert bad_since.returncode == 1
    assert "--since 'yesterday'" in bad_since.stderr
