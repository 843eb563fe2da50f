"""Latency of the HTTP API as a client sees it: ``triage serve`` (one uvicorn worker) on loopback.

Target of the serving issue: at a sustained 200 requests/s, ``POST /v1/triage`` answers with
p99 <= 5 ms and no errors. Three measurements against the same server process:

- sequential: one keep-alive ``http.client`` connection, one request at a time, tickets of the
  bundled sample data cycled short/medium/long (tertiles of subject + body length). This is the
  floor: the model's ~30 us plus HTTP parsing, validation, routing and JSON in and out. The same
  requests also go, in alternating blocks, to a second server logging at INFO (one JSON line
  per decision plus uvicorn's access line, to a file), which prices the logging; every other
  measurement runs with ``TRIAGE_LOG_LEVEL=WARNING`` so that logging is not in it. Both servers
  write every decision to the prediction log (a fresh SQLite file each), as ``triage serve`` does
  by default: its writer thread shares the worker's interpreter.
- sustained: an open-loop load at a fixed rate. Send times are fixed in advance and latency is
  counted from the scheduled time, not from the actual send, so a slow answer that delays the
  next request on its connection is charged to that request too (no coordinated omission).
  ``wrk`` has no rate limit and ``wrk2`` is not packaged in Debian, so the generator is here:
  one thread per keep-alive connection, each with every ``connections``-th slot of the
  schedule. Threads rather than asyncio because the generator's own lateness lands in every
  number: on this machine ``asyncio.sleep`` wakes 0.6 ms late at p50 (1.2 ms p99; epoll's
  timeout is in milliseconds), ``time.sleep`` 0.1 ms. The table reports how late sends were.
- peak: ``wrk -t2 -c32 --latency`` with a Lua script cycling the same tickets, closed loop: the
  most the worker answers per second. wrk's latencies here include queueing behind 31 other
  connections, so they are not the service's latency.

The load generators and the server share the machine's cores, as they would on a 2-core VM:
absolute numbers move with its other load.

Usage::

    python benchmarks/http_latency.py --model models/default [--requests 2000] [--rate 200]
        [--duration 30] [--peak-duration 15] [--json OUT]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from _report import Target, machine, publish, verdict, versions

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "src" / "ticket_triage" / "sample" / "tickets.csv"
PATH = "/v1/triage"
HEADERS = {"Content-Type": "application/json"}
TARGET_P99_MS = 5.0
SIZES = ("short", "medium", "long")
WARMUP = 200


@dataclass(frozen=True)
class Latency:
    """Percentiles of one measurement, in milliseconds, and how many requests failed."""

    requests: int
    p50: float
    p99: float
    max: float
    errors: int

    @classmethod
    def of(cls, milliseconds: list[float], errors: int = 0) -> Latency:
        p50, p99 = np.percentile(milliseconds, [50, 99])
        return cls(len(milliseconds), float(p50), float(p99), max(milliseconds), errors)


def request_bodies(n: int = 300) -> dict[str, list[bytes]]:
    """``n`` tickets spread over the sample file, as JSON bodies, split into length tertiles."""
    from ticket_triage.training.data import read_tickets

    tickets = read_tickets(SAMPLE, require_labels=False).tickets
    tickets = sorted(
        tickets[:: max(1, len(tickets) // n)][:n],
        key=lambda t: len(t["subject"]) + len(t["body"]),
    )
    bodies = [json.dumps(t).encode() for t in tickets]
    third = len(bodies) // 3
    return dict(
        zip(SIZES, (bodies[:third], bodies[third : 2 * third], bodies[2 * third :]), strict=True)
    )


def interleaved(bodies: dict[str, list[bytes]]) -> list[tuple[str, bytes]]:
    """Short, medium, long, short, ...: the order every client sends them in."""
    return [
        (size, group[i])
        for i in range(min(map(len, bodies.values())))
        for size, group in bodies.items()
    ]


def free_port() -> int:
    """A port nothing listens on now; the server binds it a moment later (a benign race on a
    benchmark machine, and simpler than passing a bound socket to uvicorn)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A running ``triage serve``: where it listens and where its stdout (the logs) goes."""

    port: int
    log: Path
    model_version: str


@contextmanager
def serve(model: Path, log_level: str, directory: Path) -> Iterator[Server]:
    """Run ``triage serve`` on a free loopback port until the block ends; ready when yielded."""
    port = free_port()
    log, banner = directory / f"{log_level}.log", directory / f"{log_level}.err"
    command = [str(Path(sys.executable).with_name("triage")), "serve", "--model", str(model)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    # The server as deployed: every decision goes to the prediction log (SQLite, a fresh file).
    command += ["--db", f"sqlite:///{directory / f'{log_level}.db'}"]
    env = {**os.environ, "TRIAGE_LOG_LEVEL": log_level}
    with log.open("wb") as out, banner.open("wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env)
    try:
        ready = wait_ready(port, process, banner)
        yield Server(port, log, ready["model_version"])
    finally:
        process.terminate()
        process.wait(timeout=60)


def wait_ready(port: int, process: subprocess.Popen[bytes], banner: Path) -> dict[str, Any]:
    """Poll ``/readyz`` until it answers 200; fail with the server's output if it exits."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"triage serve exited: {banner.read_text()}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/readyz")
            response = connection.getresponse()
            body = response.read()
            if response.status == 200:
                return dict(json.loads(body))
        except OSError:
            pass  # not listening yet
        finally:
            connection.close()
        time.sleep(0.05)
    raise RuntimeError(f"triage serve not ready after 60 s: {banner.read_text()}")


def post(connection: http.client.HTTPConnection, body: bytes) -> int:
    """One ``POST /v1/triage`` on a keep-alive connection; the response's status."""
    connection.request("POST", PATH, body, HEADERS)
    response = connection.getresponse()
    response.read()
    return response.status


def sequential(
    servers: list[Server], bodies: list[tuple[str, bytes]], n: int, blocks: int = 4
) -> list[dict[str, list[float]]]:
    """Per server, milliseconds per request by ticket size: ``n`` requests each (after a
    warm-up), one at a time, in blocks that alternate between the servers."""
    connections = [http.client.HTTPConnection("127.0.0.1", s.port, timeout=10) for s in servers]
    for connection in connections:
        for _, body in bodies[:WARMUP]:
            post(connection, body)
    timings: list[dict[str, list[float]]] = [{size: [] for size in SIZES} for _ in servers]
    clock = time.perf_counter
    for block in range(blocks):
        for connection, timing in zip(connections, timings, strict=True):
            for i in range(block * n // blocks, (block + 1) * n // blocks):
                size, body = bodies[i % len(bodies)]
                started = clock()
                status = post(connection, body)
                timing[size].append((clock() - started) * 1000)
                if status != 200:
                    raise RuntimeError(f"sequential request answered {status}")
    for connection in connections:
        connection.close()
    return timings


@dataclass(frozen=True)
class Sustained:
    """An open-loop run: latency from the scheduled send time, and how late sends went out."""

    latency: Latency
    late_p99_ms: float
    late_max_ms: float
    achieved_rate: float


def sustained(
    server: Server, bodies: list[bytes], rate: float, duration: float, connections: int = 8
) -> Sustained:
    """``rate`` requests per second for ``duration`` seconds over ``connections`` keep-alive
    connections; connection ``k`` owns slots ``k, k + connections, ...`` of the schedule."""
    clients = [
        http.client.HTTPConnection("127.0.0.1", server.port, timeout=10) for _ in range(connections)
    ]
    for client in clients:
        post(client, bodies[0])  # connected and warm before the clock starts
    total = int(rate * duration)
    start = time.perf_counter() + 0.1

    def run(k: int) -> list[tuple[float, float, bool]]:
        client, out, clock = clients[k], [], time.perf_counter
        for slot in range(k, total, connections):
            due = start + slot / rate
            delay = due - clock()
            if delay > 0:
                time.sleep(delay)
            sent = clock()
            try:
                ok = post(client, bodies[slot % len(bodies)]) == 200
            except (OSError, http.client.HTTPException):
                ok = False
                client.close()  # http.client reconnects on the next request
            out.append(((clock() - due) * 1000, (sent - due) * 1000, ok))
        return out

    with ThreadPoolExecutor(connections) as pool:
        samples = [s for part in pool.map(run, range(connections)) for s in part]
    elapsed = time.perf_counter() - start
    for client in clients:
        client.close()
    late = [s[1] for s in samples]
    return Sustained(
        latency=Latency.of([s[0] for s in samples], sum(not s[2] for s in samples)),
        late_p99_ms=float(np.percentile(late, 99)),
        late_max_ms=max(late),
        achieved_rate=total / elapsed,
    )


LUA = """\
-- POST /v1/triage, cycling the benchmark's tickets; summary as one JSON line at the end.
local bodies = {
%s
}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, "%s", nil, bodies[i])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "non_2xx_3xx": %%d, "socket_errors": %%d, '
    .. '"p50_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class Peak:
    """A closed-loop ``wrk`` run: throughput, and latency including queueing."""

    command: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx_3xx: int
    socket_errors: int


def peak(server: Server, bodies: list[bytes], duration: int, directory: Path) -> Peak:
    """``wrk -t2 -c32 --latency`` for ``duration`` seconds with a Lua script posting the tickets."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk not found: apt-get install wrk")
    quoted = []
    for body in bodies:
        text = body.decode()  # json.dumps escapes non-ASCII, so this is plain ASCII
        if "]==]" in text:
            raise ValueError("a ticket closes the Lua long string; pick another level")
        quoted.append(f"  [==[{text}]==],")
    script = directory / "post_tickets.lua"
    script.write_text(LUA % ("\n".join(quoted), PATH))
    args = ["-t2", "-c32", f"-d{duration}s", "--latency", "-s", str(script)]
    output = subprocess.run(
        [wrk, *args, f"http://127.0.0.1:{server.port}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    summary = json.loads([line for line in output.splitlines() if line.startswith("{")][-1])
    return Peak(
        command=f"wrk {' '.join(args[:-2])} -s post_tickets.lua",
        requests_per_s=summary["requests"] / (summary["duration_us"] / 1e6),
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        non_2xx_3xx=summary["non_2xx_3xx"],
        socket_errors=summary["socket_errors"],
    )


def server_versions() -> str:
    """What the numbers depend on besides the machine: the interpreter, server stack and wrk."""
    packages = ("fastapi", "uvicorn", "uvloop", "httptools", "ticket-triage")
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1]
    return f"{versions(packages)}, wrk {wrk}"


def _ms(value: float) -> str:
    return f"{value:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--requests", type=int, default=2000, help="sequential requests per server")
    parser.add_argument("--rate", type=float, default=200.0, help="sustained requests/s")
    parser.add_argument("--duration", type=float, default=30.0, help="sustained seconds")
    parser.add_argument("--peak-duration", type=int, default=15, help="wrk seconds")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--results", type=Path, help="keep the section here for assemble.py")
    args = parser.parse_args()

    by_size = request_bodies()
    mixed = interleaved(by_size)
    bodies = [body for _, body in mixed]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        with (
            serve(args.model, "WARNING", directory) as quiet,
            serve(args.model, "INFO", directory) as logging_,
        ):
            quiet_timing, info_timing = sequential([quiet, logging_], mixed, args.requests)
            log_lines = len(logging_.log.read_text().splitlines())
            model_version = quiet.model_version
        with serve(args.model, "WARNING", directory) as server:
            load = sustained(server, bodies, args.rate, args.duration)
            top = peak(server, bodies, args.peak_duration, directory)

    rows = {size: Latency.of(quiet_timing[size]) for size in SIZES}
    rows["all"] = Latency.of([ms for size in SIZES for ms in quiet_timing[size]])
    info = Latency.of([ms for size in SIZES for ms in info_timing[size]])
    met = load.latency.p99 <= TARGET_P99_MS and load.latency.errors == 0
    mean_bytes = {size: sum(map(len, group)) / len(group) for size, group in by_size.items()}
    command = f"python benchmarks/http_latency.py --model {args.model}"
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}; {server_versions()}; "
        f"model {model_version}; `{command}` ({args.requests} sequential requests per "
        f"server after {WARMUP} warm-up, {args.rate:.0f} req/s for {args.duration:.0f} s, wrk "
        f"for {args.peak_duration} s). Server: `triage serve`, one uvicorn worker (uvloop, "
        "httptools), `TRIAGE_LOG_LEVEL=WARNING` unless the row says INFO.",
        "",
        "| load | requests | p50 | p99 | max | errors | target |",
        "|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for size in SIZES:
        lat = rows[size]
        lines.append(
            f"| sequential, keep-alive, {size} tickets ({mean_bytes[size]:.0f} B body) | "
            f"{lat.requests} | {_ms(lat.p50)} | {_ms(lat.p99)} | {_ms(lat.max)} | 0 | - |"
        )
    for name, lat in (("all", rows["all"]), ("all, `TRIAGE_LOG_LEVEL=INFO`", info)):
        lines.append(
            f"| sequential, keep-alive, {name} | {lat.requests} | {_ms(lat.p50)} | "
            f"{_ms(lat.p99)} | {_ms(lat.max)} | 0 | - |"
        )
    lat = load.latency
    lines += [
        f"| open loop, {args.rate:.0f} req/s for {args.duration:.0f} s, 8 connections "
        f"(from scheduled time) | {lat.requests} | {_ms(lat.p50)} | {_ms(lat.p99)} | "
        f"{_ms(lat.max)} | {lat.errors} | p99 <= 5 ms, 0 errors: {verdict(met)} |",
        "",
        f"Open loop: {load.achieved_rate:.1f} req/s achieved; the generator sent "
        f"{_ms(load.late_p99_ms)} late at p99 ({_ms(load.late_max_ms)} max), and that is inside "
        f"the latencies above. Logging at INFO ({log_lines} JSON lines for "
        f"{info.requests + WARMUP} requests) adds {(info.p50 - rows['all'].p50) * 1000:.0f} us "
        f"at p50 ({_ms(info.p50)} vs {_ms(rows['all'].p50)}, alternating blocks).",
        "",
        "| peak (closed loop) | requests/s | p50 | p99 | non-2xx/3xx | socket errors |",
        "|---|---:|---:|---:|---:|---:|",
        f"| `{top.command}` | {top.requests_per_s:.0f} | {_ms(top.p50_ms)} | "
        f"{_ms(top.p99_ms)} | {top.non_2xx_3xx} | {top.socket_errors} |",
    ]
    text = "\n".join(lines)
    print(text)
    publish(
        args.results,
        "http",
        text,
        [
            Target(
                f"HTTP: {args.rate:.0f} requests/s sustained, p99 <= {TARGET_P99_MS:g} ms, "
                "0 errors",
                f"p99 {_ms(lat.p99)}, {lat.errors} errors",
                met,
            )
        ],
    )
    if args.json:
        results = {
            "command": command,
            "sequential": {k: asdict(v) for k, v in rows.items()},
            "sequential_info_logging": asdict(info),
            "sustained": asdict(load),
            "peak": asdict(top),
            "target_met": met,
        }
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
