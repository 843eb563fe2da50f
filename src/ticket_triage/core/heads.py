"""The heads as the artifact describes them, and how a head's raw scores become probabilities.

Step three of the data path. Every head is a block of columns of one shared linear model over the
hashed features (:mod:`ticket_triage.core.model` keeps the weights); this module holds what
distinguishes the heads: their classes, their columns, their calibration and the thresholds their
decision uses (:mod:`ticket_triage.core.decisions` applies those). Training writes exactly these
numbers (:mod:`ticket_triage.training.fitting`); a parity test checks them against scikit-learn's
calibrators to 1e-6.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Calibration", "Head", "calibrate", "calibrate_one", "parse_head"]

# math.exp overflows above this; the probability is 0 either way.
_MAX_EXP = 700.0


@dataclass(frozen=True)
class Calibration:
    """How a head's raw linear scores become probabilities (scikit-learn's calibrators).

    ``temperature``: ``softmax(beta * scores)``, a binary head's single score ``s`` read as
    logits ``(-s, s)``. ``sigmoid``: ``1 / (1 + exp(a_k * s_k + b_k))`` per class, normalised to sum
    to one (a binary head calibrates its positive class and takes the complement).
    """

    method: str
    beta: float = 1.0
    a: tuple[float, ...] = ()
    b: tuple[float, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form for ``model.json``."""
        if self.method == "temperature":
            return {"method": "temperature", "beta": self.beta}
        return {"method": "sigmoid", "a": list(self.a), "b": list(self.b)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Calibration:
        """Parse what :meth:`to_json` wrote."""
        if data.get("method") == "temperature":
            return cls("temperature", beta=float(data["beta"]))
        if data.get("method") == "sigmoid":
            return cls("sigmoid", a=tuple(map(float, data["a"])), b=tuple(map(float, data["b"])))
        raise ValueError(f"unknown calibration method {data.get('method')!r}")


def calibrate(scores: np.ndarray, calibration: Calibration, n_classes: int) -> np.ndarray:
    """Turn linear scores of shape (n, n_columns) into probabilities of shape (n, n_classes).

    A binary head has one score column (the second class's margin), as in scikit-learn.
    """
    if calibration.method == "temperature":
        logits = np.hstack([-scores, scores]) if n_classes == 2 else scores
        logits = calibration.beta * logits
        proba = np.exp(logits - logits.max(axis=1, keepdims=True))
        return proba / proba.sum(axis=1, keepdims=True)  # never above 1: no clipping needed
    a, b = np.asarray(calibration.a), np.asarray(calibration.b)
    with np.errstate(over="ignore"):  # exp overflow -> inf -> probability 0, as intended
        positive = 1.0 / (1.0 + np.exp(a * scores + b))
    if n_classes == 2:
        proba = np.hstack([1.0 - positive, positive])
    else:
        total = positive.sum(axis=1, keepdims=True)
        uniform = np.full_like(positive, 1.0 / n_classes)
        proba = np.divide(positive, total, out=uniform, where=total != 0)
    proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
    return proba


def calibrate_one(scores: Sequence[float], calibration: Calibration, n_classes: int) -> list[float]:
    """:func:`calibrate` for one ticket in plain Python (a handful of classes: numpy's per-call
    cost is most of the time there). Agrees with :func:`calibrate` to rounding (tested)."""
    if calibration.method == "temperature":
        logits = [-scores[0], scores[0]] if n_classes == 2 else scores
        scaled = [calibration.beta * value for value in logits]
        top = max(scaled)
        exps = [math.exp(value - top) for value in scaled]
        total = sum(exps)
        return [value / total for value in exps]
    positive = [
        1.0 / (1.0 + math.exp(min(a * s + b, _MAX_EXP)))
        for a, b, s in zip(calibration.a, calibration.b, scores, strict=True)
    ]
    if n_classes == 2:
        return [1.0 - positive[0], positive[0]]
    total = sum(positive)
    if total == 0:
        return [1.0 / n_classes] * n_classes
    return [min(value / total, 1.0) for value in positive]


@dataclass(frozen=True)
class Head:
    """One head of a loaded model.

    Attributes
    ----------
    name : str
        ``"urgency"``, ``"topic"``, or whatever label column the model was trained on.
    classes : tuple of str
        In the order of the probability columns.
    columns : slice
        The head's columns of the model's weights (one for a binary head, as in scikit-learn).
    calibration : Calibration
    target_index : int or None
        The class with a precision target (urgency ``high``), if any.
    target_threshold : float
        The probability the target class needs to be decided (``inf`` without a target).
    review_list : list of float
        Per class, the confidence below which a decision goes to review; ``inf`` means "never
        decide this class automatically".
    """

    name: str
    classes: tuple[str, ...]
    columns: slice
    calibration: Calibration
    target_index: int | None
    target_threshold: float
    review_list: list[float]


def parse_head(data: Mapping[str, Any]) -> Head:
    """A head from its ``model.json`` entry.

    Raises
    ------
    KeyError, ValueError
        The entry is incomplete or inconsistent (the model loader turns these into an
        :class:`~ticket_triage.core.errors.ArtifactError` naming the file).
    """
    classes = tuple(str(c) for c in data["classes"])
    start, stop = (int(x) for x in data["columns"])
    expected = 1 if len(classes) == 2 else len(classes)
    if stop - start != expected or len(classes) < 2:
        raise ValueError(f"head {data['name']!r}: {len(classes)} classes need {expected} columns")
    target = data.get("target")
    target_index = classes.index(target["class"]) if target else None
    thresholds = data["review"]["thresholds"]
    review = [np.inf if thresholds[c] is None else float(thresholds[c]) for c in classes]
    return Head(
        name=str(data["name"]),
        classes=classes,
        columns=slice(start, stop),
        calibration=Calibration.from_json(data["calibration"]),
        target_index=target_index,
        target_threshold=float(target["threshold"]) if target else np.inf,
        review_list=review,
    )
