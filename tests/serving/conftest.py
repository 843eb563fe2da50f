"""Fixtures for the API and Lambda tests: an app over the session's sample model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ticket_triage.serving.api import create_app
from ticket_triage.serving.settings import Settings

TOKEN = "s3cret-token-for-tests-only"


@pytest.fixture(scope="session")
def make_client(
    sample_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., TestClient]:
    """A TestClient over a fresh app with its own SQLite store; keyword arguments override
    settings (``database_url=None`` for none)."""

    def build(**overrides: Any) -> TestClient:
        directory = tmp_path_factory.mktemp("app")
        defaults = {
            "model_dir": sample_model,
            "database_url": f"sqlite:///{directory / 'triage.db'}",
            "spool_path": directory / "spool.jsonl",
        }
        settings = Settings(**{**defaults, **overrides})
        return TestClient(create_app(settings), raise_server_exceptions=False)

    return build


@pytest.fixture(scope="session")
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """The app with default settings (no token)."""
    return make_client()
