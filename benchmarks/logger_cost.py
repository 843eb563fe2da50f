"""What the Powertools for AWS Lambda logger would cost the Lambda package: size and cold start.

    python benchmarks/logger_cost.py [--runs 15]

Installs aws-lambda-powertools (with uv, into a temporary folder: it is not a dependency), then in
fresh interpreters that have already imported FastAPI and pydantic (as the handler has), times
``from aws_lambda_powertools import Logger; Logger(service=...)`` against the standard-library JSON
logging ``ticket_triage.serving.logs.configure_logging`` sets up, alternating the two. Prints the
unpacked size and the median extra milliseconds. The result decided ``ticket_triage.serving.logs``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from _report import machine, publish, versions

ROOT = Path(__file__).resolve().parents[1]
VERSION = "3.37.0"

PROBE = """
import sys, time
sys.path.append({extra!r})
import fastapi, pydantic, mangum
start = time.perf_counter()
{setup}
print((time.perf_counter() - start) * 1000)
"""
POWERTOOLS = "from aws_lambda_powertools import Logger\nLogger(service='triage')"
STDLIB = "from ticket_triage.serving.logs import configure_logging\nconfigure_logging('INFO')"


def _uv() -> str:
    for candidate in (str(ROOT / ".tools" / "bin" / "uv"), "uv"):
        if shutil.which(candidate):
            return candidate
    raise SystemExit("uv not found: run `make env` first")


def _time(setup: str, extra: str) -> float:
    code = PROBE.format(extra=extra, setup=setup)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    """Measure and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--results", type=Path, help="keep the section here for assemble.py")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as target:
        subprocess.run(
            [_uv(), "pip", "install", "--quiet", "--target", target,
             f"aws-lambda-powertools=={VERSION}"],
            check=True,
        )  # fmt: skip
        size = sum(p.stat().st_size for p in Path(target).rglob("*") if p.is_file())
        powertools, stdlib = [], []
        for _ in range(args.runs):
            powertools.append(_time(POWERTOOLS, target))
            stdlib.append(_time(STDLIB, target))
    megabytes, median = size / 1024 / 1024, statistics.median(powertools)
    text = "\n".join(
        [
            f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}; {versions(['fastapi'])}, "
            f"aws-lambda-powertools {VERSION}; `python benchmarks/logger_cost.py --runs "
            f"{args.runs}` ({args.runs} fresh interpreters each, alternating).",
            "",
            "| logger | added to the package | import + set-up, median |",
            "|---|---:|---:|",
            f"| Powertools `Logger` | {megabytes:.1f} MB | {median:.1f} ms |",
            f"| stdlib JSON (`ticket_triage.serving.logs`) | 0 MB "
            f"| {statistics.median(stdlib):.1f} ms |",
        ]
    )
    print(text)
    publish(args.results, "logger", text)


if __name__ == "__main__":
    main()
