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
