"""BENCHMARKS.md is built from the prose template and the scripts' results, never edited by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
ASSEMBLE = ROOT / "benchmarks" / "assemble.py"
sys.path.insert(0, str(ROOT / "benchmarks"))

from _report import Target, publish  # noqa: E402
from assemble import MissingResult, assemble  # noqa: E402


def test_benchmarks_md_is_what_the_results_give() -> None:
    """A number in BENCHMARKS.md is one a script wrote to benchmarks/results, with its command."""
    result = subprocess.run(
        [sys.executable, str(ASSEMBLE), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_sections_and_targets_come_from_the_published_results(tmp_path: Path) -> None:
    # GIVEN two scripts' published results, one target met and one not
    publish(tmp_path, "http", "| p99 | 3.0 ms |", [Target("HTTP p99 <= 5 ms", "3.0 ms", True)])
    publish(tmp_path, "lambda", "init table", [Target("init <= 300 ms", "370 ms", False)])
    template = "# B\n\n{{targets}}\n\n## HTTP\n\n{{http}}\n\n## Lambda\n\n{{lambda}}\n"
    # WHEN the document is assembled
    text = assemble(template, tmp_path)
    # THEN each section holds its script's text, and the summary lists both targets in order
    assert "## HTTP\n\n| p99 | 3.0 ms |\n\n## Lambda\n\ninit table\n" in text
    date = json.loads((tmp_path / "http.json").read_text())["date"]
    assert f"| HTTP p99 <= 5 ms | 3.0 ms | met | {date} (http) |" in text
    assert f"| init <= 300 ms | 370 ms | **NOT met** | {date} (lambda) |" in text
    assert text.index("HTTP p99") < text.index("init <= 300")


def test_a_section_without_results_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(MissingResult, match=r"no results for: scale \(run `make bench`"):
        assemble("{{targets}}\n{{scale}}\n", tmp_path)


def test_a_numpy_verdict_is_published_as_json(tmp_path: Path) -> None:
    """Scripts compare numpy numbers, so ``met`` is often ``numpy.bool_``."""
    publish(tmp_path, "latency", "text", [Target("p50", "12 us", np.float64(12) <= 50)])
    assert json.loads((tmp_path / "latency.json").read_text())["targets"][0]["met"] is True


def test_publish_without_a_results_folder_writes_nothing(tmp_path: Path) -> None:
    publish(None, "http", "text", [Target("t", "m", True)])
    assert list(tmp_path.iterdir()) == []
