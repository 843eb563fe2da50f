"""`triage monitor` and `triage retune` from the command line (issue 4)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from ticket_triage.core.model import TriageModel
from ticket_triage.sample import SAMPLE_TICKETS
from ticket_triage.serving.api import create_app
from ticket_triage.serving.settings import Settings

TRIAGE = str(Path(sys.executable).with_name("triage"))


def _run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TRIAGE, *map(str, args)], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def logged(sample_model: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A prediction log with 600 decisions and the agents' true labels as feedback."""
    directory = tmp_path_factory.mktemp("log")
    url = f"sqlite:///{directory / 'triage.db'}"
    settings = Settings(model_dir=sample_model, database_url=url, spool_path=directory / "s")
    sample = pd.read_csv(str(SAMPLE_TICKETS), dtype=str)
    with TestClient(create_app(settings)) as client:
        for _, row in sample.iloc[1200:1800].iterrows():
            decision = client.post("/v1/triage", json={"subject": row.subject, "body": row.body})
            client.post(
                "/v1/feedback",
                json={"id": decision.json()["id"], "urgency": row.urgency, "topic": row.topic},
            )
    return url


def test_monitor_writes_the_report(logged: str, sample_model: Path, tmp_path: Path) -> None:
    result = _run("monitor", "--db", logged, "--model", sample_model, "--out", tmp_path / "r")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert (report["n_predictions"], report["n_feedback"]) == (600, 600)
    assert report["heads"]["urgency"]["feedback"]["n"] == 600
    assert set(report["heads"]["topic"]["feedback"]["per_class"]) == {
        "account", "billing", "bug", "feature_request"
    }  # fmt: skip
    assert (tmp_path / "r" / "report.html").read_text().count("data:image/png;base64,") > 0
    assert "alerts; report ->" in result.stderr


def test_retune_writes_a_new_version_and_keeps_the_old(
    logged: str, sample_model: Path, tmp_path: Path
) -> None:
    before = {p.name: p.read_bytes() for p in sample_model.iterdir()}
    result = _run("retune", sample_model, "--db", logged, "--out", tmp_path / "next")
    assert result.returncode == 0, result.stderr
    assert "urgency" in result.stdout
    old, new = TriageModel.load(sample_model), TriageModel.load(tmp_path / "next")
    assert new.version != old.version
    assert {p.name: p.read_bytes() for p in sample_model.iterdir()} == before  # rollback intact
    again = _run("retune", sample_model, "--db", logged, "--out", sample_model)
    assert again.returncode == 1
    assert "Traceback" not in again.stderr


def test_retune_with_too_little_feedback_refuses(sample_model: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = _run("retune", sample_model, "--db", url, "--out", tmp_path / "next")
    assert result.returncode == 1
    assert "feedback" in result.stderr
    assert not (tmp_path / "next").exists()
