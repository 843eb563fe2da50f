"""What one run of ``compare.py`` works on and finds: a dataset's split and a system's result.

Its own module because both the measuring (``compare.py``) and the report (``_compare_report.py``)
use them, and the report must not import the script that imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ticket_triage.training.data import Tickets


@dataclass
class Split:
    """One dataset's rows: fit (80% of train), validation (20% of train), test."""

    name: str
    fit: Tickets
    validation: Tickets
    test: Tickets
    heads: list[str]
    test_repos: list[str] = field(default_factory=list)  # NLBSE only
    train: Tickets | None = None  # NLBSE only: the whole official train.csv, for per-repo models
    train_repos: list[str] = field(default_factory=list)


@dataclass
class Result:
    """Everything measured for one system on one dataset (or why it was not)."""

    system: str
    status: str = "ok"  # "ok", "not installed (make bench-env)", "failed: ..."
    heads: dict[str, dict[str, Any]] = field(default_factory=dict)
    fit_seconds: float = 0.0
    size: int = 0
    latency_us: np.ndarray = field(default_factory=lambda: np.zeros(0))
    throughput: float = 0.0
    cold_start: float = 0.0
    per_repo: dict[str, float] = field(default_factory=dict)
    pooled_per_repo: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
