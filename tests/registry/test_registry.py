"""The model registry (issue 12) on disk and on S3 (moto's server): versions, pointers, safety."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from ticket_triage.registry import Pointers, Registry, RegistryError


def test_add_list_show_and_fetch_round_trip(registry_store, sample_model: Path, tmp_path: Path):
    # GIVEN an empty registry
    reg = Registry.open(registry_store.location)
    assert reg.entries() == []
    # WHEN a trained model is added twice, the second as a retune of the first
    first = reg.add(sample_model, made_by="train", by="alice", note="baseline")
    second = reg.add(sample_model, made_by="retune", parent=first.version, by="bob")
    # THEN they get consecutive versions with their lineage and metrics summary
    assert [e.version for e in reg.entries()] == ["v0001", "v0002"]
    shown = reg.entry("v0002")
    assert (shown.parent, shown.made_by, shown.created_by) == ("v0001", "retune", "bob")
    assert shown == second
    assert first.note == "baseline"
    assert set(shown.metrics) == {"urgency", "topic"}
    assert 0.0 < shown.metrics["topic"]["macro_f1"] <= 1.0
    # AND fetching gives the artifact's files byte for byte
    fetched = reg.fetch("v0001", tmp_path / "cache")
    for name in json.loads((sample_model / "manifest.json").read_text())["files"]:
        assert (fetched / name).read_bytes() == (sample_model / name).read_bytes()
    assert reg.fetch("v0001", tmp_path / "cache") == fetched  # a verified cache is reused


def test_promote_and_rollback_to_the_previous_promoted_version(registry_store, sample_model):
    # GIVEN three versions, promoted in turn
    reg = Registry.open(registry_store.location)
    for _ in range(3):
        reg.add(sample_model, by="ci")
    reg.promote("v0001", by="alice")
    reg.set_canary("v0003", share=0.2, by="alice")
    assert reg.pointers().canary_share == pytest.approx(0.2)
    reg.promote("v0002", by="alice")
    pointers = reg.promote("v0003", by="bob")
    # THEN promoting the canary makes it live and clears the canary
    assert (pointers.live, pointers.canary, pointers.canary_share) == ("v0003", None, 0.0)
    # WHEN rolling back twice
    assert reg.rollback(by="carol") == "v0002"
    assert reg.rollback(by="carol") == "v0001"
    # THEN the promotions are walked back, and a third rollback has nowhere to go
    with pytest.raises(RegistryError, match="nothing to roll back to"):
        reg.rollback(by="carol")
    pointers = reg.pointers()
    assert pointers.live == "v0001"
    assert [(e.action, e.version, e.by) for e in pointers.history] == [
        ("promote", "v0001", "alice"),
        ("canary", "v0003", "alice"),
        ("promote", "v0002", "alice"),
        ("promote", "v0003", "bob"),
        ("rollback", "v0002", "carol"),
        ("rollback", "v0001", "carol"),
    ]
    assert pointers.revision == 6


def test_shadow_canary_and_guard_stop(registry_store, sample_model):
    reg = Registry.open(registry_store.location)
    for _ in range(2):
        reg.add(sample_model)
    reg.promote("v0001")
    with pytest.raises(RegistryError, match="is live"):
        reg.set_shadow("v0001")
    assert reg.set_shadow("v0002").shadow == "v0002"
    reg.set_canary("v0002", share=0.05)
    # WHEN a guard rail stops the canary twice
    stopped = reg.stop_canary("precision on billing 0.71 < 0.80 over 15 min", by="guard")
    again = reg.stop_canary("same breach, second guard", by="guard")
    # THEN one stop is recorded with its reason, and the shadow is untouched
    assert stopped == again
    assert (stopped.canary, stopped.shadow) == (None, "v0002")
    assert stopped.history[-1].action == "stop_canary"
    assert stopped.history[-1].reason.startswith("precision on billing")
    with pytest.raises(RegistryError, match="share"):
        reg.set_canary("v0002", share=1.5)


def test_concurrent_promote_and_rollback_lose_no_event(registry_store, sample_model):
    # GIVEN two versions, v0001 live
    reg = Registry.open(registry_store.location)
    reg.add(sample_model)
    reg.add(sample_model)
    reg.promote("v0001", by="setup")
    done: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def operator(name: str, first: int) -> None:
        # each operator has its own Registry (own client and file handles)
        own, mine = Registry.open(registry_store.location), []
        done[name] = mine
        try:
            for step in range(6):
                try:
                    if step % 2 == 0:
                        version = f"v000{1 + (first + step) % 2}"
                        mine.append(own.promote(version, by=name).revision)
                    else:
                        own.rollback(by=name)
                        mine.append(-1)
                except RegistryError as exc:  # refused on what it saw: not a change
                    if "already live" not in str(exc) and "nothing to roll back" not in str(exc):
                        raise
        except BaseException as exc:
            errors.append(exc)

    # WHEN four operators promote and roll back at once
    threads = [threading.Thread(target=operator, args=(f"op{i}", i)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # THEN every change an operator was told succeeded is in the history, exactly once
    pointers = reg.pointers()
    for name, mine in done.items():
        assert sum(1 for event in pointers.history if event.by == name) == len(mine)
    assert pointers.revision == len(pointers.history) == 1 + sum(map(len, done.values()))
    # AND the revisions each operator got back increase, and no two promotions share one
    promoted = [r for mine in done.values() for r in mine if r >= 0]
    assert len(set(promoted)) == len(promoted)
    for mine in done.values():
        own_revisions = [r for r in mine if r >= 0]
        assert own_revisions == sorted(own_revisions)
    # AND the live pointer is what replaying the history gives
    assert pointers.live == Pointers(history=pointers.history).live_stack()[-1]


def test_a_tampered_version_is_refused(registry_store, sample_model, tmp_path):
    # GIVEN a registered version whose stored weights were changed afterwards
    reg = Registry.open(registry_store.location)
    reg.add(sample_model)
    registry_store.overwrite("versions/v0001/weights.npz", b"not the trained weights")
    # WHEN a service fetches it THEN it is refused, naming the file
    with pytest.raises(RegistryError, match=r"v0001.*weights\.npz.*checksum mismatch"):
        reg.fetch("v0001", tmp_path / "cache")
    assert not (tmp_path / "cache" / "v0001").exists()


def test_a_replaced_manifest_is_refused(registry_store, sample_model, tmp_path):
    # GIVEN a version whose manifest was replaced by one that lists different (valid) contents
    reg = Registry.open(registry_store.location)
    reg.add(sample_model)
    manifest = json.loads((sample_model / "manifest.json").read_text())
    manifest["files"].pop("report.html", None)
    registry_store.overwrite("versions/v0001/manifest.json", json.dumps(manifest).encode())
    # THEN fetch refuses it: it is not the manifest registered in entry.json
    with pytest.raises(RegistryError, match="not the manifest registered"):
        reg.fetch("v0001", tmp_path / "cache")


@pytest.mark.parametrize("version", ["v0009", "latest", "../v0001"])
def test_an_unknown_version_is_refused_clearly(registry_store, sample_model, tmp_path, version):
    reg = Registry.open(registry_store.location)
    reg.add(sample_model)
    with pytest.raises(RegistryError, match=r"no such version|not a registry version"):
        reg.promote(version)
    with pytest.raises(RegistryError, match=r"no such version|not a registry version"):
        reg.fetch(version, tmp_path)
    assert reg.pointers().revision == 0


def test_a_tampered_model_is_never_registered(registry_store, sample_model, tmp_path):
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(sample_model, copy)
    (copy / "model.json").write_text("{}")
    reg = Registry.open(registry_store.location)
    with pytest.raises(RegistryError, match=r"model\.json.*checksum mismatch"):
        reg.add(copy)
    assert reg.entries() == []
