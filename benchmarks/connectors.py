"""Help desks end to end: a Zendesk webhook in, the ticket's update out, against a fake Zendesk.

Target of the help-desk issue: at 50 new tickets/s for 60 s, every ticket's update reaches the
help desk exactly once (none lost, none twice), and the time from the webhook to the update is
measured (p50, p99).

- The help desk is ``tests/connectors/fake_helpdesk.py``, the tests' fake: a real HTTP server on
  loopback with Zendesk's ``PUT /api/v2/tickets/{id}``, in this process, which records when each
  update arrived. It holds one ticket per slot of the schedule, texts cycled from the bundled
  sample data.
- The service is ``triage serve`` (one uvicorn worker) with that Zendesk connected through
  ``connectors.toml``, its outbox and prediction log in a fresh SQLite file (``--db`` for
  another database), the outbox worker a thread of the same process, as ``triage serve`` runs by
  default.
- The load is open loop, ``http_latency.py``'s scheme: send times fixed in advance, one thread
  per keep-alive connection owning every ``connections``-th slot. Each webhook is the README's
  trigger body for a new ticket, signed as Zendesk signs it at send time. Latency is counted
  from the scheduled send, so a stall is charged to every webhook behind it: webhook-to-update
  is the update's arrival at the fake minus the webhook's scheduled time, the webhook's own
  answer (202 once the event, the decision and the write-back are committed) is reported too.
- The baseline, in the same session and against the same server just before: ``POST
  /v1/triage`` at the same rate, so the table shows what the durable accept and the write-back
  add to a decision on this machine at that moment (the machine is shared: absolute numbers
  move with its other load, the ratio less).

After the load the script waits (up to ``--drain`` seconds) for the last updates, then stops the
server with SIGTERM. Lost: a ticket answered 202 whose update never arrived; twice: a ticket
updated more than once. Either, or any webhook not answered 202, fails the run (non-zero exit).
``--down S`` makes the fake answer 503 for the first ``S`` seconds of webhooks: the updates then
arrive through the retries (``TRIAGE_CONNECTORS_RETRY_*``, 2 s doubling by default) once it is
back, within ``--drain``, or count as lost.

Usage::

    python benchmarks/connectors.py --model models/default [--rate 50] [--duration 60]
        [--connections 8] [--db URL] [--down S] [--drain S] [--json OUT] [--results DIR]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _report import Target, machine, publish, verdict, versions
from http_latency import ROOT, Latency, free_port, request_bodies, wait_ready
from soak import stop_server

sys.path.insert(0, str(ROOT / "tests" / "connectors"))  # the tests' fake help desk
from fake_helpdesk import FakeHelpDesk

from ticket_triage.connectors.zendesk import sign
from ticket_triage.core.pipeline import Pipeline

SECRET = "benchmark-signing-secret"  # noqa: S105 (a loopback fake's, made up here)
TOKEN = "benchmark-api-token"  # noqa: S105
EMAIL = "triage-bot@example.com"
TIMEOUT_S = 10.0
FIRST_TICKET = 100_000
SERVER_PACKAGES = ("fastapi", "uvicorn", "sqlalchemy", "httpx2", "ticket-triage")


# -- the help desk and the service -------------------------------------------------------------


def fake_zendesk(tickets: int) -> FakeHelpDesk:
    """The fake, holding ``tickets`` new tickets, checking the API user's credentials."""
    credentials = "Basic " + base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
    fake = FakeHelpDesk("zendesk", credentials=credentials)
    texts = [json.loads(body) for group in request_bodies().values() for body in group]
    for n in range(tickets):
        text = texts[n % len(texts)]
        fake.add({
            "id": FIRST_TICKET + n, "subject": text["subject"], "description": text["body"],
            "priority": None, "group_id": None, "tags": [], "status": "new",
        })  # fmt: skip
    return fake.start()


def connectors_toml(url: str, model: Path) -> str:
    """Zendesk connected, every queue of the model's default rules a group."""
    pipeline = Pipeline.load(model)
    groups = "\n".join(f"{q} = {360_000_000 + i}" for i, q in enumerate(pipeline.router.queues))
    priorities = {"high": "urgent", "normal": "normal", "low": "low"}
    urgency = pipeline.model.head_classes.get("urgency", ())
    priority = "\n".join(f'{c} = "{priorities.get(c, "normal")}"' for c in urgency)
    return (
        f'[zendesk]\nurl = "{url}"\nemail = "{EMAIL}"\nbot_user_id = 900001\n'
        f"[zendesk.priority]\n{priority}\n[zendesk.groups]\n{groups}\n"
    )


def start_server(
    model: Path, directory: Path, zendesk: str, database: str | None
) -> tuple[subprocess.Popen[bytes], int]:
    """``triage serve`` with Zendesk connected; the caller's ``TRIAGE_*`` variables are dropped
    so a token or another database in the shell cannot change what is measured."""
    config = directory / "connectors.toml"
    config.write_text(connectors_toml(zendesk, model))
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRIAGE_")}
    env |= {
        "TRIAGE_LOG_LEVEL": "WARNING",
        "TRIAGE_SPOOL_PATH": str(directory / "spool.jsonl"),
        "TRIAGE_ZENDESK_SIGNING_SECRET": SECRET,
        "TRIAGE_ZENDESK_API_TOKEN": TOKEN,
    }
    port = free_port()
    banner = directory / "server.err"
    command = [
        str(Path(sys.executable).with_name("triage")), "serve", "--model", str(model.resolve()),
        "--host", "127.0.0.1", "--port", str(port), "--connectors", str(config),
        "--db", database or f"sqlite:///{directory / 'triage.db'}",
    ]  # fmt: skip
    with (directory / "server.log").open("wb") as out, banner.open("wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=directory)
    try:
        wait_ready(port, process, banner)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process, port


# -- the load ----------------------------------------------------------------------------------


@dataclass
class Sent:
    """What the clients saw: per slot, the scheduled wall-clock time and the answer."""

    due: dict[int, float] = field(default_factory=dict)
    answer_ms: list[float] = field(default_factory=list)
    accepted: set[int] = field(default_factory=set)
    statuses: Counter[str] = field(default_factory=Counter)


def trigger(ticket: dict[str, Any]) -> bytes:
    """The README's trigger body for a new ticket, as Zendesk renders it."""
    return json.dumps({
        "ticket": {
            "id": str(ticket["id"]), "subject": ticket["subject"],
            "description": ticket["description"], "priority": "-", "group_id": "",
            "tags": "", "via": "Web form", "updated_at": "2026-12-01T10:00:00Z",
        },
        "current_user_id": "20978392",
    }).encode()  # fmt: skip


def run_load(
    port: int, rate: float, duration: float, connections: int, body_of: Any, path: str
) -> Sent:
    """``rate`` requests/s for ``duration`` s; ``body_of(slot)`` gives ``(body, headers)``."""
    total = int(rate * duration)
    sent = Sent()
    lock = threading.Lock()
    clients = []
    for _ in range(connections):
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
        client.request("GET", "/healthz")
        client.getresponse().read()
        clients.append(client)
    start, wall = time.perf_counter() + 0.2, time.time() + 0.2

    def connection(k: int) -> None:
        client = clients[k]
        for slot in range(k, total, connections):
            delay = start + slot / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body, headers = body_of(slot)
            try:
                client.request("POST", path, body, headers)
                response = client.getresponse()
                status = response.status
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                client.close()
            took = (time.perf_counter() - start - slot / rate) * 1000
            with lock:
                sent.due[slot] = wall + slot / rate
                sent.answer_ms.append(took)
                sent.statuses[str(status)] += 1
                if status in (200, 202):
                    sent.accepted.add(slot)
        client.close()

    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(connection, range(connections)))
    return sent


def webhooks(fake: FakeHelpDesk) -> Any:
    """``body_of(slot)``: slot ``n``'s ticket as a signed trigger, signed when it is sent."""

    def body_of(slot: int) -> tuple[bytes, dict[str, str]]:
        body = trigger(fake.tickets[str(FIRST_TICKET + slot)])
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return body, {
            "Content-Type": "application/json",
            "X-Zendesk-Webhook-Signature": sign(SECRET, stamp, body),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        }

    return body_of


# -- the result --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One run, as reported."""

    rate: float
    duration: float
    webhooks: int
    accepted: int
    statuses: dict[str, int]
    baseline: Latency
    answer: Latency
    to_update: Latency | None
    lost: int
    twice: int
    drained_s: float
    shutdown_status: int


def delivered(fake: FakeHelpDesk, sent: Sent) -> tuple[dict[int, list[float]], float]:
    """Per accepted slot, when its updates arrived; and how long after the load the last did."""
    arrivals: dict[int, list[float]] = {slot: [] for slot in sent.accepted}
    for write in fake.writes():
        slot = int(write.path.rsplit("/", 1)[-1].removesuffix(".json")) - FIRST_TICKET
        if write.method == "PUT" and slot in arrivals:
            arrivals[slot].append(write.at)
    last = max((times[0] for times in arrivals.values() if times), default=time.time())
    return arrivals, last - max(sent.due.values(), default=last)


def measure(args: argparse.Namespace) -> Result:
    total = int(args.rate * args.duration)
    fake = fake_zendesk(total)
    with tempfile.TemporaryDirectory(prefix="triage-connectors-") as tmp:
        process, port = start_server(args.model, Path(tmp), fake.url, args.db)
        try:
            ticket = request_bodies()["medium"][0]
            baseline = run_load(
                port, args.rate, args.baseline, args.connections,
                lambda slot: (ticket, {"Content-Type": "application/json"}), "/v1/triage",
            )  # fmt: skip
            fake.down_for(args.down)
            sent = run_load(
                port, args.rate, args.duration, args.connections, webhooks(fake),
                "/v1/connectors/zendesk",
            )  # fmt: skip
            deadline = time.monotonic() + args.drain
            while time.monotonic() < deadline:
                arrivals, _ = delivered(fake, sent)
                if all(arrivals.values()):
                    break
                time.sleep(0.2)
        finally:
            shutdown = stop_server(process)
        time.sleep(1.0)  # an update sent twice would arrive now
        arrivals, drained = delivered(fake, sent)
    fake.stop()
    to_update = [(times[0] - sent.due[slot]) * 1000 for slot, times in arrivals.items() if times]
    return Result(
        rate=args.rate,
        duration=args.duration,
        webhooks=total,
        accepted=len(sent.accepted),
        statuses=dict(sent.statuses),
        baseline=Latency.of(baseline.answer_ms),
        answer=Latency.of(sent.answer_ms, total - len(sent.accepted)),
        to_update=Latency.of(to_update) if to_update else None,
        lost=sum(1 for times in arrivals.values() if not times),
        twice=sum(1 for times in arrivals.values() if len(times) > 1),
        drained_s=drained,
        shutdown_status=shutdown.exit_status,
    )


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def report(result: Result, command: str) -> tuple[str, list[Target]]:
    ok = result.lost == 0 and result.twice == 0 and result.accepted == result.webhooks
    to_update = result.to_update
    targets = [
        Target(
            f"help desks: updates lost at {result.rate:g} webhooks/s for {result.duration:g} s",
            f"{result.lost} lost, {result.twice} twice, {result.accepted}/{result.webhooks} "
            "accepted",
            ok,
        )
    ]
    rows = [
        "| measured | requests | p50 | p99 | max |",
        "|---|---:|---:|---:|---:|",
        f"| baseline: `POST /v1/triage` answered | {result.baseline.requests} | "
        f"{_ms(result.baseline.p50)} | {_ms(result.baseline.p99)} | {_ms(result.baseline.max)} |",
        f"| webhook answered (202: event, decision, write-back committed) | "
        f"{result.answer.requests} | {_ms(result.answer.p50)} | {_ms(result.answer.p99)} | "
        f"{_ms(result.answer.max)} |",
    ]
    if to_update is not None:
        rows.append(
            f"| **webhook in to update out** (the PUT at the fake Zendesk) | "
            f"{to_update.requests} | **{_ms(to_update.p50)}** | **{_ms(to_update.p99)}** | "
            f"{_ms(to_update.max)} |"
        )
    statuses = ", ".join(f"{count} x {status}" for status, count in sorted(result.statuses.items()))
    markdown = "\n".join([
        f"Measured {datetime.now(UTC):%Y-%m-%d} with `{command}` on {machine()}; "
        f"{versions(SERVER_PACKAGES)}.",
        "",
        *rows,
        "",
        f"{result.webhooks} webhooks at {result.rate:g}/s for {result.duration:g} s "
        f"(answers: {statuses}); **{result.lost} updates lost, {result.twice} written twice**; "
        f"the last update arrived {result.drained_s:.2f} s after the last webhook was due; "
        f"SIGTERM exit status {result.shutdown_status}. Target: {verdict(ok)}.",
    ])  # fmt: skip
    return markdown, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--rate", type=float, default=50.0, help="webhooks/s, open loop")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of webhooks")
    parser.add_argument("--baseline", type=float, default=15.0, help="seconds of /v1/triage")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections")
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait for updates")
    parser.add_argument("--db", help="the outbox's database (default: a fresh SQLite file)")
    parser.add_argument(
        "--down", type=float, default=0.0, help="the fake answers 503 for the first S seconds"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--results", type=Path, help="keep the section here for assemble.py")
    args = parser.parse_args()
    if not (args.model / "manifest.json").is_file():
        parser.exit(2, f"error: no model at {args.model} (make run, or triage train first)\n")
    result = measure(args)
    command = "python benchmarks/connectors.py " + " ".join(sys.argv[1:])
    markdown, targets = report(result, command.strip())
    print(markdown)
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=2) + "\n")
    publish(args.results, "connectors", markdown, targets)
    if not all(target.met for target in targets):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
