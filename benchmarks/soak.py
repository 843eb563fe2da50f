"""Soak test of ``triage serve``: a steady mixed load for minutes, then count what was kept.

The latency benchmark (``http_latency.py``) answers "how fast"; this one answers "does it hold":
one uvicorn worker writing every decision to a fresh SQLite prediction log, under an open-loop
load at a fixed rate for ``--duration`` seconds (120 by default, the CI form; longer by flag),
then SIGTERM. Four things must hold, and the exit status is non-zero, naming the failing check,
if one does not:

- no errors: no 5xx, connection error or timeout, and every good request answered with the status
  it should have (200, or 201 for new feedback). The load mixes ``POST /v1/triage`` (most),
  ``POST /v1/triage/batch`` (a few, 2-5 tickets), ``POST /v1/feedback`` on decisions returned
  earlier in the run, and bad requests (empty body, unknown field, malformed JSON, an empty
  batch, a non-JSON content type, feedback for an unknown id) that must be answered 4xx: those
  are counted apart, as expected 4xx, not as errors.
- no records lost: every decision id returned to the client (one per ticket, so a batch returns
  several) is a row of ``predictions`` once the server has exited, and every feedback answered
  201 is a row of ``feedback``. The writer thread batches records in memory, so this is what
  proves that the lifespan's drain on SIGTERM runs and that nothing is dropped on the way.
- memory does not grow: the server's resident set (``VmRSS`` of ``/proc/<pid>/status``), sampled
  every second, grows by less than 10 % from minute 1 to the end. Minute 1 and not the start,
  because caches, the SQLite page cache and the allocator's arenas fill during the first seconds;
  a run shorter than 2 minutes compares the end with the first third instead, and says so.
- SIGTERM is graceful: the process exits by itself (status 0, or -15 as uvicorn re-raises the
  signal after its shutdown) and logs nothing at ERROR.

The load generator is ``http_latency.py``'s scheme (one thread per keep-alive connection, each
owning every ``connections``-th slot of a fixed schedule, latency counted from the scheduled send
time so a stall is charged to every request queued behind it) with per-request bookkeeping added:
its ``sustained`` only returns percentiles, and this needs every id and status. ``wrk`` would
not give the ids either. Latency is reported, not checked: the machine is shared, and
``http_latency.py`` owns the latency target.

Usage::

    python benchmarks/soak.py --model models/default [--duration 120] [--rate 100]
        [--connections 8] [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from _report import Target, machine, publish, verdict, versions
from http_latency import ROOT, Latency, free_port, interleaved, request_bodies, wait_ready

JSON = "application/json"
RSS_TARGET_PERCENT = 10.0
RSS_REFERENCE_S = 60.0  # "minute 1": after warm-up, long before the end of a 2-minute run
TIMEOUT_S = 10.0
#: Share of the schedule per kind of request; what a support desk sends, roughly.
MIX = {"triage": 80, "batch": 5, "feedback": 10, "bad": 5}
LABELS = {
    "triage": "`POST /v1/triage`",
    "batch": "`POST /v1/triage/batch`, 2-5 tickets",
    "feedback": "`POST /v1/feedback`, an earlier decision",
    "bad": "bad requests (must be 4xx)",
}
SERVER_PACKAGES = ("fastapi", "uvicorn", "uvloop", "httptools", "sqlalchemy", "ticket-triage")


@dataclass(frozen=True)
class Bad:
    """A request the API must refuse with a 4xx; ``status`` is the one its docstring names."""

    name: str
    path: str
    body: bytes
    content_type: str = JSON
    status: int = 422


def bad_requests(queue: str) -> list[Bad]:
    """One of each kind of refusal the API documents; ``queue`` is a real one, so the unknown
    id and not the label is what the feedback is refused for."""
    unknown = json.dumps({"id": "no-such-decision", "queue": queue}).encode()
    return [
        Bad("empty body", "/v1/triage", b""),
        Bad("unknown field", "/v1/triage", b'{"subject": "Refund", "body": "x", "metdata": {}}'),
        Bad("no body field", "/v1/triage", b'{"subject": "Refund"}'),
        Bad("malformed JSON", "/v1/triage", b'{"body": "charged twi'),
        Bad("empty batch", "/v1/triage/batch", b'{"tickets": []}'),
        Bad("text/plain", "/v1/triage", b'{"body": "x"}', "text/plain", 415),
        Bad("feedback, unknown id", "/v1/feedback", unknown, status=404),
    ]


# -- the server --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Running:
    """A ``triage serve`` process and the files it writes (all in the run's temp directory)."""

    process: subprocess.Popen[bytes]
    port: int
    db: Path
    spool: Path
    log: Path
    model_version: str


def start_server(model: Path, directory: Path) -> Running:
    """``triage serve`` with a fresh SQLite log, ready when returned.

    Not ``http_latency.serve``: that context manager hides the process, and the soak needs its
    pid (for RSS), its exit status and the moment of SIGTERM. ``TRIAGE_*`` variables of the
    caller are dropped so that a token or another database in the shell cannot change what is
    measured; the spool goes to the temp directory too, so records spooled would be seen.
    """
    port = free_port()
    db, spool = directory / "soak.db", directory / "spool.jsonl"
    log, banner = directory / "server.log", directory / "server.err"
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRIAGE_")}
    env |= {"TRIAGE_LOG_LEVEL": "WARNING", "TRIAGE_SPOOL_PATH": str(spool)}
    triage = str(Path(sys.executable).with_name("triage"))
    address = ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out, banner.open("wb") as err:
        process = subprocess.Popen(
            [triage, "serve", "--model", str(model.resolve()), *address, "--db", f"sqlite:///{db}"],
            stdout=out,
            stderr=err,
            env=env,
            cwd=directory,
        )
    try:
        ready = wait_ready(port, process, banner)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return Running(process, port, db, spool, log, str(ready["model_version"]))


def rss_kb(pid: int) -> int | None:
    """Resident set size of ``pid`` in kB (``VmRSS``), or None once the process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


class RssSampler:
    """Samples a process's RSS once a second in a thread, on a grid anchored at ``origin`` (the
    start of the load), so that sample times read as seconds into the run."""

    def __init__(self, pid: int, origin: float) -> None:
        self.pid, self.origin = pid, origin
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()  # the end of the load, just before SIGTERM

    def _sample(self) -> None:
        kb = rss_kb(self.pid)
        if kb is not None:
            self.samples.append((time.perf_counter() - self.origin, kb))

    def _run(self) -> None:
        tick = 0
        while True:
            self._sample()
            tick += 1
            if self._stop.wait(max(0.0, self.origin + tick - time.perf_counter())):
                return


@dataclass(frozen=True)
class Shutdown:
    """How the server ended after SIGTERM."""

    exit_status: int
    seconds: float
    killed: bool  # it did not exit within the timeout

    @property
    def graceful(self) -> bool:
        """Exited by itself; uvicorn re-raises the signal it caught, hence -15 as well as 0."""
        return not self.killed and self.exit_status in (0, -signal.SIGTERM)


def stop_server(process: subprocess.Popen[bytes], timeout: float = 60.0) -> Shutdown:
    """SIGTERM, then wait: uvicorn stops accepting, finishes in-flight requests and runs the
    app's lifespan exit, which drains the prediction writer to the database."""
    started = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    try:
        status = process.wait(timeout)
        killed = False
    except subprocess.TimeoutExpired:
        process.kill()
        status, killed = process.wait(), True
    return Shutdown(status, time.perf_counter() - started, killed)


# -- the load ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one connection saw; merged into the run's totals at the end."""

    latency: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in MIX})
    late: list[float] = field(default_factory=list)
    sent: Counter[str] = field(default_factory=Counter)
    ok: Counter[str] = field(default_factory=Counter)
    expected_4xx: Counter[str] = field(default_factory=Counter)  # "name status" -> count
    statuses: Counter[str] = field(default_factory=Counter)  # "kind status" -> count
    errors: Counter[str] = field(default_factory=Counter)  # reason -> count
    errors_by_kind: Counter[str] = field(default_factory=Counter)
    decisions: list[str] = field(default_factory=list)

    def merge(self, other: Tally) -> None:
        """Add another connection's counts to these."""
        for kind, values in other.latency.items():
            self.latency[kind] += values
        self.late += other.late
        for name in ("sent", "ok", "expected_4xx", "statuses", "errors", "errors_by_kind"):
            getattr(self, name).update(getattr(other, name))
        self.decisions += other.decisions


class Load:
    """An open-loop mixed load: the schedule of kinds is drawn in advance (seeded), bodies are
    built at send time because feedback needs ids returned earlier in the run."""

    def __init__(self, port: int, tickets: list[bytes], queue: str, connections: int) -> None:
        self.port, self.tickets, self.connections = port, tickets, connections
        self.bad = bad_requests(queue)
        # Ids of decisions not yet given feedback, with their queue (a label the API accepts).
        # Feedback takes the newest and the oldest in turn: the newest is often still in the
        # writer's buffer (the flush-on-feedback path), the oldest long committed.
        self.unreviewed: deque[tuple[str, str]] = deque(maxlen=5000)

    def run(self, rate: float, duration: float, start: float) -> Tally:
        """``rate`` requests/s for ``duration`` s from ``start`` (a ``perf_counter`` time)."""
        total = int(rate * duration)
        plan = random.Random(0).choices(list(MIX), weights=list(MIX.values()), k=total)
        clients = [self._connect() for _ in range(self.connections)]

        def connection(k: int) -> Tally:
            tally, client, clock = Tally(), clients[k], time.perf_counter
            for slot in range(k, total, self.connections):
                due = start + slot / rate
                delay = due - clock()
                if delay > 0:
                    time.sleep(delay)
                tally.late.append((clock() - due) * 1000)
                kind = self._send(client, plan[slot], slot, tally)
                tally.latency[kind].append((clock() - due) * 1000)
            client.close()
            return tally

        with ThreadPoolExecutor(self.connections) as pool:
            parts = list(pool.map(connection, range(self.connections)))
        merged = Tally()
        for part in parts:
            merged.merge(part)
        return merged

    def _connect(self) -> http.client.HTTPConnection:
        """A keep-alive connection, opened and used once (``GET /v1/model``, which records
        nothing) before the clock starts, so connecting is not in the first latencies."""
        client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT_S)
        client.request("GET", "/v1/model")
        client.getresponse().read()
        return client

    def _send(self, client: http.client.HTTPConnection, kind: str, slot: int, tally: Tally) -> str:
        """Send the slot's request and account for the answer; returns the kind actually sent
        (feedback becomes a triage while no decision is waiting for it, at the very start)."""
        bad: Bad | None = None
        batch_size = 0
        if kind == "feedback":
            take = self.unreviewed.pop if slot % 2 else self.unreviewed.popleft
            try:
                decision, queue = take()
            except IndexError:  # none yet (deque operations are atomic, a length check is not)
                kind = "triage"
        if kind == "triage":
            path, body, content_type = "/v1/triage", self._ticket(slot), JSON
        elif kind == "batch":
            batch_size = 2 + slot % 4
            tickets = b", ".join(self._ticket(slot + i) for i in range(batch_size))
            path, body, content_type = "/v1/triage/batch", b'{"tickets": [%s]}' % tickets, JSON
        elif kind == "feedback":
            body = json.dumps({"id": decision, "queue": queue, "agent": "soak"}).encode()
            path, content_type = "/v1/feedback", JSON
        else:
            bad = self.bad[slot % len(self.bad)]
            path, body, content_type = bad.path, bad.body, bad.content_type
        tally.sent[kind] += 1
        try:
            client.request("POST", path, body, {"Content-Type": content_type})
            response = client.getresponse()
            status, payload = response.status, response.read()
        except TimeoutError:
            self._error(tally, kind, "timeout")
            client.close()  # http.client reconnects on the next request
            return kind
        except (OSError, http.client.HTTPException) as exc:
            self._error(tally, kind, f"connection error ({type(exc).__name__})")
            client.close()
            return kind
        tally.statuses[f"{kind} {status}"] += 1
        if bad is not None:
            if 400 <= status < 500:
                # Any 4xx passes; a different one than the API documents is shown, not failed.
                other = "" if status == bad.status else f" (documented: {bad.status})"
                tally.expected_4xx[f"{bad.name}: {status}{other}"] += 1
                tally.ok[kind] += 1
            else:
                self._error(tally, kind, f"{status} to a bad request ({bad.name})")
        elif status >= 500:
            self._error(tally, kind, f"5xx ({status})")
        elif kind == "feedback":
            if status == 201:
                tally.ok[kind] += 1
            else:  # 200 is "already stored": never right here, each id gets feedback once
                self._error(tally, kind, f"unexpected {status} to feedback")
        elif status != 200:
            self._error(tally, kind, f"unexpected {status} to {kind}")
        else:
            self._decisions(payload, kind, batch_size, tally)
        return kind

    def _decisions(self, payload: bytes, kind: str, batch_size: int, tally: Tally) -> None:
        """Take the ids out of a 200 answer; a malformed one is an error like a 5xx."""
        try:
            answer = json.loads(payload)
            results = answer["results"] if kind == "batch" else [answer]
            found = [(str(r["id"]), str(r["queue"])) for r in results]
        except (ValueError, KeyError, TypeError):
            self._error(tally, kind, f"malformed 200 answer to {kind}")
            return
        if kind == "batch" and len(found) != batch_size:
            self._error(tally, kind, f"batch of {batch_size} answered with {len(found)}")
            return
        tally.ok[kind] += 1
        tally.decisions += [decision for decision, _ in found]
        self.unreviewed.extend(found)

    def _ticket(self, i: int) -> bytes:
        return self.tickets[i % len(self.tickets)]

    @staticmethod
    def _error(tally: Tally, kind: str, reason: str) -> None:
        tally.errors[reason] += 1
        tally.errors_by_kind[kind] += 1


# -- after the run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """What the server left on disk after it exited."""

    prediction_ids: frozenset[str]
    feedback_rows: int
    spooled: int  # records in the spool (and its .corrupt file): kept, but not in the database
    log_errors: int  # server log lines at ERROR or CRITICAL
    log_warnings: int


def stored(server: Running) -> Stored:
    """Read the prediction log read-only, and the files beside it."""
    ids: frozenset[str] = frozenset()
    feedback_rows = 0
    if server.db.exists():
        uri = f"file:{server.db}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            ids = frozenset(row[0] for row in connection.execute("SELECT id FROM predictions"))
            feedback_rows = connection.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
    spool_files = (server.spool, server.spool.with_name(server.spool.name + ".corrupt"))
    spooled = sum(len(p.read_text().splitlines()) for p in spool_files if p.exists())
    levels: Counter[str] = Counter()
    for line in server.log.read_text(errors="replace").splitlines():
        try:
            levels[str(json.loads(line).get("level"))] += 1
        except (ValueError, AttributeError):
            levels["ERROR"] += 1  # not a JSON log line: a traceback or a crash message
    return Stored(
        ids, feedback_rows, spooled, levels["ERROR"] + levels["CRITICAL"], levels["WARNING"]
    )


@dataclass(frozen=True)
class Rss:
    """Resident memory from the reference point to the end of the load, in MB."""

    reference_s: float
    reference_mb: float
    end_s: float
    end_mb: float
    start_mb: float
    peak_mb: float
    growth_percent: float
    reference_rule: str


def rss_growth(samples: list[tuple[float, int]], duration: float) -> Rss:
    """Growth from minute 1 (the first third for runs under 2 minutes) to the last sample."""
    if duration >= 2 * RSS_REFERENCE_S:
        at, rule = RSS_REFERENCE_S, "minute 1"
    else:
        at, rule = duration / 3, "first third (run shorter than 2 minutes)"
    reference = next((s for s in samples if s[0] >= at), samples[-1])
    end = samples[-1]
    return Rss(
        reference_s=reference[0],
        reference_mb=reference[1] / 1024,
        end_s=end[0],
        end_mb=end[1] / 1024,
        start_mb=samples[0][1] / 1024,
        peak_mb=max(kb for _, kb in samples) / 1024,
        growth_percent=(end[1] - reference[1]) / reference[1] * 100,
        reference_rule=rule,
    )


def latency(milliseconds: list[float], errors: int) -> Latency | None:
    """Percentiles, or None for a kind the run never sent."""
    return Latency.of(milliseconds, errors) if milliseconds else None


def _ms(value: float) -> str:
    return f"{value:.2f} ms"


def _row(label: str, sent: int, ok: int, expected: int, lat: Latency | None) -> str:
    errors = lat.errors if lat else 0
    timing = f"{_ms(lat.p50)} | {_ms(lat.p99)} | {_ms(lat.max)}" if lat else "- | - | -"
    return f"| {label} | {sent} | {ok - expected} | {expected} | {errors} | {timing} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load")
    parser.add_argument("--rate", type=float, default=100.0, help="requests/s, open loop")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--results", type=Path, help="keep the section here for assemble.py")
    args = parser.parse_args()

    tickets = [body for _, body in interleaved(request_bodies())]
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        server = start_server(args.model, Path(tmp))
        try:
            client = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT_S)
            client.request("GET", "/v1/model")
            queue = str(json.loads(client.getresponse().read())["queues"][0])
            client.close()
            load = Load(server.port, tickets, queue, args.connections)
            start = time.perf_counter() + 0.1
            with RssSampler(server.process.pid, start) as sampler:
                tally = load.run(args.rate, args.duration, start)
            elapsed = time.perf_counter() - start
        finally:
            shutdown = stop_server(server.process)
        kept = stored(server)

    returned = len(tally.decisions)
    missing = len(set(tally.decisions) - kept.prediction_ids)
    lost = returned - len(kept.prediction_ids)
    accepted = tally.ok["feedback"]
    errors = sum(tally.errors.values())
    rss = rss_growth(sampler.samples, args.duration)
    checks = {
        "errors": errors == 0,
        "records lost": lost == 0 and missing == 0,
        "feedback lost": accepted == kept.feedback_rows,
        # The server gone mid-run leaves no sample at the end: that is no measurement, not a pass.
        "RSS growth": rss.growth_percent < RSS_TARGET_PERCENT and rss.end_s >= args.duration - 2,
        "graceful shutdown": shutdown.graceful,
        "server errors logged": kept.log_errors == 0,
    }

    rows = {k: latency(tally.latency[k], tally.errors_by_kind[k]) for k in MIX}
    everything = latency([ms for k in MIX for ms in tally.latency[k]], errors)
    sent = sum(tally.sent.values())
    refused = ", ".join(f"{name} x {n}" for name, n in sorted(tally.expected_4xx.items()))
    model = args.model.resolve()
    shown = model.relative_to(ROOT) if model.is_relative_to(ROOT) else model
    command = f"python benchmarks/soak.py --model {shown}"
    command += f" --duration {args.duration:g} --rate {args.rate:g}"
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}; {versions(SERVER_PACKAGES)}, "
        f"SQLite {sqlite3.sqlite_version}; model {server.model_version}; `{command}`. "
        "Server: `triage serve`, one uvicorn worker, `TRIAGE_LOG_LEVEL=WARNING`, every decision "
        "written to a fresh SQLite prediction log. Load: open loop at "
        f"{args.rate:g} requests/s for {args.duration:g} s over {args.connections} keep-alive "
        "connections, latency from the scheduled send time; then SIGTERM, and the log counted "
        "once the server has exited.",
        "",
        "| requests | sent | 2xx as expected | expected 4xx | errors | p50 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in MIX:
        expected = sum(tally.expected_4xx.values()) if kind == "bad" else 0
        lines.append(_row(LABELS[kind], tally.sent[kind], tally.ok[kind], expected, rows[kind]))
    lines.append(
        _row("all", sent, sum(tally.ok.values()), sum(tally.expected_4xx.values()), everything)
    )
    records = f"{lost} ({returned} decisions returned, {len(kept.prediction_ids)} rows"
    records += f", {missing} returned ids not stored)" if missing else ")"
    lines += [
        "",
        "| check | measured | target | verdict |",
        "|---|---|---|---|",
        f"| errors (5xx, connection errors, timeouts, unexpected status) | {errors} | 0 | "
        f"{verdict(checks['errors'])} |",
        f"| records lost (decisions returned - rows in `predictions`) | {records} | 0 | "
        f"{verdict(checks['records lost'])} |",
        f"| feedback lost (answered 201 - rows in `feedback`) | {accepted - kept.feedback_rows} "
        f"({accepted} answered 201, {kept.feedback_rows} rows) | 0 | "
        f"{verdict(checks['feedback lost'])} |",
        f"| RSS growth, {rss.reference_rule} to end | {rss.growth_percent:+.1f} % "
        f"({rss.reference_mb:.1f} MB at {rss.reference_s:.0f} s, {rss.end_mb:.1f} MB at "
        f"{rss.end_s:.0f} s) | < {RSS_TARGET_PERCENT:g} % | {verdict(checks['RSS growth'])} |",
        f"| graceful shutdown on SIGTERM | exit {shutdown.exit_status} after "
        f"{shutdown.seconds:.2f} s{' (killed)' if shutdown.killed else ''} | exit 0 or -15 | "
        f"{verdict(checks['graceful shutdown'])} |",
        f"| server log lines at ERROR | {kept.log_errors} | 0 | "
        f"{verdict(checks['server errors logged'])} |",
        "",
        f"{sent / elapsed:.1f} requests/s achieved; the generator sent "
        f"{_ms(float(np.percentile(tally.late, 99)))} late at p99 ({_ms(max(tally.late))} max), "
        f"and that is inside the latencies above. Bad requests, as answered: {refused}. "
        f"RSS {rss.start_mb:.1f} MB when the load started, {rss.peak_mb:.1f} MB at most "
        f"({len(sampler.samples)} samples, one a second). {kept.spooled} records spooled, "
        f"{kept.log_warnings} server log lines at WARNING.",
    ]
    if tally.errors:
        lines += ["", "Errors: " + ", ".join(f"{n} x {r}" for r, n in tally.errors.most_common())]
    print("\n".join(lines))
    soak = f"soak, {args.duration:g} s at {args.rate:g} requests/s"
    publish(
        args.results,
        "soak",
        "\n".join(lines),
        [
            Target(f"{soak}: 0 errors", str(errors), checks["errors"]),
            Target(f"{soak}: 0 records lost", records, checks["records lost"]),
            Target(
                f"{soak}: 0 feedback lost",
                str(accepted - kept.feedback_rows),
                checks["feedback lost"],
            ),
            Target(
                f"{soak}: resident memory growth < {RSS_TARGET_PERCENT:g}%",
                f"{rss.growth_percent:+.1f}%",
                checks["RSS growth"],
            ),
        ],
    )

    failed = [name for name, ok in checks.items() if not ok]
    if args.json:
        results: dict[str, Any] = {
            "command": command,
            "model_version": server.model_version,
            "sent": dict(tally.sent),
            "answered_as_expected": dict(tally.ok),
            "expected_4xx": dict(tally.expected_4xx),
            "statuses": dict(tally.statuses),
            "errors": dict(tally.errors),
            "latency": {k: asdict(v) for k, v in rows.items() if v is not None},
            "latency_all": asdict(everything) if everything else None,
            "achieved_rate": sent / elapsed,
            "decisions_returned": returned,
            "prediction_rows": len(kept.prediction_ids),
            "records_lost": lost,
            "returned_ids_not_stored": missing,
            "feedback_accepted": accepted,
            "feedback_rows": kept.feedback_rows,
            "spooled": kept.spooled,
            "rss": asdict(rss),
            "rss_samples_kb": sampler.samples,
            "shutdown": {**asdict(shutdown), "graceful": shutdown.graceful},
            "server_log": {"error": kept.log_errors, "warning": kept.log_warnings},
            "checks": checks,
            "failed": failed,
        }
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if failed:
        print(f"soak: FAILED: {', '.join(failed)}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
