"""The Lambda handler: warm invoke latency in-process, and cold init in fresh interpreters, each
beside a comparable FastAPI + Mangum app that predicts with scikit-learn.

Targets of the serving issue: a warm invoke of ``ticket_triage.aws_lambda.handler`` with an
HTTP API (v2) event carrying a ticket, p99 <= 1 ms; cold init (the handler module imported, the
model loaded and verified, the app built) median <= 300 ms.

- Invoke: both handlers imported into this process, each called with real API Gateway payloads
  (``../shared/lambda_events``: HTTP API v2 and REST v1) carrying tickets of the bundled sample
  data, in alternating blocks (three rounds of: ours v2, ours v1, baseline v2, baseline v1) so
  that the machine's other load lands on all four. This is the handler's own time: no Lambda
  runtime, no network.
- Cold init: a new interpreter per run, alternating ours (from the deployment package, with its
  cross-compiled C featuriser and from a copy without it, the pure-Python path) and the
  baseline, that times (with
  ``time.perf_counter`` from the top of its script) the third-party imports each module needs,
  then the module import itself (own modules, model load, app build), then the first invocation
  (lazy work that only the first request pays). The parent also times the whole process, from
  spawn to exit, which adds interpreter start-up and teardown. Files come from the page cache, as
  after the first run; a Lambda cold start also reads them from disk and starts the runtime.
- Invoke from the package: the same warm loop in a child interpreter running from the package,
  once on its ``_featurize.abi3.so`` and once on the copy without it (each checked).
- Package sizes: the zips `make lambda-package` builds for the template's Python, x86_64 and
  arm64 (``benchmarks/_lambda_package.py``).

The baseline (``benchmarks/_sklearn_app.py``) is fitted here, per head, on tickets of the sample
data and saved with joblib into a temporary directory. Its latency and init depend on the shape
of the model (2**20 hashed features times the classes), not on how much data it saw, so it is
fitted on a subset (``--baseline-rows``) to keep the run short; and it is a plain logistic
regression, lighter than the calibrated one of ``inference_latency.py`` (5 copies per head).

``TRIAGE_LOG_LEVEL=WARNING`` everywhere: the per-decision INFO line is priced by
``http_latency.py``.

Usage::

    python benchmarks/lambda_latency.py --model models/default [--requests 5000] [--runs 15]
        [--baseline-rows 1200] [--json OUT]
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from _lambda_package import (
    Invoke,
    build_package,
    package_invokes,
    runtime_sizes,
    without_featurizer,
)
from _report import Target, machine, publish, verdict, versions

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = Path(__file__).resolve().parent
EVENTS = ROOT.parent / "shared" / "lambda_events"
SAMPLE = ROOT / "src" / "ticket_triage" / "sample" / "tickets.csv"
KINDS = {"HTTP API v2": "api_gateway_http_v2", "REST v1": "api_gateway_rest_v1"}
TARGET_INVOKE_P99_MS, TARGET_INIT_MS = 1.0, 300.0
WARMUP = 200

Handler = Callable[[Mapping[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class App:
    """A Lambda handler module and the third-party packages it imports (timed separately)."""

    name: str
    module: str
    deps: str


OURS = App(
    "ticket-triage", "ticket_triage.serving.aws_lambda", "fastapi, mangum, numpy, pydantic_settings"
)
OURS_PURE = App(f"{OURS.name}, pure Python", OURS.module, OURS.deps)
PACKAGES = ("fastapi", "mangum", "pydantic", "numpy", "scikit-learn", "ticket-triage")
BASELINE = App(
    "scikit-learn baseline",
    "_sklearn_app",
    "fastapi, mangum, numpy, joblib, sklearn.feature_extraction.text, sklearn.linear_model, "
    "sklearn.pipeline",
)

# Run with ``python -c`` in a fresh interpreter; prints its timings as the last line of stdout.
CHILD = """\
import time
started = time.perf_counter()
import sys
sys.path[:0] = {path!r}
import {deps}
deps = time.perf_counter()
import {module} as app
imported = time.perf_counter()
import json, sys, types
event = json.loads(sys.argv[1])
context = types.SimpleNamespace(aws_request_id="cold-start")
before = time.perf_counter()
status = app.handler(event, context)["statusCode"]
first = time.perf_counter()
print(json.dumps({{
    "deps": deps - started, "module": imported - deps, "first": first - before, "status": status
}}))
"""


def tickets(n: int = 300) -> list[dict[str, Any]]:
    """``n`` tickets spread over the sample file, as API request bodies."""
    from ticket_triage.training.data import read_tickets

    rows = read_tickets(SAMPLE, require_labels=False).tickets
    return rows[:: max(1, len(rows) // n)][:n]


def http_event(kind: str, ticket: Mapping[str, Any]) -> dict[str, Any]:
    """The shared payload of ``kind`` turned into ``POST /v1/triage`` with ``ticket`` as body
    (as ``tests/serving/test_aws_lambda.py`` does)."""
    event = copy.deepcopy(json.loads((EVENTS / f"{kind}.json").read_text()))
    body = json.dumps(ticket)
    if event.get("version") == "2.0":
        event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/triage"
        event["requestContext"]["http"]["method"] = "POST"
        event["rawQueryString"], event["queryStringParameters"] = "", None
        event["headers"] = {"content-type": "application/json"}
    else:
        event["path"] = event["resource"] = event["requestContext"]["path"] = "/v1/triage"
        event["httpMethod"] = event["requestContext"]["httpMethod"] = "POST"
        event["headers"] = {"Content-Type": "application/json"}
        event["multiValueHeaders"] = {"Content-Type": ["application/json"]}
        event["queryStringParameters"] = event["multiValueQueryStringParameters"] = None
    event["body"], event["isBase64Encoded"] = body, False
    return event


def fit_baseline(directory: Path, rows: int) -> float:
    """Fit the baseline's pipeline per head on ``rows`` sample tickets, save them into
    ``directory`` as ``<head>.joblib``; seconds taken."""
    import joblib
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from ticket_triage.training.data import read_tickets

    data = read_tickets(SAMPLE)
    step = max(1, len(data.tickets) // rows)
    texts = [f"{t['subject']} {t['body']}" for t in data.tickets[::step][:rows]]  # as the app
    started = time.perf_counter()
    for head, labels in data.labels.items():
        pipeline = Pipeline(
            [
                ("hash", HashingVectorizer(ngram_range=(1, 2), alternate_sign=False)),
                ("clf", LogisticRegression(class_weight="balanced", max_iter=1000)),
            ]
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipeline.fit(texts, labels[::step][:rows])
        joblib.dump(pipeline, directory / f"{head}.joblib")
    return time.perf_counter() - started


@dataclass(frozen=True)
class Cold:
    """Medians over the fresh interpreters, in milliseconds."""

    runs: int
    deps_ms: float
    module_ms: float
    init_ms: float
    first_invoke_ms: float
    process_ms: float


@dataclass(frozen=True)
class Launch:
    """How a child interpreter runs one app: interpreter flags and ``sys.path`` entries."""

    flags: tuple[str, ...]
    path: tuple[str, ...]


def cold_starts(
    apps: list[tuple[App, Launch]],
    event: dict[str, Any],
    runs: int,
    env: dict[str, str],
    cache: Path | None,
) -> list[Cold]:
    """``runs`` fresh interpreters per app, alternating apps; medians per app. With ``cache``,
    bytecode is cached there (a first, untimed run per app fills it); without, every module is
    compiled at import and nothing is written."""
    samples: list[list[dict[str, float]]] = [[] for _ in apps]
    for run in range(-1 if cache else 0, runs):
        for (app, launch), out in zip(apps, samples, strict=True):
            if cache:
                bytecode = ["-X", f"pycache_prefix={cache / app.module}"]
            else:
                bytecode = ["-B", "-X", f"pycache_prefix={tempfile.mkdtemp()}"]
            script = CHILD.format(path=list(launch.path), deps=app.deps, module=app.module)
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, *launch.flags, *bytecode, "-c", script, json.dumps(event)],
                capture_output=True,
                text=True,
                env=env,
                cwd=ROOT,
                check=True,
            )
            wall = time.perf_counter() - started
            result = json.loads(done.stdout.splitlines()[-1])
            if result["status"] != 200:
                raise RuntimeError(f"{app.name}: first invoke answered {result['status']}")
            if run >= 0:
                out.append({**result, "wall": wall})
    cold = []
    for timings in samples:
        median = {key: 1000 * statistics.median(t[key] for t in timings) for key in timings[0]}
        init = 1000 * statistics.median(t["deps"] + t["module"] for t in timings)
        cold.append(
            Cold(runs, median["deps"], median["module"], init, median["first"], median["wall"])
        )
    return cold


def invoke_latency(
    handlers: dict[str, Handler], events: dict[str, list[dict[str, Any]]], n: int, rounds: int = 3
) -> dict[tuple[str, str], Invoke]:
    """``n`` invokes per (app, event kind) after a warm-up, in alternating blocks."""
    context = SimpleNamespace(aws_request_id="benchmark")
    clock = time.perf_counter_ns

    def block(handler: Handler, kind_events: list[dict[str, Any]], count: int) -> list[float]:
        out = []
        for i in range(count):
            event = kind_events[i % len(kind_events)]
            started = clock()
            status = handler(event, context)["statusCode"]
            out.append((clock() - started) / 1e6)
            if status != 200:
                raise RuntimeError(f"invoke answered {status}")
        return out

    pairs = [(app, kind) for app in handlers for kind in events]
    for app, kind in pairs:
        block(handlers[app], events[kind], WARMUP)
    timings: dict[tuple[str, str], list[float]] = {pair: [] for pair in pairs}
    for r in range(rounds):
        for app, kind in pairs:
            count = (r + 1) * n // rounds - r * n // rounds
            timings[app, kind] += block(handlers[app], events[kind], count)
    result = {}
    for pair, ms in timings.items():
        p50, p99 = np.percentile(ms, [50, 99])
        result[pair] = Invoke(len(ms), float(p50), float(p99), max(ms))
    return result


def load_handlers(env: dict[str, str]) -> dict[str, Handler]:
    """Import both handler modules into this process, with ``env`` as their environment."""
    os.environ.update(env)
    sys.path.insert(0, str(BENCHMARKS))
    return {app.name: importlib.import_module(app.module).handler for app in (OURS, BASELINE)}


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 100 else f"{value:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--requests", type=int, default=5000, help="invokes per app and event")
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per app")
    parser.add_argument("--baseline-rows", type=int, default=1200, help="baseline training rows")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--results", type=Path, help="keep the section here for assemble.py")
    args = parser.parse_args()

    sample = tickets()
    events = {kind: [http_event(kind, t) for t in sample] for kind in KINDS.values()}
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        package = build_package(args.model.resolve(), scratch)
        pure = without_featurizer(package, scratch)
        sizes = runtime_sizes(args.model.resolve(), scratch)
        fit_seconds = fit_baseline(scratch, args.baseline_rows)
        baseline_mb = sum(f.stat().st_size for f in scratch.glob("*.joblib")) / 1e6
        env = {
            "TRIAGE_MODEL_DIR": str(args.model.resolve()),
            "TRIAGE_LOG_LEVEL": "WARNING",
            "SKLEARN_BASELINE_DIR": str(scratch),
        }
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        child_env.update(env, TRIAGE_MODEL_DIR=str(package / "model"))
        apps = [
            (OURS, Launch(("-I", "-S"), (str(package),))),
            (OURS_PURE, Launch(("-I", "-S"), (str(pure),))),
            (BASELINE, Launch((), (str(BENCHMARKS),))),
        ]
        first_event = events["api_gateway_http_v2"][0]
        cold = {
            "cached": cold_starts(apps, first_event, args.runs, child_env, scratch / "pyc"),
            "none": cold_starts(apps, first_event, args.runs, child_env, None),
        }
        v2 = events["api_gateway_http_v2"]
        from_package = package_invokes(package, v2, args.requests, child_env, WARMUP, True)
        from_pure = package_invokes(pure, v2, args.requests, child_env, WARMUP, False)
        handlers = load_handlers(env)
        invokes = invoke_latency(handlers, events, args.requests)
    ours_mb = (
        sum((args.model / name).stat().st_size for name in ("model.json", "weights.npz")) / 1e6
    )

    ours_v2 = invokes[OURS.name, KINDS["HTTP API v2"]]
    invoke_met = max(ours_v2.p99_ms, from_package.p99_ms) <= TARGET_INVOKE_P99_MS
    init_met = cold["cached"][0].init_ms <= TARGET_INIT_MS
    shown = os.path.relpath(args.model, ROOT) if args.model.is_absolute() else args.model
    command = f"python benchmarks/lambda_latency.py --model {shown}"
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}; {versions(PACKAGES)}; `{command}` "
        f"({args.requests} warm invokes per app and event after {WARMUP} warm-up, 3 alternating "
        f"rounds; {args.runs} fresh interpreters per app and bytecode mode, alternating). "
        "`TRIAGE_LOG_LEVEL=WARNING`.",
        "",
        "| handler | event | invokes | p50 | p99 | max | p99 <= 1 ms |",
        "|---|---|---:|---:|---:|---:|:---:|",
    ]
    for app in (OURS, BASELINE):
        for label, kind in KINDS.items():
            result = invokes[app.name, kind]
            said = verdict(result.p99_ms <= TARGET_INVOKE_P99_MS) if app is OURS else "-"
            name = f"{app.name} (C featuriser)" if app is OURS else app.name
            lines.append(
                f"| {name} | {label} | {result.invokes} | "
                f"{_ms(result.p50_ms)} | {_ms(result.p99_ms)} | {_ms(result.max_ms)} | {said} |"
            )
        packaged = (("C featuriser, .abi3.so", from_package), ("pure Python", from_pure))
        for label, result in packaged if app is OURS else ():
            said = verdict(result.p99_ms <= TARGET_INVOKE_P99_MS)
            lines.append(
                f"| ticket-triage, from the Lambda package ({label}) | HTTP API v2 | "
                f"{result.invokes} | {_ms(result.p50_ms)} | "
                f"{_ms(result.p99_ms)} | {_ms(result.max_ms)} | {said} |"
            )
    ratio = invokes[BASELINE.name, KINDS["HTTP API v2"]].p50_ms / ours_v2.p50_ms
    lines += [
        "",
        f"Warm invoke, HTTP API v2: the scikit-learn baseline is {ratio:.1f}x ours at p50. From "
        f"the package, the pure-Python path takes {from_pure.p50_ms / from_package.p50_ms:.1f}x "
        f"the shipped C featuriser's p50 ({_ms(from_pure.p50_ms)} vs "
        f"{_ms(from_package.p50_ms)}) and {from_pure.p99_ms / from_package.p99_ms:.1f}x its p99.",
        "",
        "| handler (median of fresh interpreters) | bytecode | third-party imports | handler "
        "module (own code, model load, app build) | init = both | first invoke | whole process "
        "| init <= 300 ms |",
        "|---|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for mode, label in (("cached", "cached .pyc"), ("none", "none (compiled at import)")):
        for (app, _), result in zip(apps, cold[mode], strict=True):
            ours_app = app in (OURS, OURS_PURE)
            name = f"{app.name} (Lambda package)" if ours_app else app.name
            said = verdict(result.init_ms <= TARGET_INIT_MS) if ours_app else "-"
            lines.append(
                f"| {name} | {label} | {_ms(result.deps_ms)} | {_ms(result.module_ms)} | "
                f"{_ms(result.init_ms)} | {_ms(result.first_invoke_ms)} | "
                f"{_ms(result.process_ms)} | {said} |"
            )
    ours, ours_pure, theirs = cold["cached"]
    mb = 1024 * 1024
    lines += [
        "",
        f"Cold init with cached bytecode, C featuriser vs pure Python: {_ms(ours.init_ms)} vs "
        f"{_ms(ours_pure.init_ms)} (the handler module: {_ms(ours.module_ms)} vs "
        f"{_ms(ours_pure.module_ms)}); first invoke {_ms(ours.first_invoke_ms)} vs "
        f"{_ms(ours_pure.first_invoke_ms)}.",
        "",
        f"| `make lambda-package` for Python {sizes[0].python} | zip | unpacked |",
        "|---|---:|---:|",
        *(
            f"| ARCH={size.arch} | {size.zip_bytes / mb:.1f} MB | "
            f"{size.unpacked_bytes / mb:.1f} MB |"
            for size in sizes
        ),
        "",
        f"Cold init with cached bytecode: the scikit-learn baseline takes "
        f"{theirs.init_ms / ours.init_ms:.1f}x ours ({_ms(theirs.init_ms)} vs "
        f"{_ms(ours.init_ms)}); whole process {theirs.process_ms / ours.process_ms:.1f}x. "
        f"Artifacts read at init: {ours_mb:.2f} MB (model.json + weights.npz) vs "
        f"{baseline_mb:.1f} MB of joblib pickles (fitted on {args.baseline_rows} tickets in "
        f"{fit_seconds:.0f} s).",
    ]
    text = "\n".join(lines)
    print(text)
    publish(
        args.results,
        "lambda",
        text,
        [
            Target(
                f"Lambda warm invoke p99 <= {TARGET_INVOKE_P99_MS:g} ms",
                f"{_ms(ours_v2.p99_ms)} (C featuriser), {_ms(from_package.p99_ms)} from the "
                f"package (its C featuriser), {_ms(from_pure.p99_ms)} without it",
                invoke_met,
            ),
            Target(
                f"Lambda cold init median <= {TARGET_INIT_MS:g} ms (cached bytecode)",
                _ms(ours.init_ms),
                init_met,
            ),
        ],
    )
    if args.json:
        results = {
            "command": command,
            "invoke": {f"{app} {kind}": asdict(v) for (app, kind), v in invokes.items()},
            "invoke_from_package": asdict(from_package),
            "invoke_from_package_pure_python": asdict(from_pure),
            "package_sizes": [asdict(size) for size in sizes],
            "cold": {
                mode: {app.name: asdict(c) for (app, _), c in zip(apps, values, strict=True)}
                for mode, values in cold.items()
            },
            "targets_met": {"invoke_p99": invoke_met, "init_median": init_met},
        }
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
