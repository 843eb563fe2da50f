"""Draw the figures of the evaluation report (:mod:`ticket_triage.training.report`).

Per head three figures: a confusion matrix, one-vs-rest precision-recall curves with the tuned
threshold marked, and a reliability diagram. :func:`head_figures` returns each as a
``data:image/png;base64,...`` URI with its alt text and caption, ready for an ``<img>`` tag; the
numbers behind them (:func:`pr_curve`, the confusion counts, the reliability bins) are computed
here with numpy alone, so the report needs no scikit-learn.

Why it is separate from :mod:`ticket_triage.training.report`: that module assembles the HTML
page; this one only draws, with the helpers every report shares
(:mod:`ticket_triage.render.figures`: matplotlib imported only inside them, Agg canvas, no pyplot
state).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ticket_triage.render.figures import (
    Figures,
    colors,
    drawn,
    finish_reliability,
    label,
    new_axes,
)
from ticket_triage.training.head_eval import HeadEval

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["head_figures", "pr_curve"]

#: Number of equal-width confidence bins in the reliability diagram.
_N_BINS = 10


# --------------------------------------------------------------------------------------------
# Numbers


def pr_curve(
    scores: np.ndarray, positives: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision-recall pairs for every distinct score threshold, computed with numpy alone.

    Same semantics and output as ``sklearn.metrics.precision_recall_curve`` (default
    ``drop_intermediate=False``), so curves in the report match what one would get in a notebook:
    a sample is predicted positive when ``score >= threshold``; thresholds are the distinct scores
    in increasing order; precision and recall have one more element than thresholds, ending with
    the point ``(precision=1, recall=0)`` where nothing is predicted positive. The report is drawn
    without scikit-learn, which is why this exists.

    Parameters
    ----------
    scores : numpy.ndarray
        Scores for the positive class, shape ``(n,)``; ties are allowed.
    positives : numpy.ndarray
        Boolean (or 0/1) truth, shape ``(n,)``.

    Returns
    -------
    precision : numpy.ndarray
        ``precision[i]`` for predicting positive when ``score >= thresholds[i]``, then 1.
    recall : numpy.ndarray
        Matching recall, decreasing, then 0. When there are no positives it is 1 everywhere
        (before the final 0), as in scikit-learn, but without a warning.
    thresholds : numpy.ndarray
        The distinct scores, increasing.

    Raises
    ------
    ValueError
        If the shapes differ or a score is NaN or infinite.

    Examples
    --------
    >>> p, r, t = pr_curve(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    >>> np.round(p, 3).tolist(), r.tolist(), t.tolist()
    ([0.5, 0.667, 0.5, 1.0, 1.0], [1.0, 1.0, 0.5, 0.5, 0.0], [0.1, 0.35, 0.4, 0.8])
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    positives = np.asarray(positives).ravel().astype(bool)
    if scores.shape != positives.shape:
        raise ValueError(
            f"scores and positives differ in length: {scores.size} vs {positives.size}"
        )
    if not np.isfinite(scores).all():
        raise ValueError("scores hold NaN or infinite values")
    if scores.size == 0:
        return np.array([1.0]), np.array([0.0]), np.array([], dtype=np.float64)

    order = np.argsort(scores, kind="stable")[::-1]
    sorted_scores = scores[order]
    # The last index of each run of equal scores: a threshold admits the whole run at once.
    last = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.size - 1]
    tps = np.cumsum(positives[order], dtype=np.float64)[last]
    predicted = last + 1.0  # never 0, so precision needs no guard
    precision = tps / predicted
    recall = tps / tps[-1] if tps[-1] > 0 else np.ones_like(tps)
    return (
        np.r_[precision[::-1], 1.0],
        np.r_[recall[::-1], 0.0],
        sorted_scores[last][::-1],
    )


def _confusion(head: HeadEval) -> tuple[np.ndarray, list[str]]:
    """Count true (rows) against predicted (columns) labels.

    Returns the counts and the column labels. Predictions outside the class range get one extra
    "(other)" column instead of being dropped, so row sums always equal the class support.
    """
    k = len(head.classes)
    y_true = np.asarray(head.y_true, dtype=np.int64)
    y_pred = np.asarray(head.y_pred, dtype=np.int64)
    valid = (y_pred >= 0) & (y_pred < k)
    columns = list(head.classes)
    if not valid.all():
        columns.append("(other)")
    n_cols = len(columns)
    cols = np.where(valid, y_pred, k)
    counts = np.bincount(y_true * n_cols + cols, minlength=k * n_cols).reshape(k, n_cols)
    return counts, columns


def _reliability(head: HeadEval) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-class confidence against accuracy in equal-width bins.

    Uses the arg-max class and its probability, not the thresholded decision, because the question
    is whether the calibrated probabilities are honest. Returns per bin the count, the mean
    confidence and the accuracy; the last two are NaN for empty bins (nothing to plot there).
    """
    proba = np.asarray(head.proba, dtype=np.float64)
    y_true = np.asarray(head.y_true)
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y_true).astype(np.float64)
    bins = np.clip(np.floor(confidence * _N_BINS), 0, _N_BINS - 1).astype(np.int64)
    counts = np.bincount(bins, minlength=_N_BINS)
    nonempty = counts > 0
    mean_conf = np.full(_N_BINS, np.nan)
    accuracy = np.full(_N_BINS, np.nan)
    mean_conf[nonempty] = (
        np.bincount(bins, weights=confidence, minlength=_N_BINS)[nonempty] / counts[nonempty]
    )
    accuracy[nonempty] = (
        np.bincount(bins, weights=correct, minlength=_N_BINS)[nonempty] / counts[nonempty]
    )
    return counts, mean_conf, accuracy


# --------------------------------------------------------------------------------------------
# Figures


def head_figures(head: HeadEval) -> Figures:
    """Draw the three figures of one head as ``(data URI, alt text, caption)`` triples."""
    return drawn(
        [
            (
                lambda: _confusion_figure(head),
                f"Confusion matrix of {head.name}",
                "Rows: true class, columns: predicted (final decision). "
                "Numbers are counts; colour is the share of the row.",
            ),
            (
                lambda: _pr_figure(head),
                f"Precision-recall curves of {head.name}",
                "One-vs-rest precision-recall per class from the calibrated probabilities"
                + (
                    "; the dot marks the tuned threshold of the target class."
                    if _marks_threshold(head)
                    else "."
                ),
            ),
            (
                lambda: _reliability_figure(head),
                f"Reliability diagram of {head.name}",
                "Top-class confidence in 10 equal-width bins: mean confidence vs accuracy. "
                "Grey bars: share of tickets per bin, with counts.",
            ),
        ]
    )


def _confusion_figure(head: HeadEval) -> Figure:
    """Confusion matrix: rows true, columns predicted, counts written, colour row-normalised.

    Row-normalised colour shows recall per class at a glance even when classes are unbalanced;
    the counts keep the absolute scale visible.
    """
    counts, columns = _confusion(head)
    row_sums = counts.sum(axis=1, keepdims=True)
    shares = np.divide(
        counts, row_sums, out=np.zeros(counts.shape, dtype=np.float64), where=row_sums > 0
    )
    fig, ax = new_axes()
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    cbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    cbar.ax.tick_params(labelsize=7)
    cbar.set_label("share of true class", fontsize=7)

    n_rows, n_cols = counts.shape
    fontsize = max(5, 9 - max(n_rows, n_cols) // 3)
    for i in range(n_rows):
        for j in range(n_cols):
            ax.text(
                j,
                i,
                str(counts[i, j]),
                ha="center",
                va="center",
                fontsize=fontsize,
                color="white" if shares[i, j] > 0.55 else "#1f2933",
            )
    ax.set_xticks(range(n_cols), [label(c) for c in columns], fontsize=7)
    ax.set_yticks(range(n_rows), [label(c) for c in head.classes], fontsize=7)
    if n_cols > 4 or max((len(c) for c in columns), default=0) > 8:
        ax.tick_params(axis="x", labelrotation=45)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("true", fontsize=8)
    ax.set_title(f"Confusion matrix: {label(head.name)}", fontsize=9)
    return fig


def _marks_threshold(head: HeadEval) -> bool:
    """Whether the PR figure can mark the tuned threshold: it exists and has a curve to sit on."""
    if head.target_class is None or head.target_threshold is None:
        return False
    k = head.classes.index(head.target_class)
    return bool((np.asarray(head.y_true) == k).any())


def _pr_figure(head: HeadEval) -> Figure:
    """One-vs-rest precision-recall curves, with the target class's tuned threshold marked.

    The dot is read off the curve itself (the first threshold at or above the tuned one admits
    exactly the samples with ``score >= threshold``), so it always lies on the line.
    """
    proba = np.asarray(head.proba, dtype=np.float64)
    y_true = np.asarray(head.y_true)
    palette = colors(len(head.classes))
    fig, ax = new_axes()
    labelled = False
    for k, name in enumerate(head.classes):
        positives = y_true == k
        if not positives.any():
            # No positives: recall is undefined. Say so in the legend rather than draw a lie.
            ax.plot([], [], color=palette[k], label=f"{label(name)} (no positives)")
            labelled = True
            continue
        precision, recall, thresholds = pr_curve(proba[:, k], positives)
        average_precision = float(-np.sum(np.diff(recall) * precision[:-1]))
        ax.plot(
            recall,
            precision,
            drawstyle="steps-post",
            color=palette[k],
            linewidth=1.3,
            label=f"{label(name)} (AP {average_precision:.2f})",
        )
        labelled = True
        if name == head.target_class and _marks_threshold(head):
            idx = int(np.searchsorted(thresholds, head.target_threshold, side="left"))
            p, r = float(precision[idx]), float(recall[idx])
            ax.plot(
                [r], [p], "o", color=palette[k], markeredgecolor="black", markersize=7, zorder=5
            )
            left = r > 0.55
            ax.annotate(
                f"{label(name)} @ {head.target_threshold:.2f}\nP {p:.2f}, R {r:.2f}",
                xy=(r, p),
                xytext=(-10 if left else 10, -24),
                textcoords="offset points",
                ha="right" if left else "left",
                fontsize=7,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": palette[k], "alpha": 0.9},
            )
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("recall", fontsize=8)
    ax.set_ylabel("precision", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(f"Precision-recall: {label(head.name)}", fontsize=9)
    if labelled:
        ax.legend(fontsize=6, loc="lower left", ncol=2 if len(head.classes) > 6 else 1)
    return fig


def _reliability_figure(head: HeadEval) -> Figure:
    """Reliability diagram: mean confidence vs accuracy per bin, over a bar underlay of counts.

    Points on the diagonal mean "80 % confident" is right 80 % of the time. The bars show where
    the predictions actually are, so a bad point in a nearly empty bin is not over-read.
    """
    counts, mean_conf, accuracy = _reliability(head)
    n = int(counts.sum())
    edges = np.linspace(0.0, 1.0, _N_BINS + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    shares = counts / n if n else np.zeros(_N_BINS)
    fig, ax = new_axes()
    ax.bar(
        centers,
        shares,
        width=1.0 / _N_BINS,
        color="#d9e2ec",
        edgecolor="white",
        label="share of tickets",
    )
    for x, share, count in zip(centers, shares, counts, strict=True):
        if count:
            ax.text(
                x, share + 0.01, str(count), ha="center", va="bottom", fontsize=6, color="#52606d"
            )
    ax.plot(
        [0, 1], [0, 1], linestyle="--", color="#9aa5b1", linewidth=1, label="perfectly calibrated"
    )
    nonempty = counts > 0
    ax.plot(
        mean_conf[nonempty],
        accuracy[nonempty],
        marker="o",
        markersize=4,
        color="#2680c2",
        linewidth=1.3,
        label="accuracy",
    )
    ax.set_ylabel("accuracy / share of tickets", fontsize=8)
    finish_reliability(ax, f"Reliability: {label(head.name)} (n={n})")
    return fig
