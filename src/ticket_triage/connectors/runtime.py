"""The connectors of one process, built once at start: the desks from ``connectors.toml`` and the
secrets, the outbox in the prediction log's database, the intake and the worker.

The serving layer builds one from its settings (``TRIAGE_CONNECTORS_FILE`` and the desks'
``TRIAGE_*`` secrets) and the CLI builds one for ``triage connectors worker``. Everything that can
be wrong (the file, a class or queue it names, a secret or token missing for a configured desk)
is refused here, at start, with one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ticket_triage.connectors.config import ConnectorsConfig, load_connectors
from ticket_triage.connectors.desk import HelpDesk
from ticket_triage.connectors.freshdesk import Freshdesk
from ticket_triage.connectors.github import GitHub
from ticket_triage.connectors.http import Backoff
from ticket_triage.connectors.intake import Intake, RowMaker
from ticket_triage.connectors.worker import OutboxWorker
from ticket_triage.connectors.zendesk import Zendesk
from ticket_triage.core.errors import ConfigError
from ticket_triage.core.pipeline import Pipeline
from ticket_triage.production.outbox import Outbox
from ticket_triage.production.store import Store

__all__ = ["Connectors", "Secrets", "build_desks"]


@dataclass(frozen=True)
class Secrets:
    """The help desks' secrets (from the environment, never from ``connectors.toml``)."""

    zendesk_signing_secret: str | None = None
    zendesk_api_token: str | None = None
    freshdesk_webhook_secret: str | None = None
    freshdesk_api_key: str | None = None
    github_webhook_secret: str | None = None
    github_token: str | None = None

    def missing(self, desks: tuple[str, ...]) -> list[str]:
        """The settings a configured desk needs and lacks (``TRIAGE_ZENDESK_API_TOKEN``...)."""
        needed = {
            "zendesk": ("zendesk_signing_secret", "zendesk_api_token"),
            "freshdesk": ("freshdesk_webhook_secret", "freshdesk_api_key"),
            "github": ("github_webhook_secret", "github_token"),
        }
        return [
            f"TRIAGE_{name.upper()}"
            for desk in desks
            for name in needed[desk]
            if not getattr(self, name)
        ]


def build_desks(
    config: ConnectorsConfig,
    secrets: Secrets,
    heads: Mapping[str, tuple[str, ...]],
    queues: list[str],
) -> dict[str, HelpDesk]:
    """One :class:`HelpDesk` per configured desk."""
    desks: dict[str, HelpDesk] = {}
    if config.zendesk is not None:
        desks["zendesk"] = Zendesk(
            config.zendesk, heads,
            signing_secret=secrets.zendesk_signing_secret, api_token=secrets.zendesk_api_token,
        )  # fmt: skip
    if config.freshdesk is not None:
        desks["freshdesk"] = Freshdesk(
            config.freshdesk, heads,
            webhook_secret=secrets.freshdesk_webhook_secret, api_key=secrets.freshdesk_api_key,
        )  # fmt: skip
    if config.github is not None:
        desks["github"] = GitHub(
            config.github, heads, queues,
            webhook_secret=secrets.github_webhook_secret, token=secrets.github_token,
        )  # fmt: skip
    return desks


class Connectors:
    """Everything the connectors need at run time (see the module docstring)."""

    def __init__(
        self, config: ConnectorsConfig, desks: dict[str, HelpDesk], outbox: Outbox,
        intake: Intake, worker: OutboxWorker, *, sending: str,
    ) -> None:  # fmt: skip
        self.config = config
        self.desks = desks
        self.outbox = outbox
        self.intake = intake
        self.worker = worker
        self.sending = sending

    @classmethod
    def start(
        cls,
        path: Path,
        secrets: Secrets,
        pipeline: Pipeline,
        store: Store,
        make_row: RowMaker,
        *,
        sending: str,
        max_text_bytes: int = 32 * 1024,
        backoff: Backoff | None = None,
    ) -> Connectors:
        """Load and check ``connectors.toml`` against the pipeline, and start sending.

        ``sending`` is ``thread`` (a worker thread in this process: ``triage serve``), ``inline``
        (within the webhook's own request: Lambda, where nothing runs after the answer) or
        ``none`` (another process drains the outbox: ``triage connectors worker``).

        Raises
        ------
        ConfigError
            The file or an entry is wrong, or a configured desk's secret or token is missing.
        """
        heads = pipeline.model.head_classes
        config = load_connectors(path, heads, pipeline.router.queues)
        missing = secrets.missing(config.desks)
        if missing:
            raise ConfigError(
                f"{path}: {', '.join(config.desks)} configured but {', '.join(missing)} not set"
            )
        desks = build_desks(config, secrets, heads, pipeline.router.queues)
        outbox = Outbox(store)
        bots = {"zendesk": str(config.zendesk.bot_user_id) if config.zendesk and
                config.zendesk.bot_user_id is not None else None}  # fmt: skip
        intake = Intake(desks, pipeline, outbox, make_row, bots=bots, max_text_bytes=max_text_bytes)
        worker = OutboxWorker(outbox, desks, intake, backoff=backoff)
        if sending not in ("thread", "inline", "none"):
            raise ValueError(f"sending must be thread, inline or none, got {sending!r}")
        runtime = cls(config, desks, outbox, intake, worker, sending=sending)
        if sending == "thread":
            worker.start()
        return runtime

    def queued(self, budget_seconds: float = 3.0) -> None:
        """Something was accepted: wake the worker thread, or (``inline``) send it within this
        request for at most ``budget_seconds``; what does not go now waits for the next drain."""
        if self.sending == "thread":
            self.worker.wake()
        elif self.sending == "inline":
            self.worker.drain(budget_seconds)

    def close(self) -> None:
        """Stop the worker thread and close the help desks' connections."""
        self.worker.close()
