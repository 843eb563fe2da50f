"""Shared fixtures: where the public datasets live, and a rule for when they are absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """``../shared/datasets``: required under CI, skipped only on a machine without it."""
    if not SHARED_DATASETS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED_DATASETS} is missing; CI must run beside ../shared")
        pytest.skip(f"{SHARED_DATASETS} not present on this machine")
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def sample_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained once per test run on the first 1,200 bundled sample tickets (~2 s)."""
    import pandas as pd

    from ticket_triage.sample import SAMPLE_TICKETS
    from ticket_triage.training.config import TrainConfig
    from ticket_triage.training.train import train

    directory = tmp_path_factory.mktemp("sample_model")
    sample = pd.read_csv(str(SAMPLE_TICKETS), dtype=str)
    data = directory / "tickets.csv"
    sample.iloc[:1200].to_csv(data, index=False)
    train(data, directory / "model", TrainConfig())
    return directory / "model"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, and the real PostgreSQL server of
    ``TRIAGE_TEST_DATABASE_URL`` (``scripts/test-postgres.sh`` starts one; ``.ci/run`` does)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'triage.db'}"
    url = os.environ.get("TRIAGE_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("TRIAGE_TEST_DATABASE_URL is not set; .ci/run starts PostgreSQL")
        pytest.skip("no PostgreSQL server (run scripts/test-postgres.sh and export its URL)")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:  # a clean slate: earlier tests' tables go
        connection.execute(text("DROP TABLE IF EXISTS feedback, predictions, alembic_version"))
    engine.dispose()
    return url
