"""Score a labelled file with an artifact and measure it: ``metrics.json`` and ``report.html``.

Evaluation goes through :class:`~ticket_triage.core.model.TriageModel`, the numpy code that serves,
so the numbers describe what production will do, not what scikit-learn did during training. The
schema of the metrics is a contract (``DESIGN.md``): per class precision/recall/F1/support,
accuracy, macro-F1, the target threshold's result, coverage (share decided without review) and ECE.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ticket_triage.core.decisions import decide
from ticket_triage.core.model import TriageModel
from ticket_triage.training.data import Tickets
from ticket_triage.training.head_eval import HeadEval

__all__ = ["evaluate", "expected_calibration_error", "per_class_scores"]


def per_class_scores(
    y_true: np.ndarray, y_pred: np.ndarray, n_classes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 and support per class; 0 where undefined (no warning, no NaN)."""
    confusion = np.bincount(y_true * n_classes + y_pred, minlength=n_classes**2).reshape(
        n_classes, n_classes
    )
    tp = np.diag(confusion).astype(float)
    predicted, support = confusion.sum(axis=0), confusion.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros(n_classes), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(n_classes), where=support > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros(n_classes), where=total > 0)
    return precision, recall, f1, support


def expected_calibration_error(proba: np.ndarray, y_true: np.ndarray, bins: int = 10) -> float:
    """ECE of the top-class probability over equal-width bins.

    Examples
    --------
    >>> expected_calibration_error(np.array([[0.9, 0.1], [0.6, 0.4]]), np.array([0, 1]))
    0.35
    """
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    error = 0.0
    for b in np.unique(which):
        members = which == b
        error += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return round(float(error), 6)


def _argmax_scores(proba: np.ndarray, y_true: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-F1 of the plain most-probable class, before any threshold.

    The like-for-like number to compare with a classifier that has no operating point, such as
    the TF-IDF + LinearSVC baseline; the head's own ``macro_f1`` includes the target threshold.
    """
    y_pred = proba.argmax(axis=1)
    _, _, f1, _ = per_class_scores(y_true, y_pred, proba.shape[1])
    present = np.union1d(np.unique(y_true), np.unique(y_pred))
    return {
        "accuracy": round(float((y_true == y_pred).mean()), 6),
        "macro_f1": round(float(f1[present].mean()), 6),
    }


def _head_metrics(
    model: TriageModel, head_index: int, proba: np.ndarray, y_true: np.ndarray, review: np.ndarray
) -> tuple[dict[str, Any], HeadEval]:
    head = model.heads[head_index]
    meta = model.meta["heads"][head_index]
    classes = list(head.classes)
    y_pred = decide(proba, head.target_index, head.target_threshold)
    precision, recall, f1, support = per_class_scores(y_true, y_pred, len(classes))
    present = np.union1d(np.unique(y_true), np.unique(y_pred))
    target = None
    if meta.get("target"):
        tuned = meta["target"]
        k = head.target_index
        hits = y_pred == k
        tp = int(((y_true == k) & hits).sum())
        target = {
            "class": tuned["class"],
            "min_precision": tuned["min_precision"],
            "threshold": tuned["threshold"],
            "precision": round(tp / int(hits.sum()), 6) if hits.any() else 0.0,
            "recall": round(tp / int((y_true == k).sum()), 6) if (y_true == k).any() else 0.0,
            "reachable": tuned["reachable"],
            "best_precision": tuned["best_precision"],
            "confidence": tuned["confidence"],
            "tuning": {
                "precision": tuned["precision"],
                "precision_lower": tuned["precision_lower"],
                "recall": tuned["recall"],
            },
        }
    metrics = {
        "classes": classes,
        "n": len(y_true),
        "accuracy": round(float((y_true == y_pred).mean()), 6),
        "macro_f1": round(float(f1[present].mean()), 6),
        "per_class": {
            name: {
                "precision": round(float(precision[k]), 6),
                "recall": round(float(recall[k]), 6),
                "f1": round(float(f1[k]), 6),
                "support": int(support[k]),
            }
            for k, name in enumerate(classes)
        },
        "argmax": _argmax_scores(proba, y_true),
        "target": target,
        "coverage": round(float(1.0 - review.mean()), 6),
        "ece": expected_calibration_error(proba, y_true),
    }
    evaluation = HeadEval(
        name=head.name,
        classes=classes,
        y_true=y_true,
        y_pred=y_pred,
        proba=proba,
        target_class=target["class"] if target else None,
        target_threshold=target["threshold"] if target else None,
    )
    return metrics, evaluation


def evaluate(
    model: TriageModel, tickets: Tickets, description: str = ""
) -> tuple[dict[str, Any], list[HeadEval], list[str]]:
    """Score labelled tickets and measure every head the file has labels for.

    Returns
    -------
    metrics : dict
        The ``metrics.json`` document.
    evaluations : list of HeadEval
        Per head, what the HTML report draws.
    warnings : list of str
        Things a person should know (a head without labels, labels the model does not know).
    """
    results = model.triage_many(tickets.tickets)
    size = 0
    if model.path is not None:
        size = sum(f.stat().st_size for f in model.path.iterdir() if f.name in _MODEL_FILES)
    metrics: dict[str, Any] = {
        "model": {
            "version": model.version,
            "size_bytes": size,
            "n_features": model.features.n_features,
        },
        "data": {
            "path": str(tickets.path),
            "sha256": tickets.sha256,
            "n_rows": len(tickets.tickets),
            "description": description,
        },
        "heads": {},
    }
    evaluations, warnings = [], []
    for index, head in enumerate(model.heads):
        labels = tickets.labels.get(head.name)
        if labels is None:
            warnings.append(f"no {head.name!r} column in {tickets.path.name}: head not evaluated")
            continue
        known = {name: k for k, name in enumerate(head.classes)}
        rows = [i for i, label in enumerate(labels) if label in known]
        unknown = sum(1 for label in labels if label and label not in known)
        if unknown:
            warnings.append(
                f"{unknown} rows have a {head.name!r} label the model does not know; skipped"
            )
        if not rows:
            warnings.append(f"no usable {head.name!r} labels in {tickets.path.name}")
            continue
        proba = np.array(
            [[results[i][head.name].probabilities[c] for c in head.classes] for i in rows]
        )
        review = np.array([results[i][head.name].needs_review for i in rows])
        y_true = np.array([known[labels[i]] for i in rows])
        head_metrics, evaluation = _head_metrics(model, index, proba, y_true, review)
        metrics["heads"][head.name] = head_metrics
        evaluations.append(evaluation)
    return metrics, evaluations, warnings


_MODEL_FILES = frozenset({"model.json", "weights.npz"})
