"""``benchmarks/scale.py`` end to end at toy sizes: it generates data, trains through the real
``triage train`` (in memory and ``--streaming``), scores through ``triage predict``, and writes
markdown tables and a plot with plausible numbers, and its two sections for assemble.py. The full
run (1M tickets) is for BENCHMARKS.md.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCALE = ROOT / "benchmarks" / "scale.py"


def test_scale_script_writes_table_and_plot(shared_datasets: Path, tmp_path: Path) -> None:
    # GIVEN tiny sizes, the larger one trained with --streaming
    table, figure, work = tmp_path / "tables.md", tmp_path / "scale.png", tmp_path / "work"
    command = [sys.executable, str(SCALE), "--sizes", "2000,3000", "--predict-rows", "5000"]
    command += ["--streaming-from", "3000", "--workdir", str(work)]
    command += ["--markdown", str(table), "--plot", str(figure), "--results", str(tmp_path)]

    # WHEN the script runs as a person runs it
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)

    # THEN it succeeds and the table has one row per size, with the mode, the command and machine
    assert run.returncode == 0, run.stdout + run.stderr
    text = table.read_text()
    assert "python benchmarks/scale.py --sizes 2000,3000" in text
    assert "synthetic scale-up" in text
    assert "cores" in text
    assert "scikit-learn" in text
    rows = re.findall(
        r"^\| ([\d,]+) \| (in memory|streaming) \| ([\d.]+) s \| ([\d.]+) GB \|", text, re.M
    )
    assert [(size, mode) for size, mode, _, _ in rows] == [
        ("2,000", "in memory"),
        ("3,000", "streaming"),
    ]
    for _, _, seconds, rss in rows:
        assert 0.5 < float(seconds) < 300
        assert (
            0.05 < float(rss) < 4
        )  # a Python process with numpy and scikit-learn, well under 4 GB
    # AND the predict rows report a rate for 5,000 tickets, scoring only and end to end
    rates = re.findall(
        r"^\| (scoring only|end to end)[^|]*\| 5,000 \| [\d.]+ \| ([\d,]+) \|", text, re.M
    )
    assert [kind for kind, _ in rates] == ["scoring only", "end to end"]
    assert all(int(rate.replace(",", "")) > 100 for _, rate in rates)
    # AND the plot is a real PNG, and the generated data stayed in the work directory
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert figure.stat().st_size > 5_000
    assert (work / "tickets_5000.csv").is_file()
    # AND the sections for assemble.py are the training table (no target without the 1M size)
    # and the scoring table with issue 11's targets
    training, scoring = (tmp_path / "scale.md").read_text(), (tmp_path / "scale_predict.md")
    assert training.rstrip("\n") + "\n\n" + scoring.read_text() == text
    assert json.loads((tmp_path / "scale.json").read_text())["targets"] == []
    recorded = json.loads((tmp_path / "scale_predict.json").read_text())["targets"]
    assert [t["target"].split(" (")[0] for t in recorded] == [
        "`triage predict` scoring only",
        "`triage predict` end to end",
    ]
    assert not list((ROOT / "benchmarks").glob("tickets_*.csv"))
