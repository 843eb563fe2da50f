"""What every benchmark prints beside its numbers: the machine, the versions, the verdicts."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path


def machine() -> str:
    """CPU model and cores, for the record (the numbers depend on them)."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        if names:
            model = names[0].split(":", 1)[1].strip()
    return f"{model}, {os.cpu_count()} cores, {platform.machine()}"


def versions(packages: Iterable[str]) -> str:
    """The interpreter and the installed versions of ``packages``."""
    return f"{platform.python_implementation()} {platform.python_version()}, " + ", ".join(
        f"{name} {version(name)}" for name in packages
    )


def verdict(met: bool) -> str:
    """How a target is reported."""
    return "met" if met else "NOT met"


@dataclass(frozen=True)
class Target:
    """One target of an issue, as measured: what BENCHMARKS.md's summary table lists."""

    target: str
    measured: str
    met: bool


def publish(results: Path | None, name: str, markdown: str, targets: Sequence[Target] = ()) -> None:
    """Keep a run's section for ``benchmarks/assemble.py``, which rebuilds BENCHMARKS.md.

    ``<results>/<name>.md`` is the section's measured part (tables and the sentences that carry
    numbers); ``<results>/<name>.json`` its targets and date, for the summary at the top. A
    script that is not rerun keeps its last files, which carry their own date and command.
    """
    if results is None:
        return
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{name}.md").write_text(markdown.rstrip() + "\n")
    # ``met`` is often a numpy bool, which json cannot write.
    rows = [{**asdict(t), "met": bool(t.met)} for t in targets]
    record = {"date": f"{datetime.now(UTC):%Y-%m-%d}", "targets": rows}
    (results / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
