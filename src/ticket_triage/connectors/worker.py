"""The outbox worker: sends the write-backs and checks the connectors accepted, until each is done,
superseded or dead.

One loop, in a thread of ``triage serve`` (woken at once when a webhook queues something, and
every ``interval`` seconds otherwise), in ``triage connectors worker`` as a process of its own, or
one pass per invoke on Lambda (a scheduled function drains what the webhook's own invoke could
not send). Each pass claims due rows with a lease, sends each through its desk's
:class:`~ticket_triage.connectors.http.Sender`, and records the outcome:

- ``done``: the ticket's link is marked applied (an ``update``), or the ticket's state is
  compared with what we wrote and an agent's correction recorded (a ``check``);
- a late write-back (retried, or queued more than :data:`LATE_SECONDS` ago) first reads the
  ticket: if a person set its group or priority since the event (an agent while the desk's API
  was down), their choice is recorded as feedback and the write-back is ``superseded``, never
  sent over it;
- ``wait`` (rate limited): pending again at the desk's ``Retry-After``, not counted as a failure;
- ``retry``: pending again after :class:`~ticket_triage.connectors.http.Backoff`'s delay; still
  failing ``max_age`` after it was accepted, ``dead``;
- ``dead`` / ``superseded``: final, shown by ``triage connectors status``, ``/metrics`` and the
  dashboard; ``triage connectors retry`` sends a dead one again.

Several workers can drain one outbox: a row is leased to one of them, and a lease that expires
(its worker died mid-send) makes the row due again. The calls are idempotent (set a group, add a
tag), so a send repeated after such a crash does no harm.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from ticket_triage.connectors.desk import HelpDesk
from ticket_triage.connectors.events import DeskState, Request
from ticket_triage.connectors.http import Backoff, Outcome, Sender
from ticket_triage.connectors.intake import Intake
from ticket_triage.core.errors import StoreUnavailable
from ticket_triage.production.outbox import Job, Outbox

__all__ = ["OutboxWorker"]

logger = logging.getLogger(__name__)

#: A write-back this long after its webhook is checked against the ticket before it is sent.
LATE_SECONDS = 30.0

#: Called with (desk, outcome state) after every attempt: the metrics count them.
Listener = Callable[[str, str], None]


class OutboxWorker:
    """Drains one outbox (see the module docstring)."""

    def __init__(
        self,
        outbox: Outbox,
        desks: Mapping[str, HelpDesk],
        intake: Intake,
        *,
        backoff: Backoff | None = None,
        interval: float = 1.0,
        batch: int = 20,
        lease_seconds: float = 60.0,
    ) -> None:
        self.outbox = outbox
        self.desks = dict(desks)
        self.intake = intake
        self.backoff = backoff or Backoff()
        self.interval = interval
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.listeners: list[Listener] = []
        self._senders: dict[str, Sender] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rng = random.Random()

    def sender(self, desk: str) -> Sender:
        """The desk's client, made once."""
        if desk not in self._senders:
            self._senders[desk] = self.desks[desk].sender()
        return self._senders[desk]

    def run_once(self) -> int:
        """Claim and send one batch of due rows; returns how many were attempted (0: nothing
        was due, or the database is down)."""
        try:
            jobs = self.outbox.claim(self.batch, self.lease_seconds)
        except StoreUnavailable as exc:
            logger.warning("outbox unavailable", extra={"error": str(exc)})
            return 0
        for job in jobs:
            self._attempt(job)
        return len(jobs)

    def drain(self, budget_seconds: float) -> int:
        """Passes until nothing is due or ``budget_seconds`` are spent (Lambda's drain)."""
        deadline, total = time.monotonic() + budget_seconds, 0
        while time.monotonic() < deadline:
            done = self.run_once()
            total += done
            if done == 0:
                break
        return total

    def _attempt(self, job: Job) -> None:
        desk = self.desks.get(job.desk)
        if desk is None:
            self.outbox.finish(job, "dead", error=f"{job.desk}: not configured any more")
            return
        requests = [Request.from_json(data) for data in job.requests]
        sender = self.sender(job.desk)
        if job.kind == "check":
            outcome = self._check(desk, sender, job, requests[0])
        else:
            late = job.attempts > 0 or time.time() - job.created_at.timestamp() > LATE_SECONDS
            taken = self._taken_over(desk, sender, job) if late else None
            outcome = taken or sender.send(requests)
        self._record(job, outcome)
        for listener in self.listeners:
            listener(job.desk, outcome.state)

    def _taken_over(self, desk: HelpDesk, sender: Sender, job: Job) -> Outcome | None:
        """Before a late write-back (retried, or queued long ago), read the ticket: if someone
        has set its group or priority since the event, a person triaged it meanwhile (an agent
        during the desk's outage, say), and we must not overwrite them. Their choice is then
        recorded as feedback and the write-back is superseded. None: send it."""
        check = desk.check(job.external_id)
        link = self.outbox.link(job.desk, job.external_id)
        if check is None or link is None:
            return None
        outcome, ticket = sender.read(check)
        if outcome.state != "done":
            return outcome  # the read failed as the write would: retried, waited, dead alike
        if not isinstance(ticket, dict):
            return None
        current, before = desk.state_of(ticket), DeskState.from_json(link.original)
        if (current.group, current.priority) == (before.group, before.priority):
            return None
        self.intake.correct(desk, job.external_id, link, current, f"late:{job.id}", None)
        return Outcome("superseded", "a person set the group or priority before our write-back")

    def _check(self, desk: HelpDesk, sender: Sender, job: Job, request: Request) -> Outcome:
        """Read the ticket and record an agent's correction, if there is one."""
        outcome, ticket = sender.read(request)
        link = self.outbox.link(job.desk, job.external_id)
        if outcome.state == "done" and link is not None and isinstance(ticket, dict):
            current = desk.state_of(ticket)
            self.intake.correct(desk, job.external_id, link, current, f"check:{job.id}", None)
        return outcome

    def _record(self, job: Job, outcome: Outcome) -> None:
        now = time.time()
        if outcome.state == "done":
            self.outbox.finish(job, "done", applied=job.kind == "update")
        elif outcome.state == "superseded":  # the ticket is the person's now: read it as such
            self.outbox.finish(job, "superseded", error=outcome.error, applied=job.kind == "update")
        elif outcome.state == "dead":
            self.outbox.finish(job, "dead", error=outcome.error)
            logger.error("write-back dead", extra={"desk": job.desk, "ticket": job.external_id,
                                                   "error": outcome.error})  # fmt: skip
        elif outcome.state == "wait":
            at = datetime.fromtimestamp(outcome.not_before or now, UTC)
            self.outbox.finish(job, "pending", error=outcome.error, retry_at=at, counted=False)
        elif now - job.created_at.timestamp() >= self.backoff.max_age:
            error = f"{outcome.error} (still failing after {job.attempts + 1} attempts)"
            self.outbox.finish(job, "dead", error=error)
            logger.error("write-back dead", extra={"desk": job.desk, "ticket": job.external_id,
                                                   "error": outcome.error})  # fmt: skip
        else:
            delay = self.backoff.delay(job.attempts + 1, self._rng)
            at = datetime.fromtimestamp(now + delay, UTC)
            self.outbox.finish(job, "pending", error=outcome.error, retry_at=at)

    # -- as a thread -----------------------------------------------------------------------------

    def start(self) -> OutboxWorker:
        """Run passes in a daemon thread until :meth:`close`."""
        self._thread = threading.Thread(target=self._run, name="triage-outbox", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Start a pass now (a webhook just queued something)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the loop must outlive any one bad row; it is logged
                logger.exception("outbox pass failed")
                busy = 0
            if not busy:
                self._wake.wait(self.interval)
                self._wake.clear()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread (a row being sent finishes first) and close the connections."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for sender in self._senders.values():
            sender.close()
