"""``triage connectors import``: from "we have a help desk" to "we have a model" in two commands,
through the desks' paged APIs (real HTTP servers on loopback), resumable after a crash."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import GROUPS, REPOSITORY, SECRETS, fixture

from ticket_triage.sample import SAMPLE_TICKETS

TRIAGE = str(Path(sys.executable).with_name("triage"))
PRIORITY = {"high": "urgent", "normal": "normal", "low": "low"}
ENV = {**os.environ, **{f"TRIAGE_{key.upper()}": value for key, value in SECRETS.items()}}


def _sample(n: int) -> pd.DataFrame:
    return pd.read_csv(SAMPLE_TICKETS, dtype=str, keep_default_na=False).iloc[:n]


def _zendesk_tickets(frame: pd.DataFrame) -> list[dict]:
    base = fixture("zendesk_ticket.json")["ticket"]
    return [
        base | {"id": 1000 + i, "subject": row.subject, "description": row.body,
                "priority": PRIORITY[row.urgency], "group_id": GROUPS[row.topic], "tags": []}
        for i, row in enumerate(frame.itertuples())
    ]  # fmt: skip


def _import(
    desk: str, config: Path, out: Path, *extra: str, **kwargs
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TRIAGE, "connectors", "import", desk, "--connectors", str(config), "--out", str(out),
         *extra],
        capture_output=True, text=True, timeout=300, check=False, env=ENV, **kwargs,
    )  # fmt: skip


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_from_a_zendesk_history_to_a_model_in_two_commands(fakes, connectors_file, tmp_path):
    # GIVEN 400 tickets in Zendesk, their urgency in the priority and their topic in the group
    frame = _sample(400)
    fakes["zendesk"].page_size = 100
    for ticket in _zendesk_tickets(frame):
        fakes["zendesk"].add(ticket)
    history = tmp_path / "history.csv"
    # WHEN the history is imported, then trained on
    imported = _import("zendesk", connectors_file, history)
    assert imported.returncode == 0, imported.stderr
    trained = subprocess.run(
        [TRIAGE, "train", str(history), "--out", str(tmp_path / "model"), "--quiet"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    # THEN every ticket is in the file once, with the labels the desk's fields mean
    assert trained.returncode == 0, trained.stderr
    rows = _rows(history)
    assert len(rows) == 400
    assert len({row["id"] for row in rows}) == 400
    assert [row["urgency"] for row in rows] == frame.urgency.tolist()
    assert [row["topic"] for row in rows] == frame.topic.tolist()
    assert "400 tickets" in imported.stderr
    pages = [r for r in fakes["zendesk"].received if r.path.endswith("cursor.json")]
    assert len(pages) == 4
    assert (tmp_path / "model" / "manifest.json").is_file()


def test_an_import_killed_mid_pagination_resumes_without_duplicates(
    fakes, connectors_file, tmp_path
):
    # GIVEN a slow Zendesk (a page every 0.4 s) and an import killed after a few pages
    frame = _sample(600)
    fakes["zendesk"].page_size = 50
    fakes["zendesk"].faults.page_delay = 0.4
    for ticket in _zendesk_tickets(frame):
        fakes["zendesk"].add(ticket)
    history = tmp_path / "history.csv"
    state = tmp_path / "history.csv.state.json"
    process = subprocess.Popen(
        [TRIAGE, "connectors", "import", "zendesk", "--connectors", str(connectors_file),
         "--out", str(history)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        started = state.exists() and json.loads(state.read_text()).get("cursor")
        if started and len(_rows(history)) >= 150:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    first = len(_rows(history))
    assert 0 < first < 600
    # WHEN the same command runs again
    fakes["zendesk"].faults.page_delay = 0.0
    resumed = _import("zendesk", connectors_file, history)
    # THEN it continues from the cursor: every ticket once, nothing cut short
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed" in resumed.stderr
    rows = _rows(history)
    assert len(rows) == 600
    assert sorted(int(row["id"].split(":")[1]) for row in rows) == list(range(1000, 1600))
    assert json.loads(state.read_text())["done"] is True
    # AND running it once more changes nothing
    again = _import("zendesk", connectors_file, history)
    assert again.returncode == 0
    assert len(_rows(history)) == 600


def test_github_history_follows_link_pages_and_skips_pull_requests(
    fakes, connectors_file, tmp_path
):
    issue = fixture("github_issues_opened.json")["issue"]
    for number in range(1, 251):
        labels = [{"name": "bug"}] if number % 2 else [{"name": "enhancement"}]
        entry = issue | {"number": number, "title": f"Issue {number}", "labels": labels}
        if number % 10 == 0:
            entry["pull_request"] = {"url": "https://api.github.com/repos/x/y/pulls/1"}
        fakes["github"].add(entry)
    history = tmp_path / "issues.csv"
    imported = _import("github", connectors_file, history)
    assert imported.returncode == 0, imported.stderr
    rows = _rows(history)
    assert len(rows) == 225  # 250 issues, 25 of them pull requests
    assert rows[0]["id"] == f"github:{REPOSITORY}#1"
    assert {row["topic"] for row in rows} == {"bug", "feature_request"}
    pages = [r for r in fakes["github"].received if r.path.endswith("/issues")]
    assert len(pages) == 3


def test_freshdesk_history_pages_until_a_short_page(fakes, connectors_file, tmp_path):
    ticket = fixture("freshdesk_ticket.json")
    for n in range(230):
        stamp = f"2025-01-01T00:{n // 60:02d}:{n % 60:02d}Z"
        fields = {"id": 100 + n, "subject": f"Ticket {n}", "priority": 4, "updated_at": stamp}
        fakes["freshdesk"].add(ticket | fields | {"group_id": GROUPS["billing"]})
    history = tmp_path / "fd.csv"
    imported = _import("freshdesk", connectors_file, history, "--since", "2024-12-31")
    assert imported.returncode == 0, imported.stderr
    rows = _rows(history)
    assert len(rows) == 230
    assert {row["urgency"] for row in rows} == {"high"}
    assert {row["topic"] for row in rows} == {"billing"}


@pytest.mark.parametrize("problem", ["not ours", "other desk"])
def test_an_import_never_appends_to_a_file_it_did_not_start(
    fakes, connectors_file, tmp_path, problem
):
    history = tmp_path / "history.csv"
    history.write_text("someone's data\n")
    if problem == "other desk":
        (tmp_path / "history.csv.state.json").write_text(
            json.dumps({"desk": "github", "since": None})
        )
    refused = _import("zendesk", connectors_file, history)
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    assert history.read_text() == "someone's data\n"
