"""What serving several versions costs: shadow scoring's overhead on p50/p99, and a hot swap
under load (its time, and whether any request failed).

Two models are trained from the bundled sample tickets (different slices, so two versions).
Each configuration runs ``triage serve`` (one uvicorn worker, ``TRIAGE_LOG_LEVEL=WARNING``, a
fresh SQLite prediction log) and sends ``--requests`` single tickets, closed loop, over
``--connections`` keep-alive connections:

- **live only** and **live + shadow** (``TRIAGE_SHADOW_MODEL_DIR``): the shadow scores in its
  worker thread, so the difference is what that thread takes from the request path on a
  machine with few cores (the GIL, the prediction writer). Reported as p50/p99 and their ratio.
- **swap under load**: the server serves a symlink; while the clients run, the symlink flips
  between the two versions and ``POST /v1/admin/reload`` is called ``--swaps`` times. Reported:
  the reload's load-and-swap time (``triage_model_swap_seconds``), the admin call's wall time,
  failed requests (must be 0) and latency while swapping.

Usage::

    python benchmarks/versions.py [--requests 4000] [--connections 4] [--swaps 5]
        [--results benchmarks/results]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TRIAGE = str(Path(sys.executable).with_name("triage"))
TOKEN = secrets.token_urlsafe()  # the admin route needs one
BODY = json.dumps({"subject": "Refund", "body": "I was charged twice for my plan"}).encode()
HEADERS = {"content-type": "application/json"}


def _train(root: Path) -> tuple[Path, Path]:
    import pandas as pd

    from ticket_triage.sample import SAMPLE_TICKETS
    from ticket_triage.training.config import TrainConfig
    from ticket_triage.training.train import train

    sample = pd.read_csv(str(SAMPLE_TICKETS), dtype=str)
    out = []
    for name, rows in (("a", slice(0, 1500)), ("b", slice(1500, 3000))):
        sample.iloc[rows].to_csv(root / f"{name}.csv", index=False)
        train(root / f"{name}.csv", root / name, TrainConfig())
        out.append(root / name)
    return out[0], out[1]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(model: Path, work: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = _port()
    environment = {**os.environ, "TRIAGE_LOG_LEVEL": "WARNING", **env}
    process = subprocess.Popen(
        [TRIAGE, "serve", "--model", str(model), "--port", str(port)],
        cwd=work, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not become ready")


def _load(port: int, n: int, connections: int, stop: threading.Event | None = None) -> dict:
    """Closed-loop single tickets; latencies in ms and failures (non-200 or connection error)."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def client(count: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, bad = [], 0
        i = 0
        while (stop is None and i < count) or (stop is not None and not stop.is_set()):
            i += 1
            started = time.perf_counter()
            try:
                connection.request("POST", "/v1/triage", BODY, HEADERS)
                response = connection.getresponse()
                response.read()
                bad += response.status != 200
            except OSError:
                bad += 1
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)
            failures[0] += bad

    threads = [
        threading.Thread(target=client, args=(n // connections,)) for _ in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "requests": len(latencies),
        "failed": failures[0],
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))],
    }


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def _swap_seconds(port: int) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/metrics")
    for line in connection.getresponse().read().decode().splitlines():
        if line.startswith("triage_model_swap_seconds "):
            return float(line.split()[1])
    raise SystemExit("no triage_model_swap_seconds in /metrics")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--swaps", type=int, default=5)
    parser.add_argument("--results", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        first, second = _train(root)
        rows: dict[str, Any] = {}
        for name, env in (
            ("live only", {}),
            ("live + shadow", {"TRIAGE_SHADOW_MODEL_DIR": str(second)}),
        ):
            work = root / name.replace(" ", "_").replace("+", "")
            work.mkdir()
            process, port = _start(first, work, env)
            try:
                _load(port, 400, args.connections)  # warm up
                rows[name] = _load(port, args.requests, args.connections)
            finally:
                _stop(process)
        current = root / "current"
        current.symlink_to(first)
        work = root / "swap"
        work.mkdir()
        process, port = _start(current, work, {"TRIAGE_API_TOKEN": TOKEN})
        swaps, calls = [], []
        try:
            stop = threading.Event()
            result: dict[str, Any] = {}
            loader = threading.Thread(
                target=lambda: result.update(_load(port, 0, args.connections, stop))
            )
            loader.start()
            for i in range(args.swaps):
                time.sleep(1.0)
                current.unlink()
                current.symlink_to(second if i % 2 == 0 else first)
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                started = time.perf_counter()
                connection.request(
                    "POST", "/v1/admin/reload", b"",
                    {"authorization": f"Bearer {TOKEN}", "content-length": "0"},
                )  # fmt: skip
                status = connection.getresponse().status
                calls.append(time.perf_counter() - started)
                if status != 200:
                    raise SystemExit(f"reload answered {status}")
                swaps.append(_swap_seconds(port))
            time.sleep(1.0)
            stop.set()
            loader.join()
        finally:
            _stop(process)
    rows["swap under load"] = result
    shadow_p50 = rows["live + shadow"]["p50_ms"] / rows["live only"]["p50_ms"]
    shadow_p99 = rows["live + shadow"]["p99_ms"] / rows["live only"]["p99_ms"]
    record = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "command": "python benchmarks/versions.py " + " ".join(sys.argv[1:]),
        "rows": rows,
        "swap_seconds": swaps,
        "reload_call_seconds": calls,
        "targets": [
            {
                "target": "hot swap under load: failed requests = 0",
                "measured": f"{result['failed']} of {result['requests']}",
                "met": result["failed"] == 0,
            },
            {
                "target": "shadow scoring: p99 with shadow / live only < 1.5",
                "measured": f"{shadow_p99:.2f}",
                "met": shadow_p99 < 1.5,
            },
        ],
    }
    lines = [
        f"Measured {record['date']} on {record['machine']}; `{record['command']}`. "
        f"`triage serve`, one worker, SQLite prediction log; {args.connections} keep-alive "
        "connections, closed loop, single tickets.",
        "",
        "| configuration | requests | failed | p50 | p99 |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {row['requests']} | {row['failed']} | {row['p50_ms']:.2f} ms | "
            f"{row['p99_ms']:.2f} ms |"
        )
    lines += [
        "",
        f"Shadow overhead: p50 x{shadow_p50:.2f}, p99 x{shadow_p99:.2f} (with / without). "
        f"Swap (load and verify the new version, then one assignment), {len(swaps)} swaps: "
        f"median {statistics.median(swaps) * 1000:.0f} ms, max {max(swaps) * 1000:.0f} ms; "
        f"the admin call's wall time median {statistics.median(calls) * 1000:.0f} ms.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.results is not None:
        (args.results / "versions.json").write_text(json.dumps(record, indent=2) + "\n")
        (args.results / "versions.md").write_text(text)


if __name__ == "__main__":
    main()
