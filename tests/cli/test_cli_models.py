"""``triage models`` on a folder registry, run as the real console script.

The session's sample model is registered twice (two versions, the second made from the first),
promoted, rolled back in one command, canaried and shadowed; every refusal a user can cause
(empty registry, unknown version, nothing to roll back to, a tampered version, a folder that is
not a model) must end in exit status 1 with one line on stderr naming it, never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ticket_triage.registry import Registry

TRIAGE = Path(sys.executable).parent / "triage"


def triage(*args: str, registry: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``triage models ARGS`` with TRIAGE_REGISTRY set to ``registry`` (if given)."""
    env = {k: v for k, v in os.environ.items() if k != "TRIAGE_REGISTRY"}
    if registry is not None:
        env["TRIAGE_REGISTRY"] = str(registry)
    env["COLUMNS"] = "200"  # rich wraps tables at the terminal width; keep rows on one line
    return subprocess.run(
        [str(TRIAGE), "models", *args], capture_output=True, text=True, env=env, timeout=120
    )


def refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 1, one line on stderr that contains every word, and no traceback."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


@pytest.fixture
def two_versions(sample_model: Path, tmp_path: Path) -> Path:
    """A folder registry holding v0001 (trained) and v0002 (retuned from v0001), none live."""
    registry = tmp_path / "registry"
    assert triage("add", str(sample_model), registry=registry).returncode == 0
    second = triage(
        "add", str(sample_model), "--made-by", "retune", "--parent", "v0001",
        "--note", "thresholds re-picked", "--by", "alice", registry=registry,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    return registry


def test_add_promote_and_rollback_in_one_command(two_versions: Path) -> None:
    # given two registered versions, v0001 then v0002 promoted
    registry = two_versions
    assert triage("promote", "v0001", "--by", "alice", registry=registry).returncode == 0
    promoted = triage(
        "promote", "v0002", "--by", "bob", "--reason", "better billing recall", registry=registry
    )
    assert promoted.returncode == 0, promoted.stderr
    assert "v0002 is live (was v0001" in promoted.stdout
    # when the operator rolls back with one command
    result = triage("rollback", "--by", "carol", "--registry", str(registry))
    # then the earlier version is live again, in the registry itself
    assert result.returncode == 0, result.stderr
    assert "v0001 is live again (was v0002)" in result.stdout
    assert Registry.open(registry).pointers().live == "v0001"
    # and list shows both versions, their lineage, metrics and the live role
    listing = triage("list", registry=registry)
    assert listing.returncode == 0, listing.stderr
    rows = {line.split()[1]: line for line in listing.stdout.splitlines() if "│ v000" in line}
    assert set(rows) == {"v0001", "v0002"}
    assert "live" in rows["v0001"]
    assert "live" not in rows["v0002"]
    assert "retune" in rows["v0002"]
    assert "v0001" in rows["v0002"].split("│")[2]
    assert "macro-F1" in listing.stdout
    # and show tells who promoted v0002, why, and who rolled it back
    shown = triage("show", "v0002", registry=registry)
    assert shown.returncode == 0, shown.stderr
    assert "thresholds re-picked" in shown.stdout
    assert "created:" in shown.stdout
    history = [line for line in shown.stdout.splitlines() if "│ 20" in line]
    assert [line.split("│")[3].strip() for line in history] == ["promote", "rollback"]
    assert "bob" in history[0]
    assert "better billing recall" in history[0]
    assert "carol" in history[1]
    assert "from v0002" in history[1]


def test_list_and_show_as_json(two_versions: Path, sample_model: Path) -> None:
    # given two versions, the first live and the second on a 5% canary
    registry = two_versions
    triage("promote", "v0001", registry=registry)
    canary = triage("canary", "v0002", "--share", "0.05", registry=registry)
    assert canary.returncode == 0, canary.stderr
    # when both are read as JSON
    listing = json.loads(triage("list", "--json", registry=registry).stdout)
    shown = json.loads(triage("show", "v0002", "--json", registry=registry).stdout)
    # then the entries carry the artifact's metrics summary and the pointers the roles
    metrics = json.loads((sample_model / "metrics.json").read_text())
    first = listing["entries"][0]
    assert first["metrics"]["topic"]["macro_f1"] == metrics["heads"]["topic"]["macro_f1"]
    assert listing["pointers"]["live"] == "v0001"
    assert listing["pointers"]["canary"] == "v0002"
    assert listing["pointers"]["canary_share"] == 0.05
    assert shown["entry"]["parent"] == "v0001"
    assert shown["entry"]["made_by"] == "retune"
    assert shown["role"] == "canary 5%"
    assert [event["action"] for event in shown["history"]] == ["canary"]


def test_shadow_and_canary_set_and_clear(two_versions: Path) -> None:
    # given v0001 live
    registry = two_versions
    triage("promote", "v0001", registry=registry)
    # when v0002 shadows, then the shadow is cleared and v0002 canaries at 10%
    assert triage("shadow", "v0002", registry=registry).returncode == 0
    assert Registry.open(registry).pointers().shadow == "v0002"
    assert triage("shadow", "--clear", registry=registry).returncode == 0
    assert triage("canary", "v0002", "--share", "0.1", registry=registry).returncode == 0
    pointers = Registry.open(registry).pointers()
    # then the pointers say so and every change is in the history, by the OS user by default
    assert (pointers.shadow, pointers.canary, pointers.canary_share) == (None, "v0002", 0.1)
    assert [e.action for e in pointers.history] == ["promote", "shadow", "shadow", "canary"]
    assert all(event.by and event.by != "unknown" for event in pointers.history)
    # and clearing the canary takes it off traffic
    assert triage("canary", "--clear", registry=registry).returncode == 0
    assert Registry.open(registry).pointers().canary is None


def test_refusals_are_one_line_and_change_nothing(two_versions: Path, tmp_path: Path) -> None:
    registry = two_versions
    # an empty registry has nothing to list
    refused(triage("list", registry=tmp_path / "empty"), "no versions yet")
    # an unknown version names the known ones
    refused(triage("promote", "v0009", registry=registry), "v0009", "v0001, v0002")
    refused(triage("show", "latest", registry=registry), "not a registry version")
    refused(triage("list", "--registry", "s3:/bucket/models"), "s3://bucket/prefix")
    # nothing to roll back to: no promotion, then only one
    refused(triage("rollback", registry=registry), "nothing to roll back")
    triage("promote", "v0001", registry=registry)
    refused(triage("rollback", registry=registry), "nothing to roll back")
    refused(triage("promote", "v0001", registry=registry), "already live")
    # a canary needs a share in (0, 1], and a version or --clear
    refused(triage("canary", "v0002", registry=registry), "--share")
    refused(triage("canary", "v0002", "--share", "1.5", registry=registry), "share")
    refused(triage("shadow", registry=registry), "--clear")
    # a folder that is not a sealed artifact, and an unknown way of making a model
    refused(triage("add", str(tmp_path), registry=registry), "cannot register")
    refused(triage("add", str(tmp_path), "--made-by", "magic", registry=registry), "made_by")
    # none of that changed the pointers
    pointers = Registry.open(registry).pointers()
    assert (pointers.live, pointers.shadow, pointers.canary) == ("v0001", None, None)
    assert len(pointers.history) == 1


def test_a_tampered_version_is_never_pointed_at(two_versions: Path) -> None:
    # given v0001 live and v0002's weights changed in the store after it was added
    registry = two_versions
    triage("promote", "v0001", registry=registry)
    weights = registry / "versions" / "v0002" / "weights.npz"
    weights.chmod(0o644)
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    # when an operator promotes it, canaries or shadows it
    attempts = [
        triage("promote", "v0002", registry=registry),
        triage("canary", "v0002", "--share", "0.05", registry=registry),
        triage("shadow", "v0002", registry=registry),
    ]
    # then each is refused, naming the version and the verification failure
    for result in attempts:
        refused(result, "v0002", "fails verification")
    assert Registry.open(registry).pointers().live == "v0001"
    assert len(Registry.open(registry).pointers().history) == 1


def test_registry_is_required() -> None:
    # given no --registry and no TRIAGE_REGISTRY, then a usage error (exit 2) names the option
    result = triage("list")
    assert result.returncode == 2
    assert "--registry" in result.stderr
    assert "Traceback" not in result.stderr


def test_train_registers_the_model_it_wrote(tmp_path: Path) -> None:
    from ticket_triage.sample.generator import write_sample_csv

    # given a small labelled file
    data = tmp_path / "tickets.csv"
    write_sample_csv(data, n=600, seed=3)
    # when it is trained with --register
    registry = tmp_path / "registry"
    result = subprocess.run(
        [str(TRIAGE), "train", str(data), "--out", str(tmp_path / "model"), "--quiet",
         "--register", str(registry)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    # then the registry holds that very artifact as v0001, made by train, not live
    assert result.returncode == 0, result.stderr
    assert "registered as v0001" in result.stderr
    store = Registry.open(registry)
    (entry,) = store.entries()
    meta = json.loads((tmp_path / "model" / "model.json").read_text())
    assert (entry.made_by, entry.model_version) == ("train", meta["version"])
    assert store.pointers().live is None
