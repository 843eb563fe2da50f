"""``triage retrain``: a candidate from the training data plus agents' feedback, judged on the
most recent feedback against the live model.

What happens, in order:

1. The feedback (one example per ticket, agents' labels only: see
   :mod:`ticket_triage.production.feedback_examples`) is split by time: the most recent slice
   (``--holdout-days`` before the newest feedback, or the newest ``--holdout-share``) is held
   out; neither it nor any training row of the same ticket is trained on.
2. The rest joins the base data. A ticket already in the base data (same text, or the same
   ``id`` when the file has an ``id`` column, as ``triage export`` writes) takes the agent's
   labels: the feedback is newer than the file, so a correction replaces the older label; a
   head the agent did not label keeps the file's.
3. The candidate is trained with the live model's own training configuration and metadata
   columns (so a difference is the data's, not the settings'), and both models are evaluated
   on the held-out feedback (per head macro-F1 and the count it rests on).

Nothing here promotes: the caller registers the candidate and a person decides.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from ticket_triage.core.errors import DataError
from ticket_triage.core.model import TriageModel
from ticket_triage.training.config import TrainConfig
from ticket_triage.training.data import Tickets, read_table, write_table
from ticket_triage.training.evaluate import evaluate
from ticket_triage.training.fitting import Progress
from ticket_triage.training.train import train

__all__ = ["Example", "Holdout", "Lineage", "RetrainResult", "TrainingSet", "build", "retrain"]


class Example(Protocol):
    """A ticket an agent labelled (:class:`~ticket_triage.production.feedback_examples.
    FeedbackExample` is one; training never imports the production layer)."""

    @property
    def key(self) -> str: ...
    @property
    def prediction_id(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def subject(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def metadata(self) -> dict[str, str]: ...
    @property
    def labels(self) -> dict[str, str]: ...
    @property
    def kind(self) -> str: ...


@dataclass(frozen=True)
class Holdout:
    """Which feedback is held out: the last ``days`` before the newest feedback, or else the
    newest ``share`` of the examples (at least one)."""

    days: float | None = None
    share: float = 0.2

    def split(self, examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
        """(train, held out), each oldest first."""
        ordered = sorted(examples, key=lambda example: example.at)
        if not ordered:
            return [], []
        if self.days is not None:
            start = ordered[-1].at - timedelta(days=self.days)
            cut = next(i for i, example in enumerate(ordered) if example.at >= start)
        else:
            cut = len(ordered) - max(1, math.ceil(self.share * len(ordered)))
        return ordered[:cut], ordered[cut:]

    def describe(self) -> str:
        """The rule in words, for the lineage note."""
        if self.days is not None:
            return f"feedback of the last {self.days:g} days"
        return f"the newest {self.share:.0%} of the feedback"


@dataclass(frozen=True)
class Lineage:
    """Where the candidate's training rows came from, and what was held out."""

    base: str
    base_rows: int
    base_replaced: int
    base_held_out: int
    corrections: int
    confirmations: int
    held_out: int
    holdout: str
    held_out_since: str | None
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def training_rows(self) -> int:
        """Rows the candidate was given (the base data left, plus the feedback)."""
        return (
            self.base_rows - self.base_replaced - self.base_held_out
            + self.corrections + self.confirmations
        )  # fmt: skip

    def note(self, parent: str) -> str:
        """The registry note: the whole lineage in one line."""
        skipped = ", ".join(f"{n} {why}" for why, n in self.skipped.items() if n) or "none"
        return (
            f"retrain of {parent}: {self.training_rows} training rows = "
            f"{self.base_rows - self.base_replaced - self.base_held_out} from {self.base} "
            f"({self.base_replaced} replaced by feedback, {self.base_held_out} held out) + "
            f"{self.corrections} from corrections + {self.confirmations} from confirmations; "
            f"{self.held_out} feedback tickets held out ({self.holdout}, since "
            f"{self.held_out_since}); skipped feedback: {skipped}"
        )


@dataclass(frozen=True)
class TrainingSet:
    """The candidate's training rows (the data contract), the held-out feedback, the lineage."""

    frame: pd.DataFrame
    held_out: Tickets
    lineage: Lineage


def build(
    base: pd.DataFrame,
    examples: Sequence[Example],
    key: Callable[[object, object], str],
    holdout: Holdout,
    heads: Sequence[str],
    metadata: Sequence[str],
    base_name: str = "base data",
    skipped: dict[str, int] | None = None,
) -> TrainingSet:
    """Steps 1 and 2 of the module text: the candidate's rows and the held-out tickets.

    Raises
    ------
    DataError
        No feedback at all, or all of it held out (nothing new to learn from).
    """
    trained, held = holdout.split(examples)
    if not held:
        raise DataError("no agent feedback with stored text in the log: nothing to retrain from")
    if not trained:
        raise DataError(
            f"all {len(held)} feedback tickets fall in the held-out slice ({holdout.describe()});"
            " hold out less (--holdout-days, --holdout-share)"
        )
    columns = ["subject", "body", *heads, *metadata]
    base = pd.DataFrame(
        {
            column: [
                "" if column not in base.columns or pd.isna(value) else str(value)
                for value in (base[column] if column in base.columns else [None] * len(base))
            ]
            for column in dict.fromkeys([*columns, "id"])
        }
    )
    keys = [key(subject, body) for subject, body in zip(base.subject, base.body, strict=True)]
    ids = base["id"].tolist()
    rows_of: dict[str, list[int]] = {}
    for index, (ticket, row_id) in enumerate(zip(keys, ids, strict=True)):
        rows_of.setdefault(ticket, []).append(index)
        if row_id:
            rows_of.setdefault(f"id:{row_id}", []).append(index)

    def matches(example: Example) -> list[int]:
        found = rows_of.get(example.key, []) + rows_of.get(f"id:{example.prediction_id}", [])
        return sorted(set(found))

    dropped_held = {index for example in held for index in matches(example)}
    replaced: set[int] = set()
    rows = []
    for example in trained:
        labels = dict(example.labels)
        for index in matches(example):
            if index in dropped_held:
                continue
            replaced.add(index)
            for head in heads:  # a head the agent left alone keeps the file's label
                labels.setdefault(head, base.at[index, head])
        rows.append(
            {
                "subject": example.subject,
                "body": example.body,
                **{head: labels.get(head, "") for head in heads},
                **{column: example.metadata.get(column, "") for column in metadata},
            }
        )
    kept = base.drop(index=sorted(replaced | dropped_held))[columns]
    frame = pd.concat([kept, pd.DataFrame(rows, columns=columns)], ignore_index=True)
    lineage = Lineage(
        base=base_name,
        base_rows=len(base),
        base_replaced=len(replaced - dropped_held),
        base_held_out=len(dropped_held),
        corrections=sum(1 for example in trained if example.kind == "correction"),
        confirmations=sum(1 for example in trained if example.kind == "confirmation"),
        held_out=len(held),
        holdout=holdout.describe(),
        held_out_since=held[0].at.isoformat(timespec="seconds"),
        skipped=dict(skipped or {}),
    )
    return TrainingSet(frame, _held_out_tickets(held, heads, list(metadata)), lineage)


def _held_out_tickets(
    held: Sequence[Example], heads: Sequence[str], metadata: list[str]
) -> Tickets:
    return Tickets(
        path=Path("held-out feedback"),
        tickets=[
            {
                "subject": example.subject,
                "body": example.body,
                "metadata": {column: example.metadata.get(column, "") for column in metadata},
            }
            for example in held
        ],
        labels={head: [example.labels.get(head, "") for example in held] for head in heads},
        metadata_columns=metadata,
        sha256="",
        n_dropped=0,
    )


@dataclass(frozen=True)
class RetrainResult:
    """The candidate's folder, its lineage, and live against candidate on the held-out slice."""

    out: Path
    lineage: Lineage
    comparison: dict[str, Any]
    warnings: list[str]


def retrain(
    base_path: Path,
    examples: Sequence[Example],
    key: Callable[[object, object], str],
    live_dir: Path,
    out: Path,
    holdout: Holdout,
    skipped: dict[str, int] | None = None,
    progress: Progress | None = None,
) -> RetrainResult:
    """The whole run (the module text): train the candidate into ``out`` and compare.

    Raises
    ------
    DataError
        The base data breaks the data contract, or the feedback leaves nothing to learn from.
    ArtifactError
        The live model does not verify.
    """
    live = TriageModel.load(live_dir)
    config = TrainConfig.model_validate(live.meta["training"]["config"])
    metadata = list(live.meta.get("metadata", []))
    config = config.model_copy(update={"metadata": metadata})
    base = read_table(base_path)
    missing = [column for column in ("subject", "body") if column not in base.columns]
    if missing:
        raise DataError(f"{base_path}: missing column {', '.join(missing)} (the data contract)")
    built = build(base, examples, key, holdout, live.head_names, metadata, base_path.name, skipped)
    with tempfile.TemporaryDirectory(prefix="triage-retrain-") as work:
        data = Path(work) / f"{base_path.stem}+feedback.csv"
        write_table(built.frame, data)
        result = train(data, out, config, progress)
    candidate = TriageModel.load(out)
    return RetrainResult(
        out=out,
        lineage=built.lineage,
        comparison=compare_on(live, candidate, built.held_out),
        warnings=list(result.warnings),
    )


def compare_on(live: TriageModel, candidate: TriageModel, held_out: Tickets) -> dict[str, Any]:
    """Per head, macro-F1 and accuracy of both models on the held-out feedback, and ``n``."""
    scored = {
        name: evaluate(model, held_out, description="held-out feedback")[0]["heads"]
        for name, model in (("live", live), ("candidate", candidate))
    }
    heads: dict[str, Any] = {}
    for head in live.head_names:
        if head not in scored["live"] or head not in scored["candidate"]:
            continue  # no agent label of this head among the held-out tickets
        pair = {name: scored[name][head] for name in ("live", "candidate")}
        heads[head] = {
            "n": pair["live"]["n"],
            **{
                name: {"macro_f1": pair[name]["macro_f1"], "accuracy": pair[name]["accuracy"]}
                for name in pair
            },
            "difference": round(pair["candidate"]["macro_f1"] - pair["live"]["macro_f1"], 6),
        }
    return {
        "live": live.version,
        "candidate": candidate.version,
        "n_held_out": len(held_out.tickets),
        "heads": heads,
    }
