"""The whole data path, once: ticket -> text -> features -> heads -> decision -> route.

Every caller that decides tickets goes through :class:`Pipeline`: the HTTP API and Lambda (one
ticket or a small batch per request, :meth:`Pipeline.triage`), ``triage predict`` (files of
millions, :meth:`Pipeline.columns`), ``triage demo`` and Spark executors
(:mod:`ticket_triage.spark.scoring`). What a caller adds around it is its own business only: the
API validates sizes, gives each decision an id, logs it and counts it; the CLI reads and writes
files.

Each ticket is featurised once. The scoring pass also counts the ticket's unseen features (what
the prediction log records as input drift), and an explained ticket is decided from the very
feature shares its explanation lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ticket_triage.core.decisions import BatchDecisions, HeadDecision, TriageResult
from ticket_triage.core.errors import InvalidTicket
from ticket_triage.core.explain import Explanation
from ticket_triage.core.model import Ticket, TriageModel
from ticket_triage.core.routing import Route, Router
from ticket_triage.core.text import metadata_tokens

__all__ = ["Decision", "Pipeline"]


@dataclass(frozen=True)
class Decision:
    """One ticket through the whole path.

    Attributes
    ----------
    result : TriageResult
        Every head's decision, the model version and the unseen-feature share.
    route : Route
        The queue and the rule that chose it.
    explanation : dict of str to Explanation, or None
        Per head, the n-grams behind the decision, when asked for.
    """

    result: TriageResult
    route: Route
    explanation: dict[str, Explanation] | None = None

    @property
    def heads(self) -> dict[str, HeadDecision]:
        """Each head's decision."""
        return self.result.heads

    @property
    def needs_review(self) -> bool:
        """True when any head wants a person to look first."""
        return self.result.needs_review

    @property
    def queue(self) -> str:
        """Where the ticket goes."""
        return self.route.queue


class Pipeline:
    """A model and its routing rules: decide and route tickets, one or millions.

    Parameters
    ----------
    model : TriageModel
    router : Router, optional
        Rules validated against ``model``'s heads; default: the built-in rules
        (:func:`~ticket_triage.core.routing.default_rules`).
    """

    def __init__(self, model: TriageModel, router: Router | None = None) -> None:
        self.model = model
        self.router = router if router is not None else Router.default(model.head_classes)

    @classmethod
    def load(cls, model_dir: str | Path, rules: Path | None = None) -> Pipeline:
        """Load and verify an artifact, and its rules file (checked against the model).

        Raises
        ------
        ArtifactError
            The model directory is not an intact artifact.
        ConfigError
            The rules file is unreadable or does not fit the model.
        """
        model = TriageModel.load(model_dir)
        router = None if rules is None else Router.load(rules, model.head_classes)
        return cls(model, router)

    def triage(self, tickets: Sequence[Ticket], *, explain: int = 0) -> list[Decision]:
        """Decide and route each ticket, in order.

        Parameters
        ----------
        tickets : sequence of mappings
            ``subject``, ``body`` and optional ``metadata`` each.
        explain : int, default=0
            With a positive value, each decision carries up to that many n-grams per head that
            pushed it (the ticket is then scored on the explanation's own path).

        Raises
        ------
        InvalidTicket
            A ticket that cannot be scored; ``position`` says which.
        """
        texts = self.model.texts_of(tickets)
        route = self.router.route
        if explain <= 0:
            return [
                Decision(result, route(result.labels, result.needs_review, _metadata(ticket)))
                for ticket, result in zip(tickets, self.model.triage_texts(texts), strict=True)
            ]
        decisions = []
        for ticket, text in zip(tickets, texts, strict=True):
            result, why = self.model.explained(text, explain)
            decisions.append(
                Decision(result, route(result.labels, result.needs_review, _metadata(ticket)), why)
            )
        return decisions

    def columns(self, tickets: Sequence[Ticket], *, offset: int = 0) -> dict[str, list[Any]]:
        """The decision and queue columns of a batch, what ``triage predict`` writes: per head
        ``{head}_label``, ``{head}_confidence`` (6 decimals) and ``{head}_needs_review``, then
        ``needs_review``, ``queue`` and ``queue_rule``; the same answers as :meth:`triage`.

        Built from the model's decision arrays (no object per ticket and head) and one routing
        call per distinct (labels, review, metadata) combination: together half of the scoring
        time otherwise. ``offset`` is the batch's first row in its file, for error messages.
        """
        batch = self.model.decide_texts(self.model.texts_of(tickets, offset))
        return self._columns(batch, [_metadata(ticket) for ticket in tickets])

    def columns_of_fields(
        self,
        subjects: Sequence[str],
        bodies: Sequence[str],
        metadata: Mapping[str, Sequence[str]],
        *,
        offset: int = 0,
    ) -> dict[str, list[Any]]:
        """:meth:`columns` of tickets given as columns (what ``triage predict`` reads from a
        file): ``subjects[i]``, ``bodies[i]`` and ``{name: values[i]}`` for each metadata column
        are ticket ``i``. The same answers as :meth:`columns` on the equivalent mappings (tested),
        without a mapping per ticket, and with each distinct metadata's tokens made once.

        Raises
        ------
        InvalidTicket
            For the first ticket without text; its position is its index plus ``offset``.
        """
        names = list(metadata)
        keys: Sequence[tuple[str, ...]] = (
            list(zip(*(metadata[name] for name in names), strict=True))
            if names
            else [()] * len(subjects)
        )
        known: dict[tuple[str, ...], tuple[str, Mapping[str, Any]]] = {}
        texts, rows = [], []
        text_of = self.model.text_of_fields
        for position, (subject, body, key) in enumerate(
            zip(subjects, bodies, keys, strict=True), start=offset
        ):
            entry = known.get(key)
            if entry is None:
                values = dict(zip(names, key, strict=True))
                entry = known[key] = (" ".join(metadata_tokens(values)), values)
            try:
                texts.append(text_of(subject, body, entry[0]))
            except InvalidTicket as exc:
                raise InvalidTicket(exc.reason, position) from exc
            rows.append(entry[1])
        return self._columns(self.model.decide_texts(texts), rows)

    def _columns(
        self, batch: BatchDecisions, metadata: Sequence[Mapping[str, Any]]
    ) -> dict[str, list[Any]]:
        """The columns of :meth:`columns` from a batch's decisions and each ticket's metadata
        (the same mapping object for tickets with equal metadata routes them once)."""
        columns: dict[str, list[Any]] = {}
        for name, head in batch.heads.items():
            columns[f"{name}_label"] = head.labels.tolist()
            columns[f"{name}_confidence"] = [round(value, 6) for value in head.confidence.tolist()]
            columns[f"{name}_needs_review"] = head.needs_review.tolist()
        review = batch.needs_review.tolist()
        columns["needs_review"] = review
        names = list(batch.heads)
        labels = list(zip(*(columns[f"{name}_label"] for name in names), strict=True))
        routes: dict[tuple[Any, ...], Route] = {}
        queues, rules = [], []
        for values, ticket_labels, needs_review in zip(metadata, labels, review, strict=True):
            key = (ticket_labels, needs_review, tuple(values.items()))
            route = routes.get(key)
            if route is None:
                route = self.router.route(
                    dict(zip(names, ticket_labels, strict=True)), needs_review, values
                )
                routes[key] = route
            queues.append(route.queue)
            rules.append(route.rule)
        columns["queue"], columns["queue_rule"] = queues, rules
        return columns


def _metadata(ticket: Ticket) -> Mapping[str, Any]:
    return ticket.get("metadata") or _NO_METADATA


_NO_METADATA: Mapping[str, Any] = {}
