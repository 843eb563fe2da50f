"""What every help desk has in common: marks (triage tags or labels), the state a decision wants
a ticket in, reading an agent's correction back, and the shape of a backfill page.

A desk module subclasses :class:`HelpDesk` with what is specific to it: how its webhooks are
signed and shaped, how an update is written, how its history is paged.
"""

from __future__ import annotations

import hmac
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ticket_triage.connectors.config import ImportRules
from ticket_triage.connectors.events import DeskState, InboundEvent, Request
from ticket_triage.connectors.http import Sender
from ticket_triage.core.errors import Rejected

__all__ = ["GroupedDesk", "HelpDesk", "Page", "constant_time_equal", "json_object"]

_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Page:
    """One page of a help desk's history: tickets as data-contract rows, and where to go next
    (``None``: that was the last page)."""

    rows: list[dict[str, str]]
    cursor: str | None


def constant_time_equal(given: str | bytes, expected: str | bytes) -> bool:
    """Compare secrets without leaking where they differ through timing."""
    a = given.encode() if isinstance(given, str) else given
    b = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(a, b)


def json_object(body: bytes) -> dict[str, Any]:
    """The webhook's JSON object.

    Raises
    ------
    Rejected
        The body is not a JSON object.
    """
    import json

    try:
        data = json.loads(body)
    except ValueError as exc:
        raise Rejected(("body",), f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Rejected(("body",), "expected a JSON object")
    return data


class HelpDesk(ABC):
    """One connected help desk.

    Parameters
    ----------
    heads : mapping of str to sequence of str
        The model's heads and classes (what marks can say).
    """

    name: str

    def __init__(self, heads: Mapping[str, Sequence[str]]) -> None:
        self.heads = {head: tuple(classes) for head, classes in heads.items()}

    # -- marks: our decision as tags or labels ------------------------------------------------

    @abstractmethod
    def mark(self, head: str, value: str) -> str:
        """The tag or label that says ``head`` is ``value`` (``triage_topic_billing``)."""

    def marks_of(self, labels: Mapping[str, str], queue: str) -> frozenset[str]:
        """Every mark of one decision: one per head, and the queue's (a view or a search in the
        desk can then find a queue even where two queues share a group)."""
        heads = {self.mark(head, value) for head, value in labels.items()}
        return frozenset(heads | {self.mark("queue", queue)})

    def ours(self, tags: Sequence[str]) -> frozenset[str]:
        """The marks among a ticket's tags or labels: any class of any head, and any queue's
        (one the rules no longer have included, so a stale one is still ours to remove)."""
        known = {self.mark(head, c) for head, classes in self.heads.items() for c in classes}
        queue = self.mark("queue", "")
        return frozenset(
            tag for tag in tags if tag in known or (tag.startswith(queue) and tag != queue)
        )

    def imported_labels(self, tags: Sequence[str], rules: ImportRules) -> dict[str, str]:
        """A ticket's classes in its desk's history: our own marks first, then the config's
        ``import`` rules (the desk's tags or labels that mean a class)."""
        labels = self.read_marks(self.ours(tags))
        for head in ("urgency", "topic"):
            for value, names in getattr(rules, head).items():
                if head not in labels and set(names) & set(tags):
                    labels[head] = value
        return labels

    def read_marks(self, marks: frozenset[str]) -> dict[str, str]:
        """Per head, the class its mark says (a head with several marks says nothing)."""
        found: dict[str, list[str]] = {}
        for head, classes in self.heads.items():
            for value in classes:
                if self.mark(head, value) in marks:
                    found.setdefault(head, []).append(value)
        return {head: values[0] for head, values in found.items() if len(values) == 1}

    @staticmethod
    def slug(value: str) -> str:
        """A class or queue name as tag text (Zendesk and Freshdesk tags are one lower-case word).

        Examples
        --------
        >>> HelpDesk.slug("Feature Request")
        'feature_request'
        """
        return _SLUG.sub("_", value.lower()).strip("_")

    # -- the state a decision wants, and corrections read back --------------------------------

    def target(self, labels: Mapping[str, str], queue: str) -> DeskState:
        """The group, priority and marks a ticket should get for this decision."""
        return DeskState(marks=self.marks_of(labels, queue))

    def corrections(self, written: DeskState, current: DeskState) -> dict[str, str]:
        """What an agent changed since our write-back, in our terms (``{"topic": "bug"}``):
        the marks of each head that differ from the ones we wrote. Desks with groups and
        priorities read those too (subclasses)."""
        before, after = self.read_marks(written.marks), self.read_marks(current.marks)
        return {head: value for head, value in after.items() if before.get(head) != value}

    # -- the desk's own protocol --------------------------------------------------------------

    @abstractmethod
    def verify(self, headers: Mapping[str, str], body: bytes, now: float) -> None:
        """Check that the webhook comes from the desk (raises
        :class:`~ticket_triage.core.errors.Unauthorized`)."""

    @abstractmethod
    def parse(self, headers: Mapping[str, str], body: bytes) -> InboundEvent | str:
        """The event, or why it is not one we act on (a ping, a pull request...)."""

    @abstractmethod
    def requests(self, event: InboundEvent, target: DeskState) -> list[Request]:
        """The calls that bring the ticket from ``event.state`` to ``target``."""

    @abstractmethod
    def sender(self) -> Sender:
        """A client for the desk's API, with its credentials."""

    @abstractmethod
    def pages(self, sender: Sender, since: str | None, cursor: str | None) -> Iterator[Page]:
        """The desk's history from ``since`` (an ISO date) on, a page at a time, starting at
        ``cursor`` when resuming."""

    def check(self, external_id: str) -> Request | None:
        """The call that reads a ticket's current state, when its webhooks may not carry it all
        (Zendesk and Freshdesk placeholders); None when every event carries it (GitHub)."""
        return None

    def state_of(self, ticket: Mapping[str, Any]) -> DeskState:
        """The answer of :meth:`check` as triage reads it."""
        raise NotImplementedError(f"{self.name} needs no check")

    def is_own(self, event: InboundEvent, bot: str | None) -> bool:
        """Whether the event was caused by our own write-back (its actor is our API user)."""
        return bot is not None and event.actor is not None and str(event.actor) == str(bot)


class GroupedDesk(HelpDesk):
    """A desk whose tickets have a group (our queue), a priority (our urgency) and tags (our
    marks): Zendesk and Freshdesk.

    Parameters
    ----------
    heads : mapping of str to sequence of str
        The model's heads and classes.
    tag_prefix : str
        Our tags start with it (``triage_``).
    priorities : mapping of str to str
        Urgency class -> the desk's priority, as its API writes it in text (``"urgent"``, ``"4"``).
    groups : mapping of str to int
        Queue -> the desk's group id.
    """

    def __init__(
        self,
        heads: Mapping[str, Sequence[str]],
        *,
        tag_prefix: str,
        priorities: Mapping[str, str],
        groups: Mapping[str, int],
    ) -> None:
        super().__init__(heads)
        self.tag_prefix = tag_prefix
        self.priorities = dict(priorities)
        self.groups = dict(groups)
        self._urgency = {value: key for key, value in self.priorities.items()}
        self._queues = {value: key for key, value in self.groups.items()}

    def mark(self, head: str, value: str) -> str:
        return f"{self.tag_prefix}{head}_{self.slug(value)}"

    def target(self, labels: Mapping[str, str], queue: str) -> DeskState:
        urgency = labels.get("urgency")
        return DeskState(
            group=self.groups.get(queue),
            priority=self.priorities.get(urgency) if urgency else None,
            marks=self.marks_of(labels, queue),
        )

    def corrections(self, written: DeskState, current: DeskState) -> dict[str, str]:
        found = super().corrections(written, current)
        if current.group != written.group and current.group in self._queues:
            found["queue"] = self._queues[current.group]
        if current.priority != written.priority and current.priority in self._urgency:
            found.setdefault("urgency", self._urgency[current.priority])
        return found

    def history_labels(
        self, tags: Sequence[str], priority: str | None, group: int | None, rules: ImportRules
    ) -> dict[str, str]:
        """An exported ticket's classes: marks and ``import`` rules first, then the priority
        (through ``[*.priority]``) and the group (through ``[*.groups]``, when it is a topic)."""
        labels = self.imported_labels(tags, rules)
        if "urgency" not in labels and priority in self._urgency:
            labels["urgency"] = self._urgency[priority]
        queue = self._queues.get(group) if group is not None else None
        if "topic" not in labels and queue in self.heads.get("topic", ()):
            labels["topic"] = queue
        return labels
