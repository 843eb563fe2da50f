"""What every help desk's webhook becomes, and what we write back, in one shape for all three.

A desk module (:mod:`~ticket_triage.connectors.zendesk`, ``freshdesk``, ``github``) turns a
verified webhook into an :class:`InboundEvent` and a decision into the :class:`DeskState` it wants
the ticket to have; :mod:`~ticket_triage.connectors.intake` decides what to do with the event
(triage it, record an agent's correction, or ignore our own write-back) without knowing which
desk it came from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DeskState", "InboundEvent", "Request", "event_key"]


@dataclass(frozen=True)
class DeskState:
    """The part of a ticket triage reads and writes: its group, its priority, and the triage tags
    (Zendesk, Freshdesk) or labels (GitHub) on it. ``None`` means "not set" or "not known"."""

    group: int | None = None
    priority: str | None = None
    marks: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the store."""
        return {"group": self.group, "priority": self.priority, "marks": sorted(self.marks)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DeskState:
        """Read back what :meth:`to_json` wrote (``None``: nothing written yet)."""
        if not data:
            return cls()
        return cls(data.get("group"), data.get("priority"), frozenset(data.get("marks") or ()))


@dataclass(frozen=True)
class InboundEvent:
    """One help-desk event about one ticket, verified and parsed.

    Attributes
    ----------
    desk : str
        ``zendesk``, ``freshdesk`` or ``github``.
    external_id : str
        The ticket in the desk's terms (``35436``, ``acme/app#12``).
    key : str
        Same ticket and same event give the same key: a redelivery is recognised by it.
    subject, body : str
        The ticket's text.
    metadata : dict of str to str
        What becomes ``key:value`` tokens (channel, organisation, custom fields).
    state : DeskState
        The ticket's group, priority and triage marks as the event shows them, only the marks
        that carry our prefix.
    actor : str or None
        Who caused the event (user id or login), to recognise our own write-backs.
    stamp : str or None
        The ticket's ``updated_at`` as the desk said it (Zendesk's safe updates use it).
    complete : bool
        The event carries the ticket's group and priority (and marks): an agent's change can be
        read from it. Otherwise the ticket itself is checked.
    text_changed : bool
        The subject or body was edited (GitHub ``edited``): the ticket is triaged again unless an
        agent has already corrected it.
    tags : tuple of str
        Every tag on the ticket, ours included (Freshdesk's write replaces the whole list).
    target : dict
        What the write-back needs besides the id (GitHub: owner, repository and number).
    """

    desk: str
    external_id: str
    key: str
    subject: str
    body: str
    metadata: dict[str, str]
    state: DeskState
    actor: str | None = None
    stamp: str | None = None
    complete: bool = True
    text_changed: bool = False
    tags: tuple[str, ...] = ()
    target: dict[str, Any] = field(default_factory=dict)

    @property
    def ticket(self) -> dict[str, Any]:
        """The ticket as the pipeline reads it."""
        return {"subject": self.subject, "body": self.body, "metadata": self.metadata}


@dataclass(frozen=True)
class Request:
    """One call of a write-back: method, path under the desk's API URL, and JSON body.

    ``ok`` lists statuses that mean "done" besides 2xx (removing a label that is already gone
    answers 404 on GitHub, and that is what was wanted).
    """

    method: str
    path: str
    json: dict[str, Any] | None = None
    ok: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the outbox."""
        return {"method": self.method, "path": self.path, "json": self.json, "ok": list(self.ok)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Request:
        """Read back what :meth:`to_json` wrote."""
        return cls(data["method"], data["path"], data.get("json"), tuple(data.get("ok") or ()))


def event_key(*parts: object) -> str:
    """A short stable key from the parts that identify an event (sha256, 32 hex digits).

    Examples
    --------
    >>> event_key("zendesk", 35436, "2026-12-02T10:00:00Z") == event_key("zendesk", "35436",
    ...     "2026-12-02T10:00:00Z")
    True
    """
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()[:32]
