"""Re-pick a model's decision thresholds from recent agent feedback, without refitting weights.

When the class priors move (more ``high`` tickets this quarter), the calibrated probabilities stay
meaningful but the threshold that gave 0.85 precision on the training folds no longer does. The
prediction log already holds what threshold tuning needs: each ticket's calibrated probabilities
as served, and the agent's final label. So, per head that had feedback since ``since``:

- the **target threshold** (urgency ``high`` >= 0.85) is re-chosen by
  :func:`~ticket_triage.core.thresholds.target_threshold` with the artifact's own ``min_precision``,
  ``confidence`` and ``min_support``, on the target class's stored probability against "the
  agent said it is that class";
- the **review thresholds** are re-chosen by :func:`~ticket_triage.core.thresholds.auto_thresholds`
  with the artifact's review rule (per-class precision or coverage), on the decisions the new
  target threshold makes.

Only feedback on predictions made with these very weights is used (the artifact's version and
the versions it was re-tuned from): another model's probabilities say nothing about this one's.
Too little feedback to decide a head's target class is refused with
:class:`~ticket_triage.core.errors.DataError`, rather than writing a model tuned on noise.

The result is a **new** artifact (the old one stays, for rollback): the same ``weights.npz`` bytes,
``model.json`` with the new thresholds, a new ``version`` and a ``retuned`` record (what changed,
on how much feedback, what precision and recall to expect), ``metrics.json`` and ``report.html``
copied (they still describe the training evaluation), sealed and published like training does.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ticket_triage.core.artifact import (
    MANIFEST_FILE,
    MODEL_FILE,
    WEIGHTS_FILE,
    check_target,
    read_artifact,
    seal,
    staged,
)
from ticket_triage.core.decisions import decide
from ticket_triage.core.errors import ArtifactError, DataError
from ticket_triage.core.model import TriageModel
from ticket_triage.core.thresholds import auto_thresholds, target_threshold
from ticket_triage.production.retuned import HeadRetune, RetuneResult, TargetRetune

if TYPE_CHECKING:
    from ticket_triage.production.store import Store

__all__ = ["retune"]

#: ``TrainConfig.min_support``'s default, for artifacts whose training record lacks it.
_DEFAULT_MIN_SUPPORT = 10


def retune(
    model_dir: str | Path,
    store: Store,
    *,
    since: datetime,
    out_dir: str | Path,
    min_feedback: int = 30,
) -> RetuneResult:
    """Re-pick thresholds from feedback since ``since`` and publish a new artifact to ``out_dir``.

    Parameters
    ----------
    model_dir : str or Path
        The artifact to re-tune; never modified.
    store : Store
        The prediction log with the agents' feedback
        (:class:`ticket_triage.production.store.Store`).
    since : datetime
        Use feedback on predictions made from this time on (naive: UTC).
    out_dir : str or Path
        Where the new artifact goes; must not be ``model_dir`` (the old model stays for
        rollback). An older artifact there is replaced, as ``triage train --out`` does.
    min_feedback : int, default=30
        Fewest feedback tickets with a head's label before that head is re-tuned.

    Returns
    -------
    RetuneResult
        What changed, with the expected precision and recall; ``summary()`` says it in words.
        A target no threshold meets on the feedback is not refused: as in training, the
        threshold with the best precision lower bound is written, marked ``reachable: false``
        in ``model.json`` and said loudly in the summary.

    Raises
    ------
    DataError
        Too little feedback to re-tune a head's target class: fewer than ``min_feedback``
        tickets with that head's label, or fewer than the artifact's ``min_support`` of them of
        the target class. The message names each head and class with both counts. Also raised
        when no head has enough feedback to change anything.
    ArtifactError
        ``model_dir`` is not an intact artifact, ``out_dir`` is ``model_dir``, or ``out_dir`` is a
        non-empty directory that is not an artifact.
    ValueError
        ``min_feedback`` is below 1.
    """
    source, out = Path(model_dir), Path(out_dir)
    if out.resolve() == source.resolve():
        raise ArtifactError(
            f"{out}: is the model being re-tuned; write the new artifact to another directory "
            "so the old one stays for rollback"
        )
    if min_feedback < 1:
        raise ValueError(f"min_feedback must be at least 1, got {min_feedback}")
    check_target(out)
    artifact = read_artifact(source)
    meta = artifact.meta
    config = (meta.get("training") or {}).get("config") or {}
    min_support = int(config.get("min_support", _DEFAULT_MIN_SUPPORT))
    lineage = [*(meta.get("retuned") or {}).get("lineage", []), str(meta["version"])]
    start = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
    everything = store.feedback(start)
    rows = [row for row in everything if row["model_version"] in lineage]

    plans = [_retune_head(head, rows, min_feedback, min_support) for head in meta["heads"]]
    planned = [change for change, _ in plans]
    too_little = [reason for _, reason in plans if reason]
    if too_little or all(head.unchanged for head in planned):
        raise DataError(_refusal(too_little, planned, start, len(everything) - len(rows)))

    new_meta = copy.deepcopy(meta)
    for head, change in zip(new_meta["heads"], planned, strict=True):
        if change.target is not None:
            head["target"].update(change.target.result.to_json())
        head["review"]["thresholds"] = change.new_review
    manifest = json.loads((source / MANIFEST_FILE).read_text())
    digest = hashlib.sha256(
        (manifest["files"][WEIGHTS_FILE]["sha256"] + json.dumps(new_meta["heads"])).encode()
    ).hexdigest()[:8]
    now = datetime.now(UTC)
    version = f"{now:%Y%m%dT%H%M%SZ}-{digest}"
    new_meta["version"] = version
    new_meta["retuned"] = {
        "from_version": meta["version"],
        "lineage": lineage,
        "at": now.isoformat(),
        "since": start.isoformat(),
        "min_feedback": min_feedback,
        "min_support": min_support,
        "n_feedback_other_versions": len(everything) - len(rows),
        "heads": {change.head: change.to_json() for change in planned},
        "evaluation": (
            f"metrics.json and report.html are copied from {meta['version']}: they evaluate "
            "these weights on the training hold-out with the thresholds before re-tuning. "
            "The expected precision and recall here are measured on the feedback the new "
            "thresholds were chosen on (the lower bound allows for that)."
        ),
    }
    _publish(source, out, new_meta, manifest)
    return RetuneResult(
        out=out,
        from_version=str(meta["version"]),
        version=version,
        since=start,
        heads=tuple(planned),
    )


def _retune_head(
    head: dict[str, Any],
    rows: list[dict[str, Any]],
    min_feedback: int,
    min_support: int,
) -> tuple[HeadRetune, str | None]:
    """Plan one head's new thresholds; with the reason to refuse when its target class cannot
    be decided from this feedback."""
    name, classes = head["name"], [str(c) for c in head["classes"]]
    index = {c: k for k, c in enumerate(classes)}
    usable = [
        row
        for row in rows
        if row.get(f"final_{name}") in index
        and set((row.get("probabilities") or {}).get(name, {})) == set(classes)
    ]
    proba = np.array([[row["probabilities"][name][c] for c in classes] for row in usable])
    truth = np.array([index[row[f"final_{name}"]] for row in usable], dtype=int)
    rule = dict(head["review"]["rule"])
    old_review = {c: head["review"]["thresholds"][c] for c in classes}
    target = head.get("target")
    n_positive = int((truth == index[target["class"]]).sum()) if target else 0
    target_change, new_review, kept, unchanged, refusal = None, old_review, {}, None, None
    if len(usable) < min_feedback or (target and n_positive < min_support):
        unchanged = f"{len(usable)} feedback tickets, fewer than {min_feedback}"
        if target:
            refusal = (
                f"{name}: {len(usable)} feedback tickets, {n_positive} of them "
                f"{target['class']!r}; re-tuning needs at least {min_feedback}, with at least "
                f"{min_support} {target['class']!r}"
            )
    else:
        target_index, threshold = None, np.inf
        if target:
            target_index = index[target["class"]]
            positives = truth == target_index
            target_change = _retune_target(target, proba[:, target_index], positives, min_support)
            threshold = target_change.result.threshold
        decided = decide(proba, target_index, threshold)
        new_review, kept = _retune_review(
            rule, classes, old_review, proba, decided, truth, min_support
        )
    change = HeadRetune(
        name, len(usable), target_change, rule, old_review, new_review, kept, unchanged
    )
    return change, refusal


def _retune_target(
    target: dict[str, Any], scores: np.ndarray, positives: np.ndarray, min_support: int
) -> TargetRetune:
    """The target class's new threshold on the feedback, beside what the old one achieves."""
    result = target_threshold(
        scores,
        positives,
        float(target["min_precision"]),
        min_support,
        float(target.get("confidence", 0.5)),
    )
    hits = scores >= float(target["threshold"])
    true_hits = int((hits & positives).sum())
    return TargetRetune(
        label=target["class"],
        min_precision=float(target["min_precision"]),
        old_threshold=float(target["threshold"]),
        result=result,
        old_precision=true_hits / int(hits.sum()) if hits.any() else None,
        old_recall=true_hits / int(positives.sum()),
        n_positive=int(positives.sum()),
    )


def _retune_review(
    rule: dict[str, float],
    classes: list[str],
    old_review: dict[str, float | None],
    proba: np.ndarray,
    decided: np.ndarray,
    truth: np.ndarray,
    min_support: int,
) -> tuple[dict[str, float | None], dict[str, str]]:
    """The new review thresholds, and the classes whose old one is kept (with why)."""
    tuned = auto_thresholds(
        proba,
        decided,
        truth,
        min_precision=rule.get("min_precision"),
        coverage=rule.get("coverage"),
        min_support=min_support,
    )
    new_review = dict(zip(classes, tuned, strict=True))
    kept = {}
    if rule.get("coverage") is None:  # per-class precision: each class needs its own support
        for k, label in enumerate(classes):
            n_decided = int((decided == k).sum())
            if n_decided < min_support:
                new_review[label] = old_review[label]
                kept[label] = (
                    f"only {n_decided} feedback tickets decided as it (needs {min_support})"
                )
    return new_review, kept


def _refusal(
    too_little: list[str], planned: list[HeadRetune], since: datetime, n_other: int
) -> str:
    """Why nothing was written, naming heads, classes and counts."""
    reasons = too_little or [f"{head.head}: {head.unchanged}" for head in planned]
    message = f"not enough feedback since {since.isoformat()} to re-tune: " + "; ".join(reasons)
    if n_other:
        message += (
            f" ({n_other} feedback tickets on other model versions were not used: their "
            "probabilities come from other weights)"
        )
    return message


def _publish(source: Path, out: Path, meta: dict[str, Any], manifest: dict[str, Any]) -> None:
    """Build the new artifact in a staging directory, check it, and move it to ``out``."""
    with staged(out) as staging:
        for name in manifest["files"]:
            if name != MODEL_FILE:
                shutil.copyfile(source / name, staging / name)
        # The same format as artifact.write_artifact, without re-saving the weights.
        text = json.dumps(meta, indent=2, sort_keys=True) + "\n"
        (staging / MODEL_FILE).write_text(text)
        sealed = seal(staging)
        for name, entry in manifest["files"].items():
            if name != MODEL_FILE and sealed["files"][name]["sha256"] != entry["sha256"]:
                raise ArtifactError(f"{source / name}: changed while re-tuning; try again")
        TriageModel.load(staging)  # what will serve must load, thresholds and all
