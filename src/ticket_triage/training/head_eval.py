"""One head's held-out predictions: what the evaluation report draws.

``metrics.json`` holds the numbers; the figures need the raw predictions, which are too big to
store there. :func:`ticket_triage.training.evaluate.evaluate` builds one per head, and
:mod:`~ticket_triage.training.report_figures` draws from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["HeadEval"]


@dataclass(frozen=True, eq=False)
class HeadEval:
    """One head's held-out predictions, what the report draws.

    ``metrics.json`` holds the numbers; the figures need the raw predictions, which are too big to
    store there. ``eq=False`` because field-wise equality of numpy arrays is ambiguous.

    Parameters
    ----------
    name : str
        Head name, for example ``"urgency"``; matches a key of ``metrics["heads"]``.
    classes : list of str
        Label names, in the column order of `proba`.
    y_true : numpy.ndarray
        True labels as integer indices into `classes`, shape ``(n,)``.
    y_pred : numpy.ndarray
        The final decision (after thresholds) as integer indices, shape ``(n,)``. Values outside
        ``range(len(classes))`` (an abstention, say) are drawn as an extra "(other)" column.
    proba : numpy.ndarray
        Calibrated probabilities, shape ``(n, len(classes))``.
    target_class : str or None
        The class with a precision target (for example ``"high"``), or None.
    target_threshold : float or None
        The tuned probability threshold for `target_class`, or None.

    Raises
    ------
    ValueError
        If the shapes disagree, `y_true` holds an index outside `classes`, or `target_class` is
        not one of `classes`. A report drawn from inconsistent inputs would look plausible and be
        wrong, so this fails early instead.
    """

    name: str
    classes: list[str]
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray
    target_class: str | None
    target_threshold: float | None

    def __post_init__(self) -> None:
        """Check that the arrays fit together, so drawing never has to guess."""
        k = len(self.classes)
        if k == 0:
            raise ValueError(f"head {self.name!r}: classes is empty")
        y_true = np.asarray(self.y_true)
        y_pred = np.asarray(self.y_pred)
        proba = np.asarray(self.proba)
        if y_true.ndim != 1 or y_pred.shape != y_true.shape:
            raise ValueError(
                f"head {self.name!r}: y_true and y_pred must be 1-d of equal length, "
                f"got {y_true.shape} and {y_pred.shape}"
            )
        if proba.shape != (y_true.shape[0], k):
            raise ValueError(
                f"head {self.name!r}: proba must have shape {(y_true.shape[0], k)}, "
                f"got {proba.shape}"
            )
        if y_true.size and (y_true.min() < 0 or y_true.max() >= k):
            raise ValueError(f"head {self.name!r}: y_true holds indices outside 0..{k - 1}")
        if not np.isfinite(proba).all():
            raise ValueError(f"head {self.name!r}: proba holds NaN or infinite values")
        if self.target_class is not None and self.target_class not in self.classes:
            raise ValueError(
                f"head {self.name!r}: target_class {self.target_class!r} is not one of the classes"
            )
