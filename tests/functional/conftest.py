"""Fixtures for the API and Lambda tests: an app over the session's sample model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ticket_triage.api import create_app
from ticket_triage.settings import Settings

TOKEN = "s3cret-token-for-tests-only"


@pytest.fixture(scope="session")
def make_client(sample_model: Path) -> Callable[..., TestClient]:
    """A TestClient over a fresh app; keyword arguments override settings."""

    def build(**overrides: Any) -> TestClient:
        settings = Settings(**{"model_dir": sample_model, **overrides})
        return TestClient(create_app(settings), raise_server_exceptions=False)

    return build


@pytest.fixture(scope="session")
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """The app with default settings (no token)."""
    return make_client()
