"""The Lambda deployment package for ``lambda_latency.py``: built, stripped of its C featuriser
for the comparison, timed from its unpacked tree, and sized for the runtime's two architectures.

The package that runs here is built for this interpreter (3.11), on which the stable-ABI
``_featurize.abi3.so`` cross-compiled for Lambda loads as it does on the runtime's 3.13; the one
that is sized is the real target (the template's Python, x86_64 and arm64), which cannot run
here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BUILDER = ROOT / "deploy" / "build_lambda.py"
FEATURIZER = Path("ticket_triage") / "core" / "_featurize.abi3.so"
ARCHITECTURES = ("x86_64", "arm64")


@dataclass(frozen=True)
class Invoke:
    """Warm invoke latency, in milliseconds."""

    invokes: int
    p50_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class Size:
    """One deployment zip for the runtime: its architecture and sizes in bytes."""

    arch: str
    python: str
    zip_bytes: int
    unpacked_bytes: int


# The warm invoke loop, run from the deployment package in a child interpreter; it reports which
# featuriser served (the shipped .abi3.so, or none: the pure-Python path).
PACKAGE_INVOKE = """\
import json, sys, time, types
sys.path.insert(0, {package!r})
import ticket_triage.aws_lambda as app
from ticket_triage.core.features import COMPILED
compiled = sys.modules.get("ticket_triage.core._featurize")
events = [json.loads(line) for line in sys.stdin]
context = types.SimpleNamespace(aws_request_id="benchmark")
times = []
for i in range({warmup} + {n}):
    started = time.perf_counter_ns()
    status = app.handler(events[i % len(events)], context)["statusCode"]
    times.append((time.perf_counter_ns() - started) / 1e6)
    if status != 200:
        raise SystemExit(f"invoke answered {{status}}")
print(json.dumps({{"times": times[{warmup}:], "compiled": COMPILED,
                   "featurizer": getattr(compiled, "__file__", None)}}))
"""


def _build(model: Path, archive: Path, *options: str) -> None:
    """``deploy/build_lambda.py`` for ``model`` into ``archive``, with extra ``options``."""
    command = [sys.executable, str(BUILDER), "--model", str(model), "--out", str(archive)]
    subprocess.run([*command, *options], check=True, capture_output=True)


def build_package(model: Path, directory: Path) -> Path:
    """The Lambda package for this interpreter (x86_64), unpacked into ``directory``/package."""
    archive = directory / "lambda.zip"
    local = f"{sys.version_info.major}.{sys.version_info.minor}"
    _build(model, archive, "--python-version", local)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(directory / "package")
    return directory / "package"


def without_featurizer(package: Path, directory: Path) -> Path:
    """A copy of the unpacked package without the C featuriser: the pure-Python path, as every
    Lambda package was before the cross-compiled extension."""
    copy = directory / "package-pure-python"
    shutil.copytree(package, copy)
    (copy / FEATURIZER).unlink()
    return copy


def package_invokes(
    package: Path,
    events: list[dict[str, Any]],
    n: int,
    env: dict[str, str],
    warmup: int,
    compiled: bool,
) -> Invoke:
    """Warm invoke latency of the handler running from the unpacked package; raises unless the
    featuriser that served is the one expected (the package's .abi3.so, or none)."""
    script = PACKAGE_INVOKE.format(package=str(package), warmup=warmup, n=n)
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script],
        input="\n".join(json.dumps(e) for e in events),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    expected = str(package / FEATURIZER) if compiled else None
    if result["compiled"] is not compiled or result["featurizer"] != expected:
        raise RuntimeError(f"{package}: featuriser {result['featurizer']}, expected {expected}")
    ms = result["times"]
    p50, p99 = np.percentile(ms, [50, 99])
    return Invoke(len(ms), float(p50), float(p99), max(ms))


def runtime_sizes(model: Path, directory: Path) -> list[Size]:
    """The zip for the template's Python, per architecture, as `make lambda-package` builds it."""
    template = (ROOT / "deploy" / "template.yaml").read_text()
    python = re.findall(r"^\s*Runtime:\s*python(\d+\.\d+)\s*$", template, re.M)[0]
    sizes = []
    for arch in ARCHITECTURES:
        archive = directory / f"lambda-{arch}.zip"
        _build(model, archive, "--arch", arch)
        with zipfile.ZipFile(archive) as zipped:
            unpacked = sum(info.file_size for info in zipped.infolist())
        sizes.append(Size(arch, python, archive.stat().st_size, unpacked))
    return sizes
