"""Watch a served model from its prediction log and the agents' feedback: ``report.json`` and
``report.html`` for one time window.

What a report answers, for the window ``[since, until)``:

- **Is it still right?** Per head and class, precision, recall, F1 and support measured on the
  agents' final labels (only tickets where the agent gave that head's label), for the window and
  per ISO week; the target class's precision against its target; calibration (ECE and a
  reliability diagram) of the stored probabilities.
- **What is it doing?** The share of tickets routed to each queue and the review rate, per day or
  per week, from every prediction (feedback is a biased sample: agents correct what looks wrong).
- **Has the world moved?** Population stability index (PSI) of each head's predicted class mix
  against training and against the previous window of equal length; the mean share of a ticket's
  hashed features that training never saw (input drift), against the previous window.
- **Alerts**, listed first, each ``{kind, head, class?, value, threshold, message}``:

  ``target_precision``
      a head's target class (model.json ``target``) has precision below its ``min_precision``
      on feedback, with at least ``min_support`` (20) feedback tickets predicted as that class;
  ``psi_training``
      PSI of a head's predicted class mix against training above :data:`PSI_ALERT` (0.2), the
      window having at least ``min_predictions`` (50) predictions for that head;
  ``psi_previous``
      the same against the previous window, both windows having ``min_predictions``;
  ``review_rate``
      the review rate at least :data:`REVIEW_RATE_RATIO` (2) times the previous window's, and
      higher, both windows having ``min_predictions``;
  ``input_drift``
      the mean unseen-feature share up by more than :data:`INPUT_DRIFT_RISE` (0.1, absolute)
      on the previous window, both windows having ``min_predictions``.

The JSON is the API: the HTTP dashboard embeds :func:`report_html` of the same dict, so the page
and the numbers can never disagree. Reading the store needs SQLAlchemy; this module itself needs
only numpy, and matplotlib only when the HTML has figures (``figures=False`` serves without it).

Why the predicted mix is compared with the held-out *predicted* mix and not the label priors:
the target threshold deliberately predicts the target class less often than it occurs (precision
first), so the live predicted mix differs from the label priors even when nothing has drifted. The
training predicted mix is rebuilt from ``metrics.json`` (per class, predicted = true positives /
precision, with true positives = recall x support); the label priors are shown beside it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ticket_triage.core.artifact import read_artifact
from ticket_triage.core.thresholds import wilson_lower_bound
from ticket_triage.production.monitoring.html import CSS, PSI_ALERT, report_html, write_report

if TYPE_CHECKING:
    from ticket_triage.production.store import Store

__all__ = [
    "CSS",
    "INPUT_DRIFT_RISE",
    "PSI_ALERT",
    "PSI_EPSILON",
    "REPORT_SCHEMA",
    "REVIEW_RATE_RATIO",
    "build_report",
    "psi",
    "report_html",
    "write_report",
]

#: Bumped when a key of the report JSON changes meaning (the dashboard reads it).
REPORT_SCHEMA = 1
#: Share used in place of an empty class, so a class that vanishes gives a large finite PSI.
PSI_EPSILON = 1e-4
#: A rise of the mean unseen-feature share by more than this (absolute) is input drift.
INPUT_DRIFT_RISE = 0.1
#: The review rate reaching this multiple of the previous window's is an alert.
REVIEW_RATE_RATIO = 2.0
#: Windows up to this long are bucketed per day, longer ones per ISO week.
_DAILY_UP_TO = timedelta(days=14)
#: Equal-width confidence bins of the reliability diagram and the ECE (as in evaluate).
_N_BINS = 10

Row = Mapping[str, Any]


def psi(actual: Sequence[float], expected: Sequence[float], eps: float = PSI_EPSILON) -> float:
    """Population stability index of two distributions over the same bins.

    ``sum((a - e) * ln(a / e))`` over the bins, after each is normalised to sum to one (so counts
    work as well as shares) and every share below ``eps`` is raised to ``eps``: an empty bin then
    contributes a large but finite amount instead of infinity.

    Parameters
    ----------
    actual, expected : sequence of float
        Counts or shares per bin, in the same bin order; neither may sum to zero.
    eps : float, default=PSI_EPSILON
        Floor of a bin's share.

    Returns
    -------
    float
        0 for identical distributions; above :data:`PSI_ALERT` (0.2) is a shift.

    Examples
    --------
    >>> round(psi([0.7, 0.3], [0.5, 0.5]), 4)
    0.1695
    >>> psi([10, 30], [1, 3])
    0.0
    """
    a, e = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if a.shape != e.shape or a.sum() <= 0 or e.sum() <= 0:
        raise ValueError("psi needs two non-empty distributions over the same bins")
    a = np.maximum(a / a.sum(), eps)
    e = np.maximum(e / e.sum(), eps)
    return round(float(np.sum((a - e) * np.log(a / e))), 6)


def build_report(
    store: Store,
    model_dir: str | Path,
    *,
    since: datetime,
    until: datetime | None = None,
    now: datetime | None = None,
    min_support: int = 20,
    min_predictions: int = 50,
) -> dict[str, Any]:
    """Measure the served model on the window ``[since, until)`` of the prediction log.

    Parameters
    ----------
    store : Store
        The prediction log and feedback (:class:`ticket_triage.production.store.Store`).
    model_dir : str or Path
        The artifact in service: its heads, targets and thresholds, and its ``metrics.json`` for
        the training class mix. Read and verified (checksums) like any model load.
    since : datetime
        Start of the window (inclusive). Naive datetimes are taken as UTC, as the store does.
    until : datetime, optional
        End of the window (exclusive); default ``now``.
    now : datetime, optional
        The report's clock (default: the current UTC time); fixed in tests.
    min_support : int, default=20
        Fewest feedback tickets predicted as a head's target class before its precision can
        raise an alert: below that the measured precision is mostly noise.
    min_predictions : int, default=50
        Fewest predictions each window must have before the windows are compared (PSI, review
        rate, input drift): a few tickets make any mix look shifted.

    Returns
    -------
    dict
        JSON-serialisable (ISO timestamps, plain floats, ``None`` for undefined numbers); see
        the module docstring. Keys: ``schema_version``, ``generated_at``, ``model``, ``window``,
        ``previous_window``, ``n_predictions``, ``n_feedback``, ``summary`` (plain-words lines),
        ``alerts``, ``notes``, ``rules``, ``traffic``, ``input_drift``, ``heads``.

    Raises
    ------
    ValueError
        ``until`` is not after ``since``, or a minimum is below 1.
    ArtifactError
        ``model_dir`` is not an intact artifact.
    """
    clock = _utc(now) if now is not None else datetime.now(UTC)
    start, end = _utc(since), _utc(until) if until is not None else clock
    if end <= start:
        raise ValueError(f"until ({end.isoformat()}) must be after since ({start.isoformat()})")
    if min_support < 1 or min_predictions < 1:
        raise ValueError("min_support and min_predictions must be at least 1")
    artifact = read_artifact(Path(model_dir))
    meta = artifact.meta
    metrics_path = artifact.path / "metrics.json"
    training = json.loads(metrics_path.read_text()) if metrics_path.is_file() else None
    previous_start = start - (end - start)

    logged = [_with_utc(row) for row in store.predictions(previous_start)]
    window = [row for row in logged if start <= row["created_at"] < end]
    previous = [row for row in logged if row["created_at"] < start]
    feedback = [
        row for row in map(_with_utc, store.feedback(start)) if start <= row["created_at"] < end
    ]
    unit = "day" if end - start <= _DAILY_UP_TO else "week"
    heads = {
        head["name"]: _head_report(
            head, window, previous, feedback, _head_metrics(training, head["name"]), start, end
        )
        for head in meta["heads"]
    }
    report: dict[str, Any] = {
        "schema_version": REPORT_SCHEMA,
        "generated_at": clock.isoformat(),
        "model": {
            "path": str(artifact.path),
            "version": meta.get("version"),
            "heads": [head["name"] for head in meta["heads"]],
            "retuned_from": (meta.get("retuned") or {}).get("from_version"),
        },
        "window": {
            "since": start.isoformat(),
            "until": end.isoformat(),
            "days": round((end - start) / timedelta(days=1), 3),
            "bucket": unit,
        },
        "previous_window": {
            "since": previous_start.isoformat(),
            "until": start.isoformat(),
            "n_predictions": len(previous),
        },
        "n_predictions": len(window),
        "n_feedback": len(feedback),
        "model_versions": dict(Counter(str(row["model_version"]) for row in window)),
        "rules": {
            "min_support": min_support,
            "min_predictions": min_predictions,
            "psi_alert": PSI_ALERT,
            "psi_epsilon": PSI_EPSILON,
            "review_rate_ratio": REVIEW_RATE_RATIO,
            "input_drift_rise": INPUT_DRIFT_RISE,
        },
        "traffic": _traffic(window, previous, start, end, unit),
        "input_drift": _input_drift(window, previous),
        "heads": heads,
    }
    report["alerts"] = _alerts(report, min_support, min_predictions)
    report["notes"] = list(_notes(report, meta, training))
    report["summary"] = _summary(report)
    return report


# --------------------------------------------------------------------------------------------
# Numbers


def _utc(moment: datetime) -> datetime:
    """An aware UTC datetime; naive ones are UTC already (SQLite returns them naive)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _with_utc(row: Row) -> dict[str, Any]:
    return {**row, "created_at": _utc(row["created_at"])}


def _rounded(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 6) if whole else None


def _head_metrics(training: object, head: str) -> Mapping[str, Any] | None:
    """The head's held-out evaluation from ``metrics.json``, if recorded."""
    if not isinstance(training, Mapping):
        return None
    found = training.get("heads", {}).get(head)
    return found if isinstance(found, Mapping) and found.get("per_class") else None


def _training_mix(metrics: Mapping[str, Any], classes: Sequence[str]) -> dict[str, float] | None:
    """The held-out *predicted* count per class, rebuilt from precision, recall and support.

    Predicted = true positives / precision. A class with precision 0 had no true positive, so
    its count is unknown from these numbers alone: the held-out size minus the others' counts
    is shared equally among such classes (exact when there is one).
    """
    per_class, total = metrics["per_class"], int(metrics.get("n", 0))
    counts: dict[str, float] = {}
    unknown = []
    for name in classes:
        scores = per_class.get(name, {})
        if scores.get("precision"):
            true_positives = round(scores["recall"] * scores["support"])
            counts[name] = round(true_positives / scores["precision"])
        else:
            unknown.append(name)
    rest = max(total - sum(counts.values()), 0)
    counts.update({name: rest / len(unknown) for name in unknown})
    return counts if sum(counts.values()) else None


def _label_priors(metrics: Mapping[str, Any], classes: Sequence[str]) -> dict[str, float] | None:
    """The held-out (stratified) share of each true class."""
    support = {c: int(metrics["per_class"].get(c, {}).get("support", 0)) for c in classes}
    whole = sum(support.values())
    return {c: round(n / whole, 6) for c, n in support.items()} if whole else None


def _class_scores(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict:
    """Precision, recall, F1, support and number predicted per label; accuracy, macro-F1.

    ``evaluate.per_class_scores`` computes the same but gives 0 where a score is undefined; a
    dashboard must tell "never predicted" (None) from "always wrong" (0). (``evaluate`` also
    imports pandas, which the serving packages lack.)
    """
    pairs = Counter(zip(truth, predicted, strict=True))
    per_class = {}
    for label in labels:
        hits = pairs[(label, label)]
        n_predicted = sum(n for (_, p), n in pairs.items() if p == label)
        support = sum(n for (t, _), n in pairs.items() if t == label)
        precision = hits / n_predicted if n_predicted else None
        recall = hits / support if support else None
        f1 = None
        if precision is not None and recall is not None:
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": _rounded(precision),
            "recall": _rounded(recall),
            "f1": _rounded(f1),
            "support": support,
            "n_predicted": n_predicted,
        }
    # Macro-F1 over the labels that occur (as truth or prediction), as in evaluate.
    present = [
        scores["f1"] or 0.0
        for scores in per_class.values()
        if scores["support"] or scores["n_predicted"]
    ]
    n = len(truth)
    return {
        "n": n,
        "accuracy": _share(sum(pairs[(label, label)] for label in labels), n),
        "macro_f1": _rounded(sum(present) / len(present)) if present else None,
        "per_class": per_class,
    }


def _calibration(proba: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    """ECE of the top-class probability and the reliability bins it is computed from.

    Same bins and formula as ``evaluate.expected_calibration_error`` (tested), kept per bin so
    the dashboard can draw the diagram from the JSON alone.
    """
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == truth
    which = np.minimum((confidence * _N_BINS).astype(int), _N_BINS - 1)
    bins, error = [], 0.0
    for b in range(_N_BINS):
        members = which == b
        count = int(members.sum())
        mean_confidence = float(confidence[members].mean()) if count else None
        accuracy = float(correct[members].mean()) if count else None
        if count:
            error += members.mean() * abs(accuracy - mean_confidence)
        bins.append(
            {
                "low": b / _N_BINS,
                "high": (b + 1) / _N_BINS,
                "count": count,
                "mean_confidence": _rounded(mean_confidence),
                "accuracy": _rounded(accuracy),
            }
        )
    return {"n": len(truth), "ece": round(float(error), 6), "bins": bins}


def _buckets(start: datetime, end: datetime, unit: str) -> list[tuple[str, str]]:
    """The window's buckets in order, as (key, first day in the window)."""
    found: dict[str, str] = {}
    day = start
    while day < end:
        found.setdefault(_bucket(day, unit), day.date().isoformat())
        day = datetime.combine(day.date() + timedelta(days=1), datetime.min.time(), UTC)
    return list(found.items())


def _bucket(moment: datetime, unit: str) -> str:
    """``2025-03-04`` for a day, ``2025-W10`` for an ISO week (UTC)."""
    if unit == "day":
        return moment.date().isoformat()
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def _queue_shares(rows: Sequence[Row]) -> dict[str, float]:
    counts = Counter(str(row["queue"]) for row in rows)
    return {queue: round(n / len(rows), 6) for queue, n in counts.most_common()}


def _review_rate(rows: Sequence[Row]) -> float | None:
    return _share(sum(bool(row["needs_review"]) for row in rows), len(rows))


def _traffic(
    window: Sequence[Row], previous: Sequence[Row], start: datetime, end: datetime, unit: str
) -> dict[str, Any]:
    """Queue shares and review rate, for the window, the previous window and per bucket."""
    by_bucket: dict[str, list[Row]] = {}
    for row in window:
        by_bucket.setdefault(_bucket(row["created_at"], unit), []).append(row)
    buckets = []
    for key, first_day in _buckets(start, end, unit):
        rows = by_bucket.get(key, [])
        buckets.append(
            {
                "bucket": key,
                "start": first_day,
                "n": len(rows),
                "review_rate": _review_rate(rows),
                "queues": _queue_shares(rows),
            }
        )
    return {
        "n": len(window),
        "queues": _queue_shares(window),
        "previous_queues": _queue_shares(previous),
        "review_rate": _review_rate(window),
        "previous_review_rate": _review_rate(previous),
        "buckets": buckets,
    }


def _mean_unseen(rows: Sequence[Row]) -> float | None:
    return _rounded(sum(row["unseen_share"] for row in rows) / len(rows)) if rows else None


def _input_drift(window: Sequence[Row], previous: Sequence[Row]) -> dict[str, Any]:
    now, before = _mean_unseen(window), _mean_unseen(previous)
    change = _rounded(now - before) if now is not None and before is not None else None
    return {"unseen_share": now, "previous_unseen_share": before, "change": change}


def _head_report(
    head: Mapping[str, Any],
    window: Sequence[Row],
    previous: Sequence[Row],
    feedback: Sequence[Row],
    metrics: Mapping[str, Any] | None,
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    """Everything the report says about one head."""
    name, classes = head["name"], [str(c) for c in head["classes"]]
    now = Counter(str(row[name]) for row in window if row.get(name) is not None)
    before = Counter(str(row[name]) for row in previous if row.get(name) is not None)
    labelled = [row for row in feedback if row.get(f"final_{name}") and row.get(name)]
    truth = [str(row[f"final_{name}"]) for row in labelled]
    predicted = [str(row[name]) for row in labelled]
    extra = sorted((set(now) | set(before) | set(truth) | set(predicted)) - set(classes))
    labels = classes + extra
    expected = _training_mix(metrics, classes) if metrics else None
    n_expected = sum(expected.values()) if expected else 0
    priors = _label_priors(metrics, classes) if metrics else None
    n_now, n_before = sum(now.values()), sum(before.values())
    mix = {
        label: {
            "count": now[label],
            "share": _share(now[label], n_now),
            "previous_share": _share(before[label], n_before),
            "training_share": _share(expected.get(label, 0), n_expected) if expected else None,
            "label_prior": priors.get(label) if priors else None,
        }
        for label in labels
    }
    drift = {
        "vs_training": psi([now[c] for c in labels], [expected.get(c, 0.0) for c in labels])
        if expected and n_now
        else None,
        "vs_previous": psi([now[c] for c in labels], [before[c] for c in labels])
        if n_now and n_before
        else None,
    }
    target = head.get("target")
    report: dict[str, Any] = {
        "classes": classes,
        "unknown_labels": extra,
        "target": None,
        "n_predictions": n_now,
        "previous_n_predictions": n_before,
        "mix": mix,
        "absent": [c for c in classes if n_now and not now[c]],
        "psi": drift,
        "feedback": _feedback_report(name, classes, labels, labelled, start, end),
    }
    if target:
        scores = report["feedback"]["per_class"].get(target["class"], {})
        n_hit = scores.get("n_predicted", 0)
        precision = scores.get("precision")
        confidence = float(target.get("confidence", 0.5))
        lower = (
            float(wilson_lower_bound(np.array(precision), np.array(n_hit), confidence))
            if n_hit and confidence > 0.5
            else precision
        )
        report["target"] = {
            "class": target["class"],
            "min_precision": target["min_precision"],
            "threshold": target["threshold"],
            "confidence": confidence,
            "n_predicted": n_hit,
            "precision": precision,
            "precision_lower": _rounded(lower),
            "recall": scores.get("recall"),
        }
    return report


def _feedback_report(
    name: str,
    classes: Sequence[str],
    labels: Sequence[str],
    labelled: Sequence[Row],
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    """Scores on the agents' labels: the window, each ISO week, confusion, calibration."""
    truth = [str(row[f"final_{name}"]) for row in labelled]
    predicted = [str(row[name]) for row in labelled]
    result = _class_scores(truth, predicted, labels)
    by_week: dict[str, list[int]] = {}
    for i, row in enumerate(labelled):
        by_week.setdefault(_bucket(row["created_at"], "week"), []).append(i)
    result["weekly"] = []
    for week, first_day in _buckets(start, end, "week"):
        members = by_week.get(week, [])
        scores = _class_scores([truth[i] for i in members], [predicted[i] for i in members], labels)
        result["weekly"].append({"week": week, "start": first_day, **scores})
    pairs = Counter(zip(truth, predicted, strict=True))
    result["confusion"] = {
        "labels": list(labels),
        "counts": [[pairs[(t, p)] for p in labels] for t in labels],
    }
    index = {c: k for k, c in enumerate(classes)}
    usable = [
        (row["probabilities"][name], index[t])
        for row, t in zip(labelled, truth, strict=True)
        if t in index and set((row.get("probabilities") or {}).get(name, {})) == set(classes)
    ]
    result["calibration"] = None
    if usable:
        proba = np.array([[p[c] for c in classes] for p, _ in usable], dtype=float)
        result["calibration"] = _calibration(proba, np.array([k for _, k in usable]))
    return result


# --------------------------------------------------------------------------------------------
# Alerts, notes and the summary


def _alert(
    kind: str, head: str | None, value: float, threshold: float, message: str, **extra: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "head": head,
        **extra,
        "value": value,
        "threshold": threshold,
        "message": message,
    }


def _alerts(report: Mapping[str, Any], min_support: int, min_predictions: int) -> list[dict]:
    """The alert rules (module docstring; ``report["rules"]`` records their parameters)."""
    alerts = []
    n_now, n_before = report["n_predictions"], report["previous_window"]["n_predictions"]
    for name, head in report["heads"].items():
        target = head["target"]
        if target and target["n_predicted"] >= min_support:
            precision = target["precision"]
            if precision < target["min_precision"]:
                alerts.append(
                    _alert(
                        "target_precision",
                        name,
                        precision,
                        target["min_precision"],
                        f"{name} {target['class']!r}: precision {precision:.2f} on "
                        f"{target['n_predicted']} feedback tickets predicted {target['class']!r} "
                        f"is below its target {target['min_precision']:.2f}",
                        **{"class": target["class"]},
                    )
                )
        for kind, key, against, enough in (
            ("psi_training", "vs_training", "training", head["n_predictions"] >= min_predictions),
            (
                "psi_previous",
                "vs_previous",
                "the previous window",
                min(head["n_predictions"], head["previous_n_predictions"]) >= min_predictions,
            ),
        ):
            value = head["psi"][key]
            if enough and value is not None and value > PSI_ALERT:
                alerts.append(
                    _alert(
                        kind,
                        name,
                        value,
                        PSI_ALERT,
                        f"{name}: the predicted class mix moved away from {against} "
                        f"(PSI {value:.2f} > {PSI_ALERT}); {_biggest_move(head, key)}",
                    )
                )
    traffic = report["traffic"]
    rate, before = traffic["review_rate"], traffic["previous_review_rate"]
    compare = min(n_now, n_before) >= min_predictions
    if compare and rate > before and rate >= REVIEW_RATE_RATIO * before:
        alerts.append(
            _alert(
                "review_rate",
                None,
                rate,
                round(REVIEW_RATE_RATIO * before, 6),
                f"the review rate rose to {rate:.0%} from {before:.0%} in the previous window "
                f"(at least x{REVIEW_RATE_RATIO:g})",
            )
        )
    drift = report["input_drift"]
    if compare and drift["change"] > INPUT_DRIFT_RISE:
        alerts.append(
            _alert(
                "input_drift",
                None,
                drift["unseen_share"],
                round(drift["previous_unseen_share"] + INPUT_DRIFT_RISE, 6),
                f"input drift: on average {drift['unseen_share']:.0%} of a ticket's features "
                f"were never seen in training, up from {drift['previous_unseen_share']:.0%} in "
                "the previous window (new products, error codes or languages?)",
            )
        )
    return alerts


def _biggest_move(head: Mapping[str, Any], key: str) -> str:
    """The class whose share moved most, in words."""
    reference = "training_share" if key == "vs_training" else "previous_share"
    label, entry = max(
        head["mix"].items(),
        key=lambda item: abs((item[1]["share"] or 0.0) - (item[1][reference] or 0.0)),
    )
    return f"most moved: {label!r} {(entry[reference] or 0.0):.0%} -> {(entry['share'] or 0.0):.0%}"


def _notes(report: Mapping[str, Any], meta: Mapping[str, Any], training: object) -> Iterable[str]:
    """Things a reader must know to read the numbers right."""
    if report["n_predictions"] == 0:
        yield "No predictions in this window."
    elif report["n_feedback"] == 0:
        yield "No feedback in this window: accuracy and calibration cannot be measured."
    if report["previous_window"]["n_predictions"] == 0:
        yield "No predictions in the previous window: nothing to compare this window with."
    if training is None:
        yield "The model has no metrics.json: no training class mix to compare with."
    if meta.get("retuned"):
        yield (
            "This model was re-tuned from "
            f"{meta['retuned'].get('from_version')}; its metrics.json (the training class "
            "mix) was measured with the thresholds before re-tuning."
        )
    if len(report["model_versions"]) > 1 or (
        report["model_versions"] and meta.get("version") not in report["model_versions"]
    ):
        versions = ", ".join(f"{v} ({n})" for v, n in report["model_versions"].items())
        yield f"Predictions in this window come from model versions {versions}."
    for name, head in report["heads"].items():
        if head["absent"]:
            listed = ", ".join(repr(c) for c in head["absent"])
            yield f"{name}: never predicted in this window: {listed}."
        if head["unknown_labels"]:
            listed = ", ".join(repr(c) for c in head["unknown_labels"])
            yield f"{name}: labels this model does not know appear in the log: {listed}."
        if report["n_predictions"] and not head["n_predictions"]:
            yield f"{name}: no prediction in this window has a {name!r} label."


def _summary(report: Mapping[str, Any]) -> list[str]:
    """A few plain sentences for the top of the page."""
    window = report["window"]
    n, n_feedback = report["n_predictions"], report["n_feedback"]
    lines = [
        f"{n:,} predictions from {window['since'][:16]} to {window['until'][:16]} UTC"
        + (f", {n_feedback:,} ({n_feedback / n:.0%}) with agent feedback." if n else ".")
    ]
    if not n:
        lines.append("Nothing was triaged in this window, so there is nothing to judge.")
        return lines
    alerts = report["alerts"]
    lines.append(
        f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''}: see below."
        if alerts
        else "No alerts."
    )
    traffic = report["traffic"]
    review = f"{traffic['review_rate']:.0%} of tickets went to review"
    if traffic["previous_review_rate"] is not None:
        review += f" ({traffic['previous_review_rate']:.0%} in the previous window)"
    lines.append(review + ".")
    for name, head in report["heads"].items():
        target = head["target"]
        if target is None:
            continue
        if target["n_predicted"] == 0:
            lines.append(f"{name}: no feedback on tickets predicted {target['class']!r} yet.")
            continue
        lines.append(
            f"{name} {target['class']!r}: precision {target['precision']:.2f} (target "
            f"{target['min_precision']:.2f}) on {target['n_predicted']} feedback tickets "
            f"predicted {target['class']!r}"
            + (
                "."
                if target["n_predicted"] >= report["rules"]["min_support"]
                else f"; too few to judge (fewer than {report['rules']['min_support']})."
            )
        )
    return lines
