"""Fixtures of the deploy tests: deploy/cross_compile.py loaded once as a module."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cross_compile() -> ModuleType:
    """deploy/cross_compile.py as a module (deploy/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(
        "cross_compile", ROOT / "deploy" / "cross_compile.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
