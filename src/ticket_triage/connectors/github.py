"""GitHub Issues: ``issues`` webhooks in, labels out, the issues list for the backfill.

**Webhooks.** ``X-Hub-Signature-256`` is ``sha256=`` and the hex HMAC-SHA256 of the body with the
webhook's secret (``TRIAGE_GITHUB_WEBHOOK_SECRET``); the body may be JSON or, GitHub's default,
form-encoded (``payload=...``), the signature being of the body as sent; ``X-GitHub-Delivery`` is
the delivery's id, kept by a redelivery, so it is the event key. ``issues`` events with ``opened``,
``reopened``, ``edited``, ``labeled`` and ``unlabeled`` are read; a ``ping`` and every other event
or action are acknowledged and ignored, pull requests too. Repositories not listed in the config
are refused.

**Write-back.** ``POST /repos/{owner}/{repo}/issues/{number}/labels`` adds our labels (``triage:
urgency high``, ``triage: topic bug``, ``triage: queue priority``); each stale one goes with
``DELETE .../labels/{name}`` (a 404 there means it is already gone: done). Bearer token, the REST
API's version header.

**Backfill.** ``GET /repos/{owner}/{repo}/issues?state=all&sort=created&direction=asc`` page by
page through the ``Link: <...>; rel="next"`` header (that URL is the cursor), pull requests
skipped; rate limits (403 or 429 with ``x-ratelimit-remaining: 0``) are waited out.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from ticket_triage.connectors.config import GitHubConfig
from ticket_triage.connectors.desk import HelpDesk, Page, constant_time_equal, json_object
from ticket_triage.connectors.events import DeskState, InboundEvent, Request
from ticket_triage.connectors.http import Sender
from ticket_triage.core.errors import Rejected, Unauthorized

__all__ = ["GitHub", "sign"]

SIGNATURE = "x-hub-signature-256"
_ACTIONS = frozenset({"opened", "reopened", "edited", "labeled", "unlabeled"})


def sign(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class GitHub(HelpDesk):
    """Issues of the configured repositories (:class:`~.config.GitHubConfig`).

    Its marks cover the queue too (``triage: queue priority``): GitHub has no groups.
    """

    name = "github"

    def __init__(
        self,
        config: GitHubConfig,
        heads: Mapping[str, Sequence[str]],
        queues: Sequence[str],
        *,
        webhook_secret: str | None,
        token: str | None,
    ) -> None:
        super().__init__({**heads, "queue": tuple(queues)})
        self.config = config
        self.webhook_secret = webhook_secret
        self.token = token

    def mark(self, head: str, value: str) -> str:
        return self.config.label(head, value)

    def verify(self, headers: Mapping[str, str], body: bytes, now: float) -> None:
        if not self.webhook_secret:
            raise Unauthorized(
                "github: no webhook secret is configured (TRIAGE_GITHUB_WEBHOOK_SECRET)"
            )
        signature = headers.get(SIGNATURE)
        if not signature:
            raise Unauthorized("github: unsigned request (no X-Hub-Signature-256)")
        if not constant_time_equal(signature, sign(self.webhook_secret, body)):
            raise Unauthorized("github: bad signature")

    def parse(self, headers: Mapping[str, str], body: bytes) -> InboundEvent | str:
        kind = headers.get("x-github-event", "")
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            body = parse_qs(body.decode(errors="replace")).get("payload", [""])[0].encode()
        data = json_object(body)
        if kind == "ping":
            return "ping"
        if kind != "issues":
            return f"not an issues event ({kind or 'no X-GitHub-Event'})"
        action = str(data.get("action", ""))
        if action not in _ACTIONS:
            return f"issues action {action!r} is not triaged"
        issue, repository = data.get("issue"), data.get("repository") or {}
        if not isinstance(issue, dict) or not isinstance(issue.get("number"), int):
            raise Rejected(("issue", "number"), "github: the payload has no issue number")
        if "pull_request" in issue:
            return "a pull request"
        full_name = str(repository.get("full_name", ""))
        if full_name not in self.config.repositories:
            raise Rejected(
                ("repository", "full_name"), f"github: repository {full_name!r} is not configured"
            )
        labels = [
            str(label.get("name")) for label in issue.get("labels") or [] if isinstance(label, dict)
        ]
        changes = data.get("changes") or {}
        delivery = headers.get("x-github-delivery") or hashlib.sha256(body).hexdigest()
        owner, _, repo = full_name.partition("/")
        return InboundEvent(
            desk=self.name,
            external_id=f"{full_name}#{issue['number']}",
            key=f"github:{delivery}",
            subject=str(issue.get("title") or ""),
            body=str(issue.get("body") or ""),
            metadata={"repository": repo},
            state=DeskState(marks=self.ours(labels)),
            actor=str((data.get("sender") or {}).get("login") or "") or None,
            stamp=str(issue.get("updated_at") or "") or None,
            text_changed=action == "edited" and bool({"title", "body"} & set(changes)),
            tags=tuple(labels),
            target={"owner": owner, "repo": repo, "number": issue["number"]},
        )

    def requests(self, event: InboundEvent, target: DeskState) -> list[Request]:
        base = (
            f"/repos/{event.target['owner']}/{event.target['repo']}/issues/{event.target['number']}"
        )
        calls = []
        added = sorted(target.marks - event.state.marks)
        if added:
            calls.append(Request("POST", f"{base}/labels", {"labels": added}))
        for stale in sorted(event.state.marks - target.marks):
            calls.append(Request("DELETE", f"{base}/labels/{quote(stale, safe='')}", ok=(404,)))
        return calls

    def is_own(self, event: InboundEvent, bot: str | None) -> bool:
        return super().is_own(event, bot or self.config.bot_login)

    def sender(self) -> Sender:
        if not self.token:
            raise Unauthorized("github: no token is configured (TRIAGE_GITHUB_TOKEN)")
        headers = {
            "accept": "application/vnd.github+json",
            "x-github-api-version": "2022-11-28",
            "authorization": f"Bearer {self.token}",
        }
        return Sender(self.config.api_url, headers=headers)

    def pages(self, sender: Sender, since: str | None, cursor: str | None) -> Iterator[Page]:
        """Each repository in turn; the cursor is ``"{repository} {url of the next page}"``."""
        repositories = self.config.repositories
        if cursor is None:
            cursor = self._start(repositories[0], since)
        while cursor is not None:
            repository, _, url = cursor.partition(" ")
            response = sender.fetch(url)
            issues = [issue for issue in response.json() if "pull_request" not in issue]
            following = response.links.get("next", {}).get("url")
            if following:
                cursor = f"{repository} {following}"
            elif repository in repositories and repository != repositories[-1]:
                cursor = self._start(repositories[repositories.index(repository) + 1], since)
            else:
                cursor = None
            yield Page([self._row(repository, issue) for issue in issues], cursor)

    @staticmethod
    def _start(repository: str, since: str | None) -> str:
        query = {"state": "all", "sort": "created", "direction": "asc", "per_page": 100}
        if since:
            query["since"] = since
        return f"{repository} /repos/{repository}/issues?{urlencode(query)}"

    def _row(self, repository: str, issue: Mapping[str, Any]) -> dict[str, str]:
        labels = [
            str(label.get("name")) for label in issue.get("labels") or [] if isinstance(label, dict)
        ]
        found = self.imported_labels(labels, self.config.import_)
        return {
            "id": f"github:{repository}#{issue.get('number')}",
            "subject": str(issue.get("title") or ""),
            "body": str(issue.get("body") or ""),
            "urgency": found.get("urgency", ""),
            "topic": found.get("topic", ""),
            "channel": "github",
        }
