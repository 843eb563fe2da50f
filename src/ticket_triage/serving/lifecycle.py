"""Several versions in one service: live, shadow and canary, swapped whole without a restart.

:class:`VersionLifecycle` is the part of :class:`~ticket_triage.serving.service.Service` that
decides which version answers a ticket (the sticky canary share, with the live version as the
fallback when the canary raises), scores the shadow off the request path, watches the canary
against its guard rails, and reloads the set from the registry's pointers (or the settings'
directories). A swap is one attribute assignment: a request reads the set once and finishes on
the versions it started with.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ticket_triage.core.errors import ConfigError, InvalidTicket
from ticket_triage.core.pipeline import Decision, Pipeline
from ticket_triage.production.records import prediction_row
from ticket_triage.serving.schemas import TriageOut
from ticket_triage.serving.settings import Settings
from ticket_triage.serving.versions import (
    CanaryGuard,
    GuardBounds,
    ModelSet,
    Scorer,
    ShadowScorer,
    canary_bucket,
)

if TYPE_CHECKING:
    from ticket_triage.serving.service import Loaded

__all__ = ["VersionLifecycle", "model_set"]

logger = logging.getLogger(__name__)


class VersionLifecycle:
    """The versions' state and moves; :class:`~ticket_triage.serving.service.Service` holds the
    loaded set in ``_loaded`` and calls :meth:`_start_versions` from its constructor."""

    settings: Settings
    _loaded: Loaded | None
    _store_text: bool

    if TYPE_CHECKING:  # defined by Service

        @property
        def loaded(self) -> Loaded: ...

        @property
        def ready(self) -> bool: ...

    def _start_versions(self, settings: Settings, loaded: Loaded | None) -> None:
        """The guard, the shadow worker and (with a registry) the pointer poller."""
        self.reload_error: str | None = None
        self.events: Counter[str] = Counter()  # swaps, reload failures, canary errors, stops
        self.canary_stops: Counter[str] = Counter()  # by reason
        self.canary_alert: tuple[str, str] | None = None  # (reason, version) of the last stop
        self.last_swap_seconds = 0.0
        self._vetoed: str | None = None  # a canary the guard stopped: never reloaded
        self._reload_lock = threading.Lock()
        self._stop = threading.Event()
        self.guard = CanaryGuard(_bounds(settings), _targets(loaded))
        self.shadow: ShadowScorer | None = None
        if loaded is not None and loaded.recorder is not None:
            self.shadow = ShadowScorer(self._record_shadow, settings.shadow_queue)
        if loaded is not None and settings.registry is not None:
            threading.Thread(target=self._watch, name="triage-registry", daemon=True).start()

    def _decide(
        self, models: ModelSet, tickets: list[dict[str, Any]], top: int
    ) -> tuple[list[Decision], list[str], tuple[bool, float] | None]:
        """Each ticket's decision and the role of the version that made it, and the canary's
        outcome (succeeded, milliseconds) when it answered some. A canary that raises is
        counted and its tickets are answered by the live version: a request never fails
        because of the canary."""
        canary = models.canary
        key = self.settings.canary_key
        at: list[int] = []
        if canary is not None and models.canary_share > 0:
            at = [
                i
                for i, ticket in enumerate(tickets)
                if (value := ticket["metadata"].get(key)) is not None
                and canary_bucket(str(value)) < models.canary_share
            ]
        if not at:
            return models.live.triage(tickets, explain=top), ["live"] * len(tickets), None
        decisions: list[Decision | None] = [None] * len(tickets)
        roles = ["live"] * len(tickets)
        started = time.perf_counter()
        try:
            if canary is None:  # pragma: no cover - at is empty without a canary
                raise RuntimeError("no canary")
            for i, decision in zip(at, canary.triage([tickets[i] for i in at], explain=top),
                                   strict=True):  # fmt: skip
                decisions[i], roles[i] = decision, "canary"
            outcome = (True, (time.perf_counter() - started) * 1000)
        except InvalidTicket:
            raise  # the ticket's fault, not the canary's: live would refuse it too
        except Exception:
            logger.exception("canary scoring failed; answered by the live version")
            outcome = (False, (time.perf_counter() - started) * 1000)
        rest = [i for i, d in enumerate(decisions) if d is None]
        if rest:
            try:
                for i, decision in zip(rest, models.live.triage([tickets[i] for i in rest],
                                       explain=top), strict=True):  # fmt: skip
                    decisions[i] = decision
            except InvalidTicket as exc:
                position = None if exc.position is None else rest[exc.position]
                raise InvalidTicket(exc.reason, position) from exc
        return [d for d in decisions if d is not None], roles, outcome

    def _watch_canary(
        self,
        models: ModelSet,
        out: Sequence[TriageOut],
        roles: Sequence[str],
        outcome: tuple[bool, float],
    ) -> None:
        """Feed the guard one canary request; stop the canary when a bound is breached."""
        labels = {
            body.id: {head: d.label for head, d in body.heads().items()}
            for body, role in zip(out, roles, strict=True)
            if role == "canary"
        }
        self.guard.observe(*outcome, labels)
        if not outcome[0]:
            self.events["canary_errors"] += 1
        reason = self.guard.breach()
        if reason is not None:
            self.stop_canary(models, reason)

    def stop_canary(self, models: ModelSet, reason: str) -> None:
        """Stop serving the canary of ``models`` (if it is still the one served): swap it out
        here at once, raise the alert, and record the stop in the registry when one is
        configured (in a thread: the registry may be remote)."""
        with self._reload_lock:
            current = self.loaded.models
            if current.canary is None or current.canary is not models.canary:
                return
            version = current.versions()["canary"] or "unknown"
            self.swap(replace(current, canary=None, canary_share=0.0))
            self._vetoed = version
            self.canary_stops[reason] += 1
            self.canary_alert = (reason, version)
            self.guard.reset()
        logger.error("canary stopped", extra={"reason": reason, "model_version": version})
        location = self.settings.registry
        if location is not None:
            threading.Thread(
                target=_registry_stop, args=(location, reason), name="triage-stop", daemon=True
            ).start()

    def swap(self, models: ModelSet) -> None:
        """Serve ``models`` from the next request on: one attribute assignment."""
        loaded = self.loaded
        if models.canary is not loaded.models.canary:
            self.guard.reset()
            if models.canary is not None:
                self.canary_alert = None  # a new canary: the old alert is history
        self._loaded = replace(loaded, models=models)
        self.events["swaps"] += 1

    def version_stats(self) -> dict[str, Any]:
        """What ``/metrics`` reports about the versions (see
        :class:`~ticket_triage.serving.metrics.Metrics`)."""
        shadow = self.shadow
        return {
            "versions": self.loaded.models.versions() if self.ready else {},
            "shadow": {
                "scored": shadow.scored if shadow else 0,
                "dropped": shadow.dropped if shadow else 0,
                "error": shadow.errors if shadow else 0,
            },
            "events": dict(self.events),
            "stops": dict(self.canary_stops),
            "alert": self.canary_alert,
            "reload_ok": float(self.reload_error is None),
            "swap_seconds": self.last_swap_seconds,
        }

    def reload(self) -> bool:
        """Load the versions named by the registry's pointers (or the settings' directories
        without a registry), verify them, and swap them in; True if the set changed. A failure
        keeps the versions served and is kept in :attr:`reload_error` (``/readyz``)."""
        with self._reload_lock:
            started = time.perf_counter()
            current = self.loaded.models
            try:
                models = model_set(self.settings, current, self._vetoed, None)
            except Exception as exc:  # any failure keeps the old set: the service goes on
                self.reload_error = f"reload failed, still serving {current.versions()}: {exc}"
                self.events["reload_failures"] += 1
                logger.error("%s", self.reload_error)
                return False
            self.reload_error = None
            if models is None:
                return False
            if models.versions()["canary"] != self._vetoed:
                self._vetoed = None  # the registry moved on from the stopped canary
            self.swap(models)
            self.last_swap_seconds = time.perf_counter() - started
        logger.info("models swapped", extra={"versions": models.versions()})
        return True

    def _watch(self) -> None:
        """The registry poller: re-read the pointers every ``registry_poll_seconds``."""
        while not self._stop.wait(self.settings.registry_poll_seconds):
            self.reload()

    def _record_shadow(
        self, ticket: Mapping[str, Any], decision: Decision, latency_ms: float, served: str
    ) -> None:
        recorder = self.loaded.recorder
        if recorder is not None:
            row = prediction_row(
                ticket, decision, latency_ms, store_text=self._store_text, role="shadow",
                served_id=served,
            )  # fmt: skip
            recorder.record(row)


def _bounds(settings: Settings) -> GuardBounds:
    return GuardBounds(
        window=settings.canary_window,
        min_requests=settings.canary_min_requests,
        max_error_rate=settings.canary_max_error_rate,
        max_p99_ms=settings.canary_max_p99_ms,
        min_precision=settings.canary_min_precision,
        min_feedback=settings.canary_min_feedback,
    )


def _targets(loaded: Loaded | None) -> dict[str, str]:
    """Per head, its target class (the class precision is judged on), when the model names one."""
    if loaded is None:
        return {}
    heads = loaded.pipeline.model.meta["heads"]
    return {head["name"]: head["target"] for head in heads if head.get("target")}


def model_set(
    settings: Settings, current: ModelSet | None, vetoed: str | None, live: Pipeline | None
) -> ModelSet | None:
    """The versions to serve: the registry's pointers when one is configured, else the
    settings' directories; None when the registry's revision is the one already served.
    Versions already loaded are reused, so a pointer change loads only what changed."""
    rules = settings.rules_file
    loaded = {} if current is None else {
        v: s for v, s in zip(current.versions().values(),
                             (current.live, current.shadow, current.canary), strict=True) if v
    }  # fmt: skip

    if settings.registry is None:

        def from_dir(directory: Path | None) -> Pipeline | None:
            return None if directory is None else Pipeline.load(directory, rules)

        canary = from_dir(settings.canary_model_dir)
        if canary is not None and canary.model.version == vetoed:
            canary = None
        return ModelSet(
            live or Pipeline.load(settings.model_dir, rules),
            from_dir(settings.shadow_model_dir),
            canary,
            settings.canary_share,
        )
    from ticket_triage.registry import Registry  # only with a registry (boto3 for S3)

    registry = Registry.open(settings.registry)
    pointers = registry.pointers()
    if current is not None and current.revision == pointers.revision:
        return None
    cache = settings.registry_cache or Path(tempfile.gettempdir()) / "triage-registry"

    def load(version: str | None) -> Scorer | None:
        if version is None:
            return None
        if version in loaded:
            return loaded[version]
        return Pipeline.load(registry.fetch(version, cache), rules)

    if pointers.live is None:
        raise ConfigError(f"the registry {settings.registry} has no live version")
    canary = None if pointers.canary == vetoed else pointers.canary
    return ModelSet(
        load(pointers.live),  # type: ignore[arg-type]  # a Pipeline: loaded from an artifact
        load(pointers.shadow),
        load(canary),
        pointers.canary_share if canary is not None else 0.0,
        pointers.revision,
        f"registry r{pointers.revision}",
    )


def _registry_stop(location: str, reason: str) -> None:
    """Record a guard-rail stop in the registry (the service has already stopped serving it)."""
    from ticket_triage.registry import Registry

    try:
        Registry.open(location).stop_canary(reason, by="guard-rail")
    except Exception:  # the local stop stands; the next poll retries nothing, so say it loudly
        logger.exception("could not record the canary stop in the registry")
