"""Several versions in one service: shadow, canary, hot swap and guard rails (issue 12)."""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ticket_triage.core.pipeline import Decision, Pipeline
from ticket_triage.serving.versions import canary_bucket

from .conftest import TOKEN

TICKET = {"subject": "Refund please", "body": "I was charged twice for my plan this month."}


@pytest.fixture(scope="module")
def other_model(sample_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second version: trained on other sample tickets, so its version and weights differ."""
    import pandas as pd

    from ticket_triage.sample import SAMPLE_TICKETS
    from ticket_triage.training.config import TrainConfig
    from ticket_triage.training.train import train

    directory = tmp_path_factory.mktemp("other_model")
    sample = pd.read_csv(str(SAMPLE_TICKETS), dtype=str)
    sample.iloc[1200:2400].to_csv(directory / "tickets.csv", index=False)
    train(directory / "tickets.csv", directory / "model", TrainConfig())
    return directory / "model"


class _Crashing:
    """A version whose scoring raises (a broken artifact that still loaded)."""

    def __init__(self, real: Pipeline) -> None:
        self.model = real.model

    def triage(self, tickets: Any, *, explain: int = 0) -> list[Decision]:
        raise RuntimeError("boom")


class _Slow:
    """A version that answers correctly, slowly."""

    def __init__(self, real: Pipeline, seconds: float) -> None:
        self.real, self.model, self.seconds = real, real.model, seconds

    def triage(self, tickets: Any, *, explain: int = 0) -> list[Decision]:
        time.sleep(self.seconds)
        return self.real.triage(tickets, explain=explain)


def _service(client):
    return client.app.state.service


def _wait(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def _masked(response) -> bytes:
    return response.content.replace(response.json()["id"].encode(), b"<id>")


def test_a_shadow_changes_no_byte_of_the_answer_and_is_logged_beside_it(
    make_client, sample_model, other_model
) -> None:
    alone = make_client()
    shadowed = make_client(shadow_model_dir=other_model)
    service = _service(shadowed)
    assert service.loaded.models.versions()["shadow"] != service.model_version
    for explain in ("false", "true"):
        a = alone.post(f"/v1/triage?explain={explain}", json=TICKET)
        b = shadowed.post(f"/v1/triage?explain={explain}", json=TICKET)
        assert (a.status_code, a.headers["content-type"]) == (b.status_code, "application/json")
        assert _masked(a) == _masked(b)
    batch = shadowed.post("/v1/triage/batch", json={"tickets": [TICKET, TICKET]}).json()
    _wait(lambda: service.shadow.scored == 4)
    service.loaded.recorder.flush()
    rows = service.loaded.recorder.store.predictions()
    live = {r["id"]: r for r in rows if r["role"] == "live"}
    shadow = [r for r in rows if r["role"] == "shadow"]
    assert b.json()["id"] in live
    assert {r["id"] for r in batch["results"]} <= set(live)
    assert sorted(r["served_id"] for r in shadow) == sorted(live)
    assert {r["model_version"] for r in shadow} == {service.loaded.models.versions()["shadow"]}
    assert {r["model_version"] for r in live.values()} == {service.model_version}
    assert all(r["served_id"] is None for r in live.values())
    assert 'triage_shadow_total{outcome="scored"} 4.0' in shadowed.get("/metrics").text


def test_a_crashing_or_slow_shadow_never_touches_the_answer(make_client, other_model) -> None:
    client = make_client(shadow_model_dir=other_model, shadow_queue=2)
    service = _service(client)
    expected = _masked(client.post("/v1/triage", json=TICKET))
    real = service.loaded.models.shadow
    # a shadow whose scoring raises: answers unchanged, errors counted
    service.swap(replace(service.loaded.models, shadow=_Crashing(real)))
    for _ in range(3):
        response = client.post("/v1/triage", json=TICKET)
        assert (response.status_code, _masked(response)) == (200, expected)
    _wait(lambda: service.shadow.errors >= 1)
    # a shadow taking 0.3 s per ticket: 20 requests would take 6 s if it were on their path
    service.swap(replace(service.loaded.models, shadow=_Slow(real, 0.3)))
    started = time.perf_counter()
    for _ in range(20):
        response = client.post("/v1/triage", json=TICKET)
        assert (response.status_code, _masked(response)) == (200, expected)
    assert time.perf_counter() - started < 20 * 0.3 / 2
    assert service.shadow.dropped > 0  # the queue of 2 filled: dropped, never waited on
    metrics = client.get("/metrics").text
    assert 'triage_shadow_total{outcome="error"}' in metrics
    assert 'triage_shadow_total{outcome="dropped"}' in metrics


def test_the_canary_share_is_kept_and_sticky_over_10000_keys(
    make_client, sample_model, other_model
) -> None:
    share = 0.2
    client = make_client(canary_model_dir=other_model, canary_share=share, database_url=None)
    canary = _service(client).loaded.models.versions()["canary"]
    tickets = [{**TICKET, "metadata": {"requester_id": f"customer-{i}"}} for i in range(10_000)]
    answered: dict[str, str] = {}
    for start in range(0, len(tickets), 500):
        results = client.post("/v1/triage/batch", json={"tickets": tickets[start : start + 500]})
        for ticket, result in zip(tickets[start:start + 500], results.json()["results"],
                                  strict=True):  # fmt: skip
            answered[ticket["metadata"]["requester_id"]] = result["model_version"]
    counts = Counter(answered.values())
    assert abs(counts[canary] / 10_000 - share) <= 0.02
    # the same requester gets the same version every time, alone or in a batch
    for key in ("customer-1", "customer-2", "customer-3", "customer-4", "customer-5"):
        single = {**TICKET, "metadata": {"requester_id": key}}
        versions = {
            client.post("/v1/triage", json=single).json()["model_version"] for _ in range(5)
        }
        assert versions == {answered[key]}
        assert (answered[key] == canary) == (canary_bucket(key) < share)
    # a ticket without the key is answered live
    assert client.post("/v1/triage", json=TICKET).json()["model_version"] != canary


def test_the_canary_rows_say_canary(make_client, other_model) -> None:
    client = make_client(canary_model_dir=other_model, canary_share=1.0)
    service = _service(client)
    decision = client.post("/v1/triage", json={**TICKET, "metadata": {"requester_id": "x"}}).json()
    assert decision["model_version"] == service.loaded.models.versions()["canary"]
    service.loaded.recorder.flush()
    (row,) = service.loaded.recorder.store.predictions()
    assert (row["id"], row["role"], row["model_version"]) == (
        decision["id"],
        "canary",
        decision["model_version"],
    )


def test_an_erroring_canary_is_answered_live_then_stopped_with_an_alert(
    make_client, other_model
) -> None:
    client = make_client(
        canary_model_dir=other_model, canary_share=1.0, canary_min_requests=10, api_token=TOKEN
    )
    service = _service(client)
    models = service.loaded.models
    canary_version = models.versions()["canary"]
    service.swap(replace(models, canary=_Crashing(models.canary)))
    keyed = {**TICKET, "metadata": {"requester_id": "customer-7"}}
    for _ in range(15):
        response = client.post("/v1/triage", json=keyed)
        assert response.status_code == 200
        assert response.json()["model_version"] == service.model_version
    assert service.loaded.models.canary is None
    assert service.canary_alert == ("error_rate", canary_version)
    ready = client.get("/readyz").json()
    assert ready["versions"]["canary"] is None
    metrics = client.get("/metrics").text
    assert 'triage_canary_stops_total{reason="error_rate"} 1.0' in metrics
    assert f'triage_canary_alert{{reason="error_rate",version="{canary_version}"}} 1.0' in metrics
    assert 'triage_model_events_total{event="canary_errors"} 10.0' in metrics
    page = client.get("/dashboard").text
    assert f"ALERT: a guard rail stopped canary {canary_version} (error_rate)" in page
    # a reload of the same directories does not bring the stopped canary back
    reloaded = client.post(
        "/v1/admin/reload", headers={"authorization": f"Bearer {TOKEN}"}, json={}
    )
    assert reloaded.status_code == 200
    assert reloaded.json()["versions"]["canary"] is None


def test_promotion_by_reload_swaps_under_load_with_no_failed_request(
    make_client, sample_model, other_model, tmp_path
) -> None:
    # GIVEN a service serving the folder a symlink points at, under 4 clients' steady load
    current = tmp_path / "current"
    current.symlink_to(sample_model)
    client = make_client(model_dir=current, api_token=TOKEN)
    service = _service(client)
    first = service.model_version
    statuses: Counter[int] = Counter()
    versions: Counter[str] = Counter()
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            response = client.post("/v1/triage", json=TICKET)
            statuses[response.status_code] += 1
            versions[response.json().get("model_version", "none")] += 1

    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    admin = {"authorization": f"Bearer {TOKEN}"}
    try:
        # WHEN the symlink is moved to the new version and the service told to reload, twice
        swaps = []
        for target in (other_model, sample_model, other_model):
            time.sleep(0.3)
            current.unlink()
            current.symlink_to(target)
            response = client.post("/v1/admin/reload", headers=admin, json={})
            assert response.status_code == 200
            swaps.append(service.last_swap_seconds)
        time.sleep(0.3)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    # THEN every request was answered, by one version or the other, and the last one serves
    assert set(statuses) == {200}
    second = service.model_version
    assert second != first
    assert set(versions) == {first, second}
    assert all(0 < seconds < 30 for seconds in swaps)
    # a broken version is refused: the old one keeps serving and /readyz says why
    broken = tmp_path / "broken"
    shutil.copytree(sample_model, broken)
    (broken / "model.json").write_text("{}")
    current.unlink()
    current.symlink_to(broken)
    refused = client.post("/v1/admin/reload", headers=admin, json={})
    assert refused.status_code == 409
    assert "reload failed" in refused.json()["detail"]
    assert client.post("/v1/triage", json=TICKET).json()["model_version"] == second
    assert "reload failed" in client.get("/readyz").json()["detail"]
    assert "triage_model_reload_ok 0.0" in client.get("/metrics").text


def test_admin_reload_needs_a_configured_token(make_client) -> None:
    client = make_client()
    assert client.post("/v1/admin/reload", json={}).status_code == 403
    protected = make_client(api_token=TOKEN)
    assert protected.post("/v1/admin/reload", json={}).status_code == 401


def test_the_registry_pointers_drive_the_versions_without_a_restart(
    make_client, sample_model, other_model, tmp_path
) -> None:
    from ticket_triage.registry import Registry

    # GIVEN a registry with two versions, the first live, and a service polling it
    registry = Registry.open(tmp_path / "registry")
    first, second = (registry.add(m, by="test").version for m in (sample_model, other_model))
    registry.promote(first, by="test")
    client = make_client(
        registry=str(tmp_path / "registry"),
        registry_poll_seconds=0.05,
        registry_cache=tmp_path / "cache",
        canary_min_requests=5,
    )
    service = _service(client)
    version_of = {first: Pipeline.load(sample_model).model.version}
    version_of[second] = Pipeline.load(other_model).model.version
    assert service.model_version == version_of[first]
    keyed = {**TICKET, "metadata": {"requester_id": "customer-9"}}
    # WHEN the second version becomes the canary for every key, then live, then is rolled back
    registry.set_canary(second, share=1.0, by="test")
    _wait(lambda: service.loaded.models.versions()["canary"] == version_of[second])
    assert client.post("/v1/triage", json=keyed).json()["model_version"] == version_of[second]
    registry.set_canary(None, by="test")
    registry.promote(second, by="test")
    _wait(lambda: service.model_version == version_of[second])
    registry.rollback(by="test")
    _wait(lambda: service.model_version == version_of[first])
    # AND a canary that errors is stopped by the guard rail, and the registry records why
    registry.set_canary(second, share=1.0, by="test")
    _wait(lambda: service.loaded.models.canary is not None)
    models = service.loaded.models
    service.swap(replace(models, canary=_Crashing(models.canary)))
    for _ in range(6):
        assert client.post("/v1/triage", json=keyed).status_code == 200
    _wait(lambda: registry.pointers().canary is None)
    stop = registry.pointers().history[-1]
    assert (stop.version, stop.reason) == (second, "error_rate")
    assert service.loaded.models.canary is None
    assert service.reload_error is None
