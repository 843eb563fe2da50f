"""``benchmarks/soak.py`` end to end, short: a real ``triage serve`` under a mixed load, SIGTERM,
then every returned decision counted in the SQLite prediction log.

The script is what CI runs for two minutes (and anyone for longer); this keeps it working between
those runs and proves, in about 25 s, that a graceful shutdown loses no accepted record.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOAK = ROOT / "benchmarks" / "soak.py"


def test_soak_loses_nothing_and_answers_without_errors(sample_model: Path, tmp_path: Path) -> None:
    # GIVEN the soak script against the session's sample model, 20 s at a moderate rate
    results = tmp_path / "soak.json"
    command = [sys.executable, str(SOAK), "--model", str(sample_model)]
    command += ["--duration", "20", "--rate", "50", "--json", str(results)]

    # WHEN it runs as CI runs it: a separate process, from the repository root
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)

    # THEN every check passed, and the printed report (what goes into BENCHMARKS.md) says so
    assert run.returncode == 0, run.stdout + run.stderr
    report = run.stdout
    assert re.search(r"^\| errors \([^|]*\| 0 \| 0 \| met \|$", report, re.M), report
    assert re.search(r"^\| records lost \([^|]*\| 0 \(\d+ decisions returned", report, re.M), report
    assert re.search(r"^\| feedback lost \([^|]*\| 0 \(", report, re.M), report
    assert "NOT met" not in report
    # AND the numbers behind it are not vacuous: every kind of request was sent and counted
    data = json.loads(results.read_text())
    assert data["failed"] == []
    assert set(data["sent"]) == {"triage", "batch", "feedback", "bad"}
    assert data["errors"] == {}
    assert data["records_lost"] == 0
    assert data["decisions_returned"] == data["prediction_rows"] > sum(data["sent"].values()) / 2
    assert data["feedback_accepted"] == data["feedback_rows"] > 0
    assert sum(data["expected_4xx"].values()) == data["sent"]["bad"] > 0
    assert data["shutdown"]["graceful"]
