"""``benchmarks/get_banking77.py``: the pinned files become the data contract with their
provenance, and anything but the pinned bytes is refused before a file is written."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "get_banking77.py"
SOURCE_ROWS = {
    "train.csv": (
        "text,category\nI am still waiting on my card?,card_arrival\n"
        '"Lost it, help",lost_or_stolen_card\n'
    ),
    "test.csv": "text,category\nHow do I top up?,top_up_by_card_charge\n",
}


def _source(tmp_path: Path) -> Path:
    folder = tmp_path / "task-specific-datasets" / "banking_data"
    folder.mkdir(parents=True)
    for name, text in SOURCE_ROWS.items():
        (folder / name).write_text(text)
    return folder.parent


def test_other_bytes_than_the_pinned_ones_are_refused(tmp_path: Path) -> None:
    dest = tmp_path / "banking77"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--source", str(_source(tmp_path)), "--dest", str(dest)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "is not the pinned" in run.stderr
    assert "Traceback" not in run.stderr
    assert not dest.exists()


def test_the_pinned_files_become_the_data_contract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the script with the fake source's digests and row counts as the pinned ones
    spec = importlib.util.spec_from_file_location("get_banking77", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, text in SOURCE_ROWS.items():
        monkeypatch.setitem(module.SHA256, name, hashlib.sha256(text.encode()).hexdigest())
        monkeypatch.setitem(module.ROWS, name, text.count("\n") - 1)
    dest = tmp_path / "banking77"
    argv = ["get_banking77.py", "--source", str(_source(tmp_path)), "--dest", str(dest)]
    monkeypatch.setattr(sys, "argv", argv)
    # WHEN it runs
    module.main()
    # THEN each file is subject, body, topic; the README names the source and the licence
    with (dest / "train.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows == [
        {"subject": "", "body": "I am still waiting on my card?", "topic": "card_arrival"},
        {"subject": "", "body": "Lost it, help", "topic": "lost_or_stolen_card"},
    ]
    readme = (dest / "README.md").read_text()
    assert "57ec275" in readme
    assert "Attribution 4.0" in readme
