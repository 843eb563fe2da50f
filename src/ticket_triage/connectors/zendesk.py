"""Zendesk Support: webhooks in, ``PUT /api/v2/tickets/{id}`` out, the incremental export for
the backfill.

**Webhooks.** Zendesk signs every webhook request: ``X-Zendesk-Webhook-Signature`` is
``base64(HMAC-SHA256(secret, timestamp + body))`` with the ``X-Zendesk-Webhook-Signature-Timestamp``
header's text as ``timestamp`` (ISO 8601). A request without them, with another signature, or with
a timestamp more than :data:`MAX_AGE_SECONDS` from now (a replay) is refused. Two payloads are
read: a trigger's JSON body as the README's trigger defines it (``{"ticket": {"id":
"{{ticket.id}}", ...}, "current_user_id": "{{current_user.id}}"}``; placeholders render as text,
priorities by their display name, tags space-separated) and Zendesk's own event payloads
(``"type": "zen:event-type:ticket.created"`` with a ``detail`` object).

**Write-back.** ``priority`` from the urgency, ``group_id`` from the queue, our tags added with
``additional_tags`` and stale ones removed with ``remove_tags``: the agent's own tags are never
touched. The API user is ``{email}/token`` with the API token (basic auth).

**Backfill.** ``GET /api/v2/incremental/tickets/cursor.json`` from ``start_time``, then
``?cursor=after_cursor`` until ``end_of_stream``: cursor-based, so it resumes where it stopped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from ticket_triage.connectors.config import ZendeskConfig
from ticket_triage.connectors.desk import GroupedDesk, Page, constant_time_equal, json_object
from ticket_triage.connectors.events import DeskState, InboundEvent, Request, event_key
from ticket_triage.connectors.http import Sender
from ticket_triage.core.errors import Rejected, Unauthorized

__all__ = ["MAX_AGE_SECONDS", "Zendesk", "sign"]

#: A webhook signed longer ago (or further ahead) than this is refused as a replay.
MAX_AGE_SECONDS = 300
SIGNATURE = "x-zendesk-webhook-signature"
TIMESTAMP = "x-zendesk-webhook-signature-timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature Zendesk sends for ``body`` at ``timestamp`` (what tests and the README's
    ``curl`` example compute to replay a signed event; ``openssl dgst -sha256 -hmac`` agrees).

    Examples
    --------
    >>> sign("dGhpc19zZWNyZXQ", "2021-03-25T05:09:27Z", b'{"ticket": {}}')[:12]
    'FjCGHJ3S05/q'
    """
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class Zendesk(GroupedDesk):
    """A Zendesk account (:class:`~ticket_triage.connectors.config.ZendeskConfig`)."""

    name = "zendesk"

    def __init__(
        self,
        config: ZendeskConfig,
        heads: Mapping[str, Sequence[str]],
        *,
        signing_secret: str | None,
        api_token: str | None,
    ) -> None:
        super().__init__(
            heads, tag_prefix=config.tag_prefix, priorities=config.priority, groups=config.groups
        )
        self.config = config
        self.signing_secret = signing_secret
        self.api_token = api_token

    def verify(self, headers: Mapping[str, str], body: bytes, now: float) -> None:
        if not self.signing_secret:
            raise Unauthorized(
                "zendesk: no signing secret is configured (TRIAGE_ZENDESK_SIGNING_SECRET)"
            )
        signature, stamp = headers.get(SIGNATURE), headers.get(TIMESTAMP)
        if not signature or not stamp:
            raise Unauthorized("zendesk: unsigned request (no X-Zendesk-Webhook-Signature)")
        try:
            signed_at = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise Unauthorized("zendesk: unreadable signature timestamp") from None
        if abs(now - signed_at) > MAX_AGE_SECONDS:
            raise Unauthorized(f"zendesk: stale signature (more than {MAX_AGE_SECONDS} s old)")
        if not constant_time_equal(signature, sign(self.signing_secret, stamp, body)):
            raise Unauthorized("zendesk: bad signature")

    def parse(self, headers: Mapping[str, str], body: bytes) -> InboundEvent | str:
        data = json_object(body)
        if str(data.get("type", "")).startswith("zen:event-type:"):
            if not str(data["type"]).startswith("zen:event-type:ticket."):
                return f"not a ticket event ({data['type']})"
            ticket, actor, key = data.get("detail") or {}, None, data.get("id")
            actor = ticket.get("actor_id")
        else:
            ticket, actor, key = data.get("ticket") or {}, data.get("current_user_id"), None
        if not isinstance(ticket, dict) or not str(ticket.get("id", "")).strip().isdigit():
            raise Rejected(("ticket", "id"), "zendesk: the payload has no ticket id")
        ticket_id = str(ticket["id"]).strip()
        tags = _tags(ticket.get("tags"))
        metadata = {
            key: str(ticket[field]).strip()
            for key, field in (("channel", "via"), ("organization", "organization"))
            if isinstance(ticket.get(field), str) and ticket[field].strip()
        }
        if isinstance(ticket.get("via"), dict) and ticket["via"].get("channel"):
            metadata["channel"] = str(ticket["via"]["channel"])
        return InboundEvent(
            desk=self.name,
            external_id=ticket_id,
            key=str(key)
            if key
            else event_key(self.name, ticket_id, hashlib.sha256(body).hexdigest()),
            subject=str(ticket.get("subject") or ""),
            body=str(ticket.get("description") or ""),
            metadata=metadata,
            state=DeskState(
                _int(ticket.get("group_id")), _priority(ticket.get("priority")), self.ours(tags)
            ),
            actor=str(actor).strip() if actor not in (None, "") else None,
            stamp=str(ticket.get("updated_at") or "") or None,
            complete="group_id" in ticket and "priority" in ticket,
            tags=tuple(tags),
        )

    def requests(self, event: InboundEvent, target: DeskState) -> list[Request]:
        update: dict[str, Any] = {}
        if target.group is not None and target.group != event.state.group:
            update["group_id"] = target.group
        if target.priority is not None and target.priority != event.state.priority:
            update["priority"] = target.priority
        if target.marks - event.state.marks:
            update["additional_tags"] = sorted(target.marks - event.state.marks)
        if event.state.marks - target.marks:
            update["remove_tags"] = sorted(event.state.marks - target.marks)
        if not update:
            return []
        return [Request("PUT", f"/api/v2/tickets/{event.external_id}", {"ticket": update})]

    def check(self, external_id: str) -> Request:
        return Request("GET", f"/api/v2/tickets/{external_id}")

    def state_of(self, ticket: Mapping[str, Any]) -> DeskState:
        ticket = ticket.get("ticket", ticket)
        return DeskState(
            _int(ticket.get("group_id")),
            _priority(ticket.get("priority")),
            self.ours(_tags(ticket.get("tags"))),
        )

    def sender(self) -> Sender:
        if not self.api_token:
            raise Unauthorized("zendesk: no API token is configured (TRIAGE_ZENDESK_API_TOKEN)")
        return Sender(self.config.url, auth=(f"{self.config.email}/token", self.api_token))

    def pages(self, sender: Sender, since: str | None, cursor: str | None) -> Iterator[Page]:
        start = int(datetime.fromisoformat(since).timestamp()) if since else 0
        params: dict[str, object] = {"cursor": cursor} if cursor else {"start_time": start}
        while True:
            data = sender.fetch("/api/v2/incremental/tickets/cursor.json", params).json()
            rows = [self._row(ticket) for ticket in data.get("tickets", [])]
            following = None if data.get("end_of_stream") else data.get("after_cursor")
            yield Page([row for row in rows if row], following)
            if following is None:
                return
            params = {"cursor": following}

    def _row(self, ticket: Mapping[str, Any]) -> dict[str, str] | None:
        """One exported ticket as a data-contract row; None for a deleted one."""
        if ticket.get("status") == "deleted":
            return None
        labels = self.history_labels(
            _tags(ticket.get("tags")), _priority(ticket.get("priority")),
            _int(ticket.get("group_id")), self.config.import_,
        )  # fmt: skip
        channel = (
            (ticket.get("via") or {}).get("channel")
            if isinstance(ticket.get("via"), dict)
            else None
        )
        return {
            "id": f"zendesk:{ticket.get('id')}",
            "subject": str(ticket.get("subject") or ""),
            "body": str(ticket.get("description") or ""),
            "urgency": labels.get("urgency", ""),
            "topic": labels.get("topic", ""),
            "channel": str(channel or ""),
        }


def _tags(value: object) -> list[str]:
    """Tags as a list, from a list or a space-separated placeholder."""
    if isinstance(value, list):
        return [str(tag) for tag in value]
    return str(value or "").split()


def _priority(value: object) -> str | None:
    """``Urgent`` (a placeholder), ``URGENT`` (an event) or ``urgent`` (the API): ``urgent``."""
    text = str(value or "").strip().lower()
    return text if text in ("low", "normal", "high", "urgent") else None


def _int(value: object) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None
