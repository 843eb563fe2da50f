"""``benchmarks/connectors.py`` end to end, short: ``triage serve`` with a fake Zendesk, signed
webhooks at a fixed rate, every update counted at the fake; and, with the fake down for the
whole run and no time to drain, the same count says the updates are missing (so the zero the
benchmark reports is measured, not assumed)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "connectors.py"


def _run(
    sample_model: Path, tmp_path: Path, *extra: str
) -> tuple[subprocess.CompletedProcess, dict]:
    results = tmp_path / "connectors.json"
    command = [sys.executable, str(SCRIPT), "--model", str(sample_model), "--rate", "20"]
    command += ["--duration", "4", "--baseline", "1", "--json", str(results), *extra]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    return run, json.loads(results.read_text()) if results.exists() else {}


def test_every_webhook_becomes_one_update(sample_model: Path, tmp_path: Path) -> None:
    run, data = _run(sample_model, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"\*\*0 updates lost, 0 written twice\*\*", run.stdout), run.stdout
    assert "Target: met" in run.stdout
    assert data["webhooks"] == data["accepted"] == data["to_update"]["requests"] == 80
    assert data["statuses"] == {"202": 80}
    assert data["to_update"]["p50"] > 0


def test_updates_that_never_arrive_are_counted_lost(sample_model: Path, tmp_path: Path) -> None:
    run, data = _run(sample_model, tmp_path, "--down", "600", "--drain", "1")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Target: NOT met" in run.stdout
    assert data["accepted"] == data["lost"] == 80
    assert data["to_update"] is None
