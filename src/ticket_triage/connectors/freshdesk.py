"""Freshdesk: automation-rule webhooks in, ``PUT /api/v2/tickets/{id}`` out, ``GET
/api/v2/tickets`` for the backfill.

**Webhooks.** Freshdesk's "Trigger webhook" action can send a Basic ``Authorization`` header or a
custom header; either carries the shared secret (``TRIAGE_FRESHDESK_WEBHOOK_SECRET``: the Basic
password, any user name, or the ``X-Triage-Secret`` header). Freshdesk does not sign or timestamp
its webhooks, so replays are caught by the event key (the same body is the same event). The body
is the rule's "Simple" content (``{"freshdesk_webhook": {"ticket_id": ..., ...}}``) or the
README's JSON content (``{"ticket": {"id": "{{ticket.id}}", ...}}``).

**Write-back.** ``priority`` 1-4 from the urgency, ``group_id`` from the queue, and ``tags``:
Freshdesk replaces the whole list, so the ticket's other tags are sent back with ours. API key as
the Basic user, ``X`` as the password.

**Corrections.** A rule's placeholders do not reliably carry the group id, so an update of a
ticket we triaged is checked against the ticket itself (``GET /api/v2/tickets/{id}``) before an
agent's change is recorded.

**Backfill.** ``GET /api/v2/tickets?updated_since=...&order_by=updated_at&order_type=asc
&include=description&per_page=100&page=N``; Freshdesk stops at page 300, so the next run starts
from the last ticket's ``updated_at`` (the cursor) instead of a page number.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ticket_triage.connectors.config import FreshdeskConfig
from ticket_triage.connectors.desk import GroupedDesk, Page, constant_time_equal, json_object
from ticket_triage.connectors.events import DeskState, InboundEvent, Request, event_key
from ticket_triage.connectors.http import Sender
from ticket_triage.core.errors import Rejected, Unauthorized

__all__ = ["Freshdesk"]

SECRET_HEADER = "x-triage-secret"  # noqa: S105 (a header name, not a secret)
_PRIORITIES = {"low": 1, "medium": 2, "high": 3, "urgent": 4}
_PER_PAGE = 100
_LAST_PAGE = 300  # Freshdesk's own limit on ?page=


class Freshdesk(GroupedDesk):
    """A Freshdesk account (:class:`~ticket_triage.connectors.config.FreshdeskConfig`)."""

    name = "freshdesk"

    def __init__(
        self,
        config: FreshdeskConfig,
        heads: Mapping[str, Sequence[str]],
        *,
        webhook_secret: str | None,
        api_key: str | None,
    ) -> None:
        priorities = {urgency: str(value) for urgency, value in config.priority.items()}
        super().__init__(
            heads, tag_prefix=config.tag_prefix, priorities=priorities, groups=config.groups
        )
        self.config = config
        self.webhook_secret = webhook_secret
        self.api_key = api_key

    def verify(self, headers: Mapping[str, str], body: bytes, now: float) -> None:
        if not self.webhook_secret:
            raise Unauthorized(
                "freshdesk: no webhook secret is configured (TRIAGE_FRESHDESK_WEBHOOK_SECRET)"
            )
        given = headers.get(SECRET_HEADER)
        authorization = headers.get("authorization", "")
        if given is None and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except ValueError:
                raise Unauthorized("freshdesk: unreadable Basic authorization") from None
            given = decoded.partition(":")[2]
        if given is None:
            raise Unauthorized("freshdesk: no secret (Basic authorization or X-Triage-Secret)")
        if not constant_time_equal(given, self.webhook_secret):
            raise Unauthorized("freshdesk: wrong secret")

    def parse(self, headers: Mapping[str, str], body: bytes) -> InboundEvent | str:
        data = json_object(body)
        if isinstance(data.get("freshdesk_webhook"), dict):
            raw = data["freshdesk_webhook"]
            ticket = {key.removeprefix("ticket_"): value for key, value in raw.items()}
        else:
            ticket = data.get("ticket") if isinstance(data.get("ticket"), dict) else {}
        ticket_id = str(ticket.get("id", "")).strip()
        if not ticket_id.isdigit():
            raise Rejected(("ticket", "id"), "freshdesk: the payload has no ticket id")
        tags = _tags(ticket.get("tags"))
        metadata = {}
        for key in ("source", "type", "company"):
            value = ticket.get(key)
            if isinstance(value, str) and value.strip():
                metadata["channel" if key == "source" else key] = value.strip()
        group = str(ticket.get("group_id", "")).strip()
        return InboundEvent(
            desk=self.name,
            external_id=ticket_id,
            key=event_key(self.name, ticket_id, hashlib.sha256(body).hexdigest()),
            subject=str(ticket.get("subject") or ""),
            body=str(ticket.get("description_text") or ticket.get("description") or ""),
            metadata=metadata,
            state=DeskState(
                int(group) if group.isdigit() else None,
                _priority(ticket.get("priority")),
                self.ours(tags),
            ),
            actor=None,
            stamp=str(ticket.get("updated_at") or "") or None,
            complete="group_id" in ticket and "priority" in ticket,
            tags=tuple(tags),
        )

    def requests(self, event: InboundEvent, target: DeskState) -> list[Request]:
        update: dict[str, Any] = {}
        if target.group is not None and target.group != event.state.group:
            update["group_id"] = target.group
        if target.priority is not None and target.priority != event.state.priority:
            update["priority"] = int(target.priority)
        if target.marks != event.state.marks:
            others = [tag for tag in event.tags if tag not in event.state.marks]
            update["tags"] = [*others, *sorted(target.marks)]
        if not update:
            return []
        return [Request("PUT", f"/api/v2/tickets/{event.external_id}", update)]

    def check(self, external_id: str) -> Request:
        return Request("GET", f"/api/v2/tickets/{external_id}")

    def state_of(self, ticket: Mapping[str, Any]) -> DeskState:
        priority = ticket.get("priority")
        return DeskState(
            ticket.get("group_id") if isinstance(ticket.get("group_id"), int) else None,
            str(priority) if isinstance(priority, int) else None,
            self.ours(_tags(ticket.get("tags"))),
        )

    def sender(self) -> Sender:
        if not self.api_key:
            raise Unauthorized("freshdesk: no API key is configured (TRIAGE_FRESHDESK_API_KEY)")
        return Sender(self.config.url, auth=(self.api_key, "X"))

    def pages(self, sender: Sender, since: str | None, cursor: str | None) -> Iterator[Page]:
        updated_since = cursor or since or "1970-01-01T00:00:00Z"
        page = 1
        while True:
            params = {
                "updated_since": updated_since,
                "order_by": "updated_at",
                "order_type": "asc",
                "include": "description",
                "per_page": _PER_PAGE,
                "page": page,
            }
            tickets = sender.fetch("/api/v2/tickets", params).json()
            rows = [self._row(ticket) for ticket in tickets]
            last = tickets[-1].get("updated_at") if tickets else None
            if len(tickets) < _PER_PAGE:
                yield Page(rows, None)
                return
            if page >= _LAST_PAGE:  # start again from the last ticket seen (duplicates skipped)
                updated_since, page = str(last), 0
            page += 1
            yield Page(rows, str(last) if last else updated_since)

    def _row(self, ticket: Mapping[str, Any]) -> dict[str, str]:
        group = ticket.get("group_id")
        labels = self.history_labels(
            _tags(ticket.get("tags")), _priority(ticket.get("priority")),
            group if isinstance(group, int) else None, self.config.import_,
        )  # fmt: skip
        return {
            "id": f"freshdesk:{ticket.get('id')}",
            "subject": str(ticket.get("subject") or ""),
            "body": str(ticket.get("description_text") or ticket.get("description") or ""),
            "urgency": labels.get("urgency", ""),
            "topic": labels.get("topic", ""),
            "channel": str(ticket.get("source") or ""),
        }


def _tags(value: object) -> list[str]:
    """Tags as a list, from a list or a comma-separated placeholder."""
    if isinstance(value, list):
        return [str(tag) for tag in value]
    return [tag.strip() for tag in str(value or "").split(",") if tag.strip()]


def _priority(value: object) -> str | None:
    """``Urgent`` (a placeholder) or ``4`` (the API): ``"4"``."""
    text = str(value or "").strip().lower()
    if text in _PRIORITIES:
        return str(_PRIORITIES[text])
    return text if text in {"1", "2", "3", "4"} else None
