"""The registry's records: a version's ``entry.json`` and the pointers with their history.

Plain frozen dataclasses with their JSON forms, apart from the store that reads and writes them
(:mod:`ticket_triage.registry.registry`), so the CLI and the service can show them without
touching a backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["MADE_BY", "Entry", "Event", "Pointers", "metrics_summary", "now"]

#: How a version can have been made.
MADE_BY = ("train", "retune", "retrain")


@dataclass(frozen=True)
class Entry:
    """One registered version (its ``entry.json``)."""

    version: str
    parent: str | None
    made_by: str
    created_at: str
    created_by: str
    note: str | None
    manifest_sha256: str
    metrics: dict[str, Any] = field(default_factory=dict)
    #: The artifact's own version id (model.json), the one the prediction log records.
    model_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``entry.json`` object."""
        return {
            "version": self.version,
            "parent": self.parent,
            "made_by": self.made_by,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "note": self.note,
            "manifest_sha256": self.manifest_sha256,
            "metrics": self.metrics,
            "model_version": self.model_version,
        }


@dataclass(frozen=True)
class Event:
    """One pointer change in ``pointers.json``'s history."""

    at: str
    by: str
    action: str
    version: str | None
    reason: str | None = None


@dataclass(frozen=True)
class Pointers:
    """What a service should serve, at one revision of ``pointers.json``."""

    live: str | None = None
    shadow: str | None = None
    canary: str | None = None
    canary_share: float = 0.0
    revision: int = 0
    history: tuple[Event, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``pointers.json`` object."""
        return {
            "revision": self.revision,
            "live": self.live,
            "shadow": self.shadow,
            "canary": self.canary,
            "canary_share": self.canary_share,
            "history": [event.__dict__ for event in self.history],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pointers:
        """Parse ``pointers.json``."""
        return cls(
            live=data.get("live"),
            shadow=data.get("shadow"),
            canary=data.get("canary"),
            canary_share=float(data.get("canary_share") or 0.0),
            revision=int(data.get("revision", 0)),
            history=tuple(Event(**event) for event in data.get("history", [])),
        )

    def live_stack(self) -> list[str]:
        """The versions that were live, oldest first, as promotions and rollbacks left them:
        a promotion pushes, a rollback pops; the last item is the live version."""
        stack: list[str] = []
        for event in self.history:
            if event.action == "promote" and event.version:
                stack.append(event.version)
            elif event.action == "rollback" and stack:
                stack.pop()
        return stack


def now() -> str:
    """An ISO 8601 UTC time to the second, as the records spell it."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def metrics_summary(metrics: dict[str, Any]) -> dict[str, Any]:
    """The figures worth a column in ``triage models list``: per head n, accuracy, macro-F1,
    coverage and ECE (the whole file stays in the version)."""
    heads = metrics.get("heads", {}) if isinstance(metrics, dict) else {}
    keys = ("n", "accuracy", "macro_f1", "coverage", "ece")
    return {
        name: {key: head[key] for key in keys if key in head}
        for name, head in heads.items()
        if isinstance(head, dict)
    }
