"""What every benchmark prints beside its numbers: the machine, the versions, the verdicts."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable
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
