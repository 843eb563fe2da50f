"""``triage models`` as the README types it, on a folder and on S3 (moto's server on loopback).

The console script gets the registry only from ``TRIAGE_REGISTRY`` and boto3's own environment
(``AWS_ENDPOINT_URL``, set by the ``registry_store`` fixture), as a deployment would give it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ticket_triage.registry import Registry

TRIAGE = Path(sys.executable).parent / "triage"


def models(location: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRIAGE_REGISTRY": location}
    return subprocess.run(
        [str(TRIAGE), "models", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_add_promote_canary_and_rollback_on_either_store(registry_store, sample_model: Path):
    location = registry_store.location
    # GIVEN two versions added through the CLI
    for args in (["add", str(sample_model)], ["add", str(sample_model), "--parent", "v0001"]):
        assert models(location, *args).returncode == 0
    # WHEN v0001 is promoted, v0002 canaried, promoted, and rolled back
    steps = [
        ["promote", "v0001", "--by", "ops"],
        ["canary", "v0002", "--share", "0.05", "--by", "ops"],
        ["promote", "v0002", "--by", "ops", "--reason", "canary held"],
        ["rollback", "--by", "ops"],
    ]
    for args in steps:
        result = models(location, *args)
        assert result.returncode == 0, (args, result.stderr)
    # THEN the store holds the same pointers and history as the CLI printed
    pointers = Registry.open(location).pointers()
    assert (pointers.live, pointers.canary) == ("v0001", None)
    assert [e.action for e in pointers.history] == ["promote", "canary", "promote", "rollback"]
    listed = json.loads(models(location, "list", "--json").stdout)
    assert [entry["version"] for entry in listed["entries"]] == ["v0001", "v0002"]
    assert listed["pointers"]["live"] == "v0001"
    # AND a refusal is one line on either store
    refused = models(location, "rollback")
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1
    assert "nothing to roll back" in refused.stderr
