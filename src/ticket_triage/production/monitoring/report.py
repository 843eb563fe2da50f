"""Build the monitoring report of one window of the prediction log: the numbers of every head,
the traffic, the drift, and the verdicts, as one JSON-ready dict (see the package docstring)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ticket_triage.core.artifact import read_artifact
from ticket_triage.core.thresholds import wilson_lower_bound
from ticket_triage.production.monitoring.alerts import REVIEW_RATE_RATIO, alerts, notes, summary
from ticket_triage.production.monitoring.drift import (
    INPUT_DRIFT_RISE,
    PSI_ALERT,
    PSI_EPSILON,
    input_drift,
    label_priors,
    psi,
    training_mix,
)
from ticket_triage.production.monitoring.quality import (
    AUDIT_LABEL,
    FEEDBACK_LABEL,
    weighted_scores,
)
from ticket_triage.production.monitoring.scores import feedback_report
from ticket_triage.production.monitoring.traffic import traffic
from ticket_triage.production.monitoring.window import (
    DAILY_UP_TO,
    Row,
    rounded,
    share,
    utc,
    with_utc,
)

if TYPE_CHECKING:
    from ticket_triage.production.store import Store

__all__ = ["REPORT_SCHEMA", "build_report"]

#: Bumped when a key of the report JSON changes meaning (the dashboard reads it).
REPORT_SCHEMA = 1


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
        ``alerts``, ``notes``, ``rules``, ``audit`` (the audit sample's size and what the two
        kinds of figures are called), ``traffic``, ``input_drift``, ``heads`` (each with
        ``feedback``: scores on feedback only, biased; and ``audit``: audit-weighted, see
        :mod:`~ticket_triage.production.monitoring.quality`).

    Raises
    ------
    ValueError
        ``until`` is not after ``since``, or a minimum is below 1.
    ArtifactError
        ``model_dir`` is not an intact artifact.
    """
    clock = utc(now) if now is not None else datetime.now(UTC)
    start, end = utc(since), utc(until) if until is not None else clock
    if end <= start:
        raise ValueError(f"until ({end.isoformat()}) must be after since ({start.isoformat()})")
    if min_support < 1 or min_predictions < 1:
        raise ValueError("min_support and min_predictions must be at least 1")
    artifact = read_artifact(Path(model_dir))
    meta = artifact.meta
    metrics_path = artifact.path / "metrics.json"
    training = json.loads(metrics_path.read_text()) if metrics_path.is_file() else None
    previous_start = start - (end - start)

    logged = [with_utc(row) for row in store.predictions(previous_start)]
    window = [row for row in logged if start <= row["created_at"] < end]
    previous = [row for row in logged if row["created_at"] < start]
    feedback = [
        row for row in map(with_utc, store.feedback(start)) if start <= row["created_at"] < end
    ]
    unit = "day" if end - start <= DAILY_UP_TO else "week"
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
        "audit": _audit_summary(window, feedback),
        "traffic": traffic(window, previous, start, end, unit),
        "input_drift": input_drift(window, previous),
        "heads": heads,
    }
    report["alerts"] = alerts(report, min_support, min_predictions)
    report["notes"] = list(notes(report, meta, training))
    report["summary"] = summary(report)
    return report


def _audit_summary(window: Sequence[Row], feedback: Sequence[Row]) -> dict[str, Any]:
    """How large the audit sample of the window is, and how the two kinds of figures are named
    (``heads.<head>.feedback``: feedback only; ``heads.<head>.audit``: audit-weighted)."""
    shares = {row.get("audit_probability") for row in window if not row.get("needs_review")}
    return {
        "feedback_label": FEEDBACK_LABEL,
        "weighted_label": AUDIT_LABEL,
        "audit_shares": sorted(s for s in shares if s is not None),
        "n_flagged": sum(1 for row in window if row.get("needs_audit")),
        "n_flagged_with_feedback": sum(1 for row in feedback if row.get("needs_audit")),
    }


def _head_metrics(training: object, head: str) -> Mapping[str, Any] | None:
    """The head's held-out evaluation from ``metrics.json``, if recorded."""
    if not isinstance(training, Mapping):
        return None
    found = training.get("heads", {}).get(head)
    return found if isinstance(found, Mapping) and found.get("per_class") else None


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
    expected = training_mix(metrics, classes) if metrics else None
    n_expected = sum(expected.values()) if expected else 0
    priors = label_priors(metrics, classes) if metrics else None
    n_now, n_before = sum(now.values()), sum(before.values())
    mix = {
        label: {
            "count": now[label],
            "share": share(now[label], n_now),
            "previous_share": share(before[label], n_before),
            "training_share": share(expected.get(label, 0), n_expected) if expected else None,
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
        "feedback": feedback_report(name, classes, labels, labelled, start, end),
        "audit": weighted_scores(name, labels, feedback),
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
            "precision_lower": rounded(lower),
            "recall": scores.get("recall"),
        }
    return report
