"""Route a decided ticket to a queue with declarative rules: the last step of the data path.

Rules live in a TOML file (the standard library reads it, so the Lambda package needs nothing
more). They are tried in order and the first match wins; the last rule must match everything::

    [[rules]]
    name = "priority"                 # high urgency first, whatever else is uncertain
    queue = "priority"
    when = { urgency = "high" }

    [[rules]]
    name = "enterprise-billing"
    queue = "billing-enterprise"
    when = { topic = "billing", metadata = { plan = "enterprise" } }

    [[rules]]
    name = "review"
    queue = "review"
    when = { needs_review = true }

    [[rules]]
    name = "by-topic"                 # no `when`: the catch-all
    queue = "{topic}"                 # placeholders name a head: one queue per topic

A condition on a head takes a class or a list of classes; ``needs_review`` takes a boolean;
``metadata`` takes a table of key -> value or list of values, compared without regard to case
or surrounding white space. A file is checked against the model when it is loaded: an unknown
head, class, key or placeholder, a duplicate name, or a missing or early catch-all is refused
with a message naming the rule, so a typo fails at start instead of misrouting tickets.

Without a file, :func:`default_rules` gives the same shape for whatever heads the model has.
"""

from __future__ import annotations

import itertools
import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ticket_triage.core.errors import ConfigError

__all__ = ["Route", "Router", "Rule", "default_rules"]

_CONDITION_KEYS = frozenset({"needs_review", "metadata"})


@dataclass(frozen=True)
class Rule:
    """One routing rule: conditions that must all hold, and the queue they send to."""

    name: str
    queue: str
    labels: Mapping[str, frozenset[str]]  # head -> accepted classes
    needs_review: bool | None
    metadata: Mapping[str, frozenset[str]]  # key -> accepted values, lower-cased

    @property
    def catch_all(self) -> bool:
        """True when the rule has no condition."""
        return not self.labels and self.needs_review is None and not self.metadata

    def matches(
        self, labels: Mapping[str, str], needs_review: bool, metadata: Mapping[str, str]
    ) -> bool:
        """Whether every condition of the rule holds for this decision."""
        if self.needs_review is not None and needs_review != self.needs_review:
            return False
        if any(labels.get(head) not in accepted for head, accepted in self.labels.items()):
            return False
        return all(
            _norm(metadata.get(key, "")) in accepted for key, accepted in self.metadata.items()
        )

    def to_json(self) -> dict[str, Any]:
        """The rule as plain JSON (for ``GET /v1/model`` and logs)."""
        when: dict[str, Any] = {head: sorted(v) for head, v in self.labels.items()}
        if self.needs_review is not None:
            when["needs_review"] = self.needs_review
        if self.metadata:
            when["metadata"] = {key: sorted(v) for key, v in self.metadata.items()}
        return {"name": self.name, "queue": self.queue, "when": when}


@dataclass(frozen=True)
class Route:
    """Where a ticket goes, and which rule sent it there."""

    queue: str
    rule: str


class Router:
    """Validated rules for one model; :meth:`route` picks the queue of a decision.

    Use :meth:`load` for a file or :meth:`default` for the built-in rules.
    """

    def __init__(
        self, rules: Sequence[Rule], source: str, heads: Mapping[str, Sequence[str]]
    ) -> None:
        self.rules = tuple(rules)
        self.source = source
        self.heads = {head: tuple(classes) for head, classes in heads.items()}

    @classmethod
    def load(cls, path: Path, heads: Mapping[str, Sequence[str]]) -> Router:
        """Read and validate a rules file against the model's heads and their classes.

        Raises
        ------
        ConfigError
            The file is unreadable or invalid; the message names the file and the rule.
        """
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read routing rules ({exc.strerror})") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        return cls.from_data(data, heads, source=str(path))

    @classmethod
    def from_data(
        cls, data: Mapping[str, Any], heads: Mapping[str, Sequence[str]], source: str
    ) -> Router:
        """Validate already-parsed rules (see the module docstring for the format)."""
        unknown = set(data) - {"rules"}
        if unknown:
            raise ConfigError(f"{source}: unknown top-level key {sorted(unknown)[0]!r}")
        raw_rules = data.get("rules")
        if not isinstance(raw_rules, list) or not raw_rules:
            raise ConfigError(f"{source}: no [[rules]]; at least a catch-all rule is needed")
        rules: list[Rule] = []
        for position, raw in enumerate(raw_rules, start=1):
            rule = _parse_rule(raw, position, heads, source)
            if any(existing.name == rule.name for existing in rules):
                raise ConfigError(f"{source}: rule {rule.name!r}: the name is used twice")
            rules.append(rule)
        for index, rule in enumerate(rules[:-1]):
            if rule.catch_all:
                never = ", ".join(repr(r.name) for r in rules[index + 1 :])
                raise ConfigError(
                    f"{source}: rule {rule.name!r} matches every ticket, so the rules after it "
                    f"({never}) can never match; move it last"
                )
        if not rules[-1].catch_all:
            raise ConfigError(
                f"{source}: the last rule {rules[-1].name!r} has conditions; add a catch-all "
                "rule (one without `when`) at the end so every ticket has a queue"
            )
        return cls(rules, source, heads)

    @classmethod
    def default(cls, heads: Mapping[str, Sequence[str]]) -> Router:
        """The built-in rules for these heads (see :func:`default_rules`)."""
        return cls.from_data(default_rules(heads), heads, source="default rules")

    def route(
        self,
        labels: Mapping[str, str],
        needs_review: bool,
        metadata: Mapping[str, object] | None = None,
    ) -> Route:
        """The queue of the first rule that matches this decision."""
        meta = {str(k): str(v) for k, v in (metadata or {}).items() if v is not None}
        # Validation guarantees the last rule is a catch-all, so it takes what nothing else did.
        chosen = next(
            (rule for rule in self.rules[:-1] if rule.matches(labels, needs_review, meta)),
            self.rules[-1],
        )
        return Route(chosen.queue.format_map(labels), chosen.name)

    def to_json(self) -> list[dict[str, Any]]:
        """All rules, in order, as plain JSON."""
        return [rule.to_json() for rule in self.rules]

    @property
    def queues(self) -> list[str]:
        """Every queue a ticket can be routed to, sorted: placeholders are expanded over the
        classes the rule's own conditions allow (what feedback's ``queue`` is checked against).

        Examples
        --------
        >>> Router.default({"urgency": ["high", "low"], "topic": ["bug", "billing"]}).queues
        ['billing', 'bug', 'priority', 'review']
        """
        found: set[str] = set()
        for rule in self.rules:
            fields = sorted(
                {f for _, f, _, _ in string.Formatter().parse(rule.queue) if f is not None}
            )
            options = [sorted(rule.labels.get(f, self.heads[f])) for f in fields]
            for combination in itertools.product(*options):
                found.add(rule.queue.format_map(dict(zip(fields, combination, strict=True))))
        return sorted(found)


def default_rules(heads: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Rules in the file format: a priority lane for ``high`` urgency, a review queue, then one
    queue per topic (or ``general`` for a model without a topic head).

    Examples
    --------
    >>> [r["name"] for r in default_rules({"urgency": ["high", "low"], "topic": ["bug"]})["rules"]]
    ['priority', 'review', 'by-topic']
    """
    rules: list[dict[str, Any]] = []
    if "high" in heads.get("urgency", ()):
        rules.append({"name": "priority", "queue": "priority", "when": {"urgency": "high"}})
    rules.append({"name": "review", "queue": "review", "when": {"needs_review": True}})
    if "topic" in heads:
        rules.append({"name": "by-topic", "queue": "{topic}"})
    else:
        rules.append({"name": "general", "queue": "general"})
    return {"rules": rules}


def _norm(value: object) -> str:
    return str(value).strip().lower()


def _parse_rule(
    raw: object, position: int, heads: Mapping[str, Sequence[str]], source: str
) -> Rule:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: rule {position} is not a table")
    name = raw.get("name")
    label = f"rule {name!r}" if isinstance(name, str) and name else f"rule {position}"
    where = f"{source}: {label}"
    unknown = set(raw) - {"name", "queue", "when"}
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {sorted(unknown)[0]!r} (allowed: name, queue, when)"
        )
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: needs a non-empty `name`")
    queue = raw.get("queue")
    if not isinstance(queue, str) or not queue.strip():
        raise ConfigError(f"{where}: needs a non-empty `queue`")
    for _, field, _, _ in string.Formatter().parse(queue):
        if field is not None and field not in heads:
            raise ConfigError(
                f"{where}: queue placeholder {{{field}}} is not a head of the model "
                f"(heads: {', '.join(heads)})"
            )
    when = raw.get("when", {})
    if not isinstance(when, Mapping):
        raise ConfigError(f"{where}: `when` must be a table")
    labels: dict[str, frozenset[str]] = {}
    for key, value in when.items():
        if key in _CONDITION_KEYS:
            continue
        if key not in heads:
            allowed = ", ".join([*heads, *sorted(_CONDITION_KEYS)])
            raise ConfigError(f"{where}: unknown condition {key!r} (allowed: {allowed})")
        values = _strings(value, f"{where}: {key}")
        bad = sorted(values - set(heads[key]))
        if bad:
            raise ConfigError(
                f"{where}: {key} {bad[0]!r} is not a class of the model ({', '.join(heads[key])})"
            )
        labels[key] = values
    needs_review = when.get("needs_review")
    if needs_review is not None and not isinstance(needs_review, bool):
        raise ConfigError(f"{where}: needs_review must be true or false")
    metadata_raw = when.get("metadata", {})
    if not isinstance(metadata_raw, Mapping):
        raise ConfigError(f"{where}: metadata must be a table of key = value")
    metadata = {
        str(key): frozenset(_norm(v) for v in _strings(value, f"{where}: metadata.{key}"))
        for key, value in metadata_raw.items()
    }
    return Rule(name.strip(), queue.strip(), labels, needs_review, metadata)


def _strings(value: object, where: str) -> frozenset[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise ConfigError(f"{where}: expected a string or a list of strings")
    return frozenset(items)
