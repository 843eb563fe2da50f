"""Fixtures of the connectors' tests: the fake help desks on loopback and a service connected to
them (``helpers.py`` and ``fake_helpdesk.py`` are importable from the tests)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
from fake_helpdesk import FakeHelpDesk
from helpers import SECRETS, basic, connectors_toml

from ticket_triage.serving.api import create_app
from ticket_triage.serving.settings import Settings


@pytest.fixture
def fakes() -> Iterator[dict[str, FakeHelpDesk]]:
    """The three help desks, empty, each checking our credentials like the real one."""
    desks = {
        "zendesk": FakeHelpDesk(
            "zendesk", credentials=basic("bot@example.com/token", SECRETS["zendesk_api_token"])
        ),
        "freshdesk": FakeHelpDesk(
            "freshdesk", credentials=basic(SECRETS["freshdesk_api_key"], "X")
        ),
        "github": FakeHelpDesk("github", credentials=f"Bearer {SECRETS['github_token']}"),
    }
    for desk in desks.values():
        desk.start()
    yield desks
    for desk in desks.values():
        desk.stop()


@pytest.fixture
def connectors_file(fakes: dict[str, FakeHelpDesk], tmp_path: Path) -> Path:
    path = tmp_path / "connectors.toml"
    path.write_text(connectors_toml(fakes))
    return path


@pytest.fixture
def connected(
    sample_model: Path, connectors_file: Path, tmp_path: Path
) -> Iterator[Callable[..., TestClient]]:
    """``connected(**settings)``: a running app with the three help desks connected (its outbox
    worker thread included), over its own SQLite store; closed at the end of the test."""
    clients: list[TestClient] = []

    def build(**overrides: Any) -> TestClient:
        settings = Settings(**{
            "model_dir": sample_model,
            "database_url": f"sqlite:///{tmp_path / f'triage{len(clients)}.db'}",
            "spool_path": tmp_path / "spool.jsonl",
            "connectors_file": connectors_file,
            "connectors_retry_base": 0.2,
            "connectors_retry_cap": 1.0,
            **SECRETS,
            **overrides,
        })  # fmt: skip
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)
