"""What each help desk's fields mean in our terms: ``connectors.toml``, beside the routing rules.

One table per connected help desk. Every value that names one of our classes or queues is checked
at start against the loaded model's classes and the routing rules' queues, so a typo fails the
start with one line naming the entry instead of sending tickets to a group that does not exist::

    [zendesk]
    url = "https://acme.zendesk.com"   # the API's base URL
    email = "triage-bot@acme.com"      # the API user (its token: TRIAGE_ZENDESK_API_TOKEN)
    bot_user_id = 900001               # that user's id: its own updates never re-trigger triage
    [zendesk.priority]                 # urgency -> Zendesk priority
    high = "urgent"
    normal = "normal"
    low = "low"
    [zendesk.groups]                   # queue -> Zendesk group id
    priority = 360000001
    billing = 360000002

    [freshdesk]
    url = "https://acme.freshdesk.com"
    [freshdesk.priority]               # urgency -> 1 low, 2 medium, 3 high, 4 urgent
    high = 4
    [freshdesk.groups]
    priority = 43000001

    [github]
    repositories = ["acme/app"]        # webhooks of other repositories are refused
    bot_login = "triage-bot"           # the token's user
    [github.import]                    # backfill: their labels -> our classes
    topic = { bug = ["bug"], feature_request = ["enhancement"] }

Secrets never live here: signing secrets and API tokens come from ``TRIAGE_*`` settings.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ticket_triage.core.errors import ConfigError

__all__ = [
    "ConnectorsConfig",
    "FreshdeskConfig",
    "GitHubConfig",
    "ImportRules",
    "ZendeskConfig",
    "load_connectors",
    "taxonomy",
]

Desk = Literal["zendesk", "freshdesk", "github"]
_Url = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")]
_Tag = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")]

#: Zendesk's ticket priorities (the API's names).
ZENDESK_PRIORITIES = ("low", "normal", "high", "urgent")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImportRules(_Strict):
    """How a help desk's own labels become our classes when importing its history: per head, per
    class, the desk's values (tags, label names) that mean it. Empty: use our own triage tags
    (and, for urgency, the priority) only."""

    urgency: dict[str, list[str]] = Field(default_factory=dict)
    topic: dict[str, list[str]] = Field(default_factory=dict)


class ZendeskConfig(_Strict):
    """A Zendesk Support account."""

    url: _Url
    email: str = Field(min_length=3, description="The API user; its token is a setting.")
    bot_user_id: int | None = Field(
        None, description="The API user's id: events it caused are our own write-backs."
    )
    tag_prefix: _Tag = "triage_"
    priority: dict[str, Literal["low", "normal", "high", "urgent"]]
    groups: dict[str, int]
    import_: ImportRules = Field(default_factory=ImportRules, alias="import")


class FreshdeskConfig(_Strict):
    """A Freshdesk account."""

    url: _Url
    tag_prefix: _Tag = "triage_"
    priority: dict[str, Annotated[int, Field(ge=1, le=4)]]
    groups: dict[str, int]
    import_: ImportRules = Field(default_factory=ImportRules, alias="import")


class GitHubConfig(_Strict):
    """Issues of some GitHub repositories."""

    api_url: _Url = "https://api.github.com"
    repositories: list[Annotated[str, StringConstraints(pattern=r"^[\w.-]+/[\w.-]+$")]] = Field(
        min_length=1
    )
    bot_login: str | None = Field(None, description="The token's user: its events are ours.")
    label_prefix: str = Field("triage: ", max_length=20)
    import_: ImportRules = Field(default_factory=ImportRules, alias="import")

    def label(self, head: str, value: str) -> str:
        """The label we put on an issue for a decision, e.g. ``triage: topic bug``."""
        return f"{self.label_prefix}{head} {value}"


class ConnectorsConfig(_Strict):
    """Every connected help desk (at least one)."""

    zendesk: ZendeskConfig | None = None
    freshdesk: FreshdeskConfig | None = None
    github: GitHubConfig | None = None

    @property
    def desks(self) -> tuple[Desk, ...]:
        """The help desks configured, in a fixed order."""
        names: tuple[Desk, ...] = ("zendesk", "freshdesk", "github")
        return tuple(name for name in names if getattr(self, name) is not None)


def load_connectors(
    path: Path,
    heads: Mapping[str, Sequence[str]] | None = None,
    queues: Sequence[str] | None = None,
) -> ConnectorsConfig:
    """Read ``connectors.toml`` and check it against the model's classes and the rules' queues
    (without them, only the file's own form: ``triage connectors import`` before any model).

    Raises
    ------
    ConfigError
        The file is unreadable, not TOML, has an unknown key or a bad value, names a class or a
        queue the model and rules do not have, or leaves a class or a queue without a mapping; one
        line naming the file and the entry (``zendesk.groups.bug: ...``).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read connectors config ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        config = ConnectorsConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'connectors'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        raise ConfigError(f"{path}: {problems}") from exc
    if not config.desks:
        raise ConfigError(f"{path}: no help desk configured ([zendesk], [freshdesk] or [github])")
    problem = _check(config, heads, queues) if heads is not None and queues is not None else None
    if problem:
        raise ConfigError(f"{path}: {problem}")
    return config


def _check(
    config: ConnectorsConfig, heads: Mapping[str, Sequence[str]], queues: Sequence[str]
) -> str | None:
    """The first entry that does not fit the model or the rules, in words; None if all fit."""
    urgency = list(heads.get("urgency", ()))
    for name in ("zendesk", "freshdesk"):
        desk = getattr(config, name)
        if desk is None:
            continue
        for field, keys, wanted, what in (
            ("priority", desk.priority, urgency, "urgency class"),
            ("groups", desk.groups, list(queues), "queue"),
        ):
            found = _mapping_problem(f"{name}.{field}", keys, wanted, what)
            if found:
                return found
    for name in config.desks:
        rules: ImportRules = getattr(config, name).import_
        for head in ("urgency", "topic"):
            for label in getattr(rules, head):
                if label not in heads.get(head, ()):
                    known = ", ".join(heads.get(head, ())) or f"no {head} head"
                    return f"{name}.import.{head}.{label}: not a {head} class ({known})"
    return None


def _mapping_problem(
    where: str, keys: Mapping[str, object], wanted: Sequence[str], what: str
) -> str | None:
    for key in keys:
        if key not in wanted:
            return (
                f"{where}.{key}: not a {what} of this model and these rules ({', '.join(wanted)})"
            )
    missing = [value for value in wanted if value not in keys]
    if missing:
        return f"{where}: no entry for {what} {missing[0]!r} (every {what} needs one)"
    return None


#: The built-in rules' queues that are not topics (see :func:`taxonomy`).
ROUTING_QUEUES = frozenset({"priority", "review"})


def taxonomy(config: ConnectorsConfig) -> dict[str, tuple[str, ...]]:
    """The classes ``connectors.toml`` itself names, for a backfill run before any model exists:
    urgency classes from the priorities and import tables, topics from the import tables and the
    queues of the groups (with the built-in rules a topic's queue is named after it), except the
    built-in rules' ``priority`` and ``review``."""
    found: dict[str, set[str]] = {"urgency": set(), "topic": set()}
    for name in config.desks:
        desk = getattr(config, name)
        found["urgency"].update(getattr(desk, "priority", {}))
        found["topic"].update(set(getattr(desk, "groups", {})) - ROUTING_QUEUES)
        for head in found:
            found[head].update(getattr(desk.import_, head))
    return {head: tuple(sorted(values)) for head, values in found.items() if values}
