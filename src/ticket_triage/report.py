"""Render a model evaluation as one self-contained ``report.html``.

``triage train`` and ``triage evaluate`` write ``metrics.json`` for machines; this module writes the
page a person reads before trusting a model: per head the headline numbers, whether the precision
target was met (said in plain words, and loudly when it was not), per-class scores, a confusion
matrix, one-vs-rest precision-recall curves with the tuned threshold marked, and a reliability
diagram that shows whether the calibrated probabilities mean what they say.

Why it looks the way it does:

* The page must stand alone (attached to a ticket, opened from an S3 bucket, diffed in review), so
  figures are PNGs embedded as base64 ``data:`` URIs and the CSS is inline. No scripts.
* Only numpy and matplotlib are used. matplotlib is imported inside :func:`write_report` so that
  importing this module (for example by the CLI, to show ``--help``) stays cheap, and figures are
  plain :class:`matplotlib.figure.Figure` objects drawn by the Agg canvas, never pyplot, so there is
  no global figure state and no GUI backend, and the function is safe to call from a server.
* Every string that comes from data (class names, paths, versions) is HTML-escaped: class names are
  user-defined labels and the report must never execute them.
"""

from __future__ import annotations

import base64
import html
import io
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["HeadEval", "write_report"]

#: Figure size in inches and resolution: small enough that two heads (six figures) stay well under
#: 1 MB of HTML, large enough to read a 10-class confusion matrix.
_FIGSIZE = (4.0, 3.5)
_DPI = 90
#: Number of equal-width confidence bins in the reliability diagram.
_N_BINS = 10
#: Class names longer than this are shortened in figures (tables always show the full name).
_MAX_LABEL = 18

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2933;
       max-width: 1180px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 2px solid #d9e2ec; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.4em; }
.meta { color: #52606d; margin: 0.2em 0; }
code { background: #f0f4f8; padding: 0 0.25em; border-radius: 3px; }
table { border-collapse: collapse; margin: 0.4em 0 1em; font-size: 0.92em; }
th, td { border: 1px solid #d9e2ec; padding: 0.25em 0.7em; text-align: left; }
th { background: #f0f4f8; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.target td { font-weight: 600; background: #fffbea; }
.verdict { padding: 0.5em 0.8em; border-left: 4px solid; border-radius: 3px; margin: 0.6em 0; }
.verdict.ok { background: #effcf6; border-color: #27ab83; }
.verdict.warn { background: #fff3c4; border-color: #cb6e17; font-weight: 600; }
.verdict.none { background: #f5f7fa; border-color: #9aa5b1; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; }
figcaption { font-size: 0.85em; color: #52606d; max-width: 360px; }
nav a { margin-right: 1em; }
"""


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


def write_report(
    path: Path,
    metrics: dict[str, Any],
    heads: list[HeadEval],
    title: str = "ticket-triage evaluation",
) -> None:
    """Write a self-contained HTML evaluation report.

    Parameters
    ----------
    path : pathlib.Path
        Where to write, conventionally ``report.html`` next to ``metrics.json``. Parent
        directories are created.
    metrics : dict
        The ``metrics.json`` dict (``model``, optional ``data``, ``heads``). Numbers in the
        tables come from here, so the page and the JSON can never disagree.
    heads : list of HeadEval
        Held-out predictions per head, for the figures. A head that is in `metrics` but not here
        still gets its tables, with a note that figures are missing.
    title : str, optional
        Page title and top heading.

    Notes
    -----
    The figures are computed from `heads`, the tables from `metrics`; both should come from the
    same held-out split.
    """
    model = _mapping(metrics.get("model"))
    head_metrics = _mapping(metrics.get("heads"))

    sections: list[str] = []
    drawn: set[str] = set()
    for i, head in enumerate(heads):
        drawn.add(head.name)
        figures = _head_figures(head)
        sections.append(_head_section(i, head.name, _mapping(head_metrics.get(head.name)), figures))
    extra = [name for name in head_metrics if name not in drawn]
    for j, name in enumerate(extra, start=len(heads)):
        sections.append(_head_section(j, str(name), _mapping(head_metrics.get(name)), None))

    names = [head.name for head in heads] + [str(name) for name in extra]
    nav = " ".join(f'<a href="#head-{i}">{_esc(name)}</a>' for i, name in enumerate(names))
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_esc(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            f"<h1>{_esc(title)}</h1>",
            _model_line(model),
            _data_line(metrics.get("data")),
            f"<nav>{nav}</nav>" if nav else "",
            *sections,
            "</body>",
            "</html>",
            "",
        ]
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Numbers


def _pr_curve(
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
    >>> p, r, t = _pr_curve(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
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


def _head_figures(head: HeadEval) -> list[tuple[str, str, str]]:
    """Draw the three figures of one head as ``(data URI, alt text, caption)`` triples."""
    # matplotlib warns for every glyph a class name uses that DejaVu Sans lacks (emoji, CJK). The
    # glyph is drawn as a box; that is cosmetic and must not fail a run under ``-W error``.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        return [
            (
                _png_data_uri(_confusion_figure(head)),
                f"Confusion matrix of {head.name}",
                "Rows: true class, columns: predicted (final decision). "
                "Numbers are counts; colour is the share of the row.",
            ),
            (
                _png_data_uri(_pr_figure(head)),
                f"Precision-recall curves of {head.name}",
                "One-vs-rest precision-recall per class from the calibrated probabilities"
                + (
                    "; the dot marks the tuned threshold of the target class."
                    if _marks_threshold(head)
                    else "."
                ),
            ),
            (
                _png_data_uri(_reliability_figure(head)),
                f"Reliability diagram of {head.name}",
                "Top-class confidence in 10 equal-width bins: mean confidence vs accuracy. "
                "Grey bars: share of tickets per bin, with counts.",
            ),
        ]


def _new_axes() -> tuple[Figure, Axes]:
    """Make a small figure with one axes, outside pyplot so there is no global state."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=_FIGSIZE, dpi=_DPI)
    ax = fig.add_subplot()
    return fig, ax


def _png_data_uri(fig: Figure) -> str:
    """Render a figure with the Agg canvas into a ``data:image/png;base64,...`` URI."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    # A tight box grows the image to fit long tick labels instead of squeezing the axes.
    fig.savefig(buf, format="png", dpi=_DPI, bbox_inches="tight", pad_inches=0.05)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _label(name: str) -> str:
    """Make a class name safe and short for matplotlib text.

    ``$`` would switch matplotlib to mathtext (and an unbalanced one raises), so it is escaped;
    long names are cut so that tick labels do not dwarf the plot.
    """
    if len(name) > _MAX_LABEL:
        name = name[: _MAX_LABEL - 1] + "…"
    return name.replace("$", r"\$")


def _colors(k: int) -> list[tuple[float, float, float, float]]:
    """One distinct colour per class: tab10 up to ten classes, tab20 beyond."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if k <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(k)]


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
    fig, ax = _new_axes()
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
    ax.set_xticks(range(n_cols), [_label(c) for c in columns], fontsize=7)
    ax.set_yticks(range(n_rows), [_label(c) for c in head.classes], fontsize=7)
    if n_cols > 4 or max((len(c) for c in columns), default=0) > 8:
        ax.tick_params(axis="x", labelrotation=45)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("true", fontsize=8)
    ax.set_title(f"Confusion matrix: {_label(head.name)}", fontsize=9)
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
    colors = _colors(len(head.classes))
    fig, ax = _new_axes()
    labelled = False
    for k, name in enumerate(head.classes):
        positives = y_true == k
        if not positives.any():
            # No positives: recall is undefined. Say so in the legend rather than draw a lie.
            ax.plot([], [], color=colors[k], label=f"{_label(name)} (no positives)")
            labelled = True
            continue
        precision, recall, thresholds = _pr_curve(proba[:, k], positives)
        average_precision = float(-np.sum(np.diff(recall) * precision[:-1]))
        ax.plot(
            recall,
            precision,
            drawstyle="steps-post",
            color=colors[k],
            linewidth=1.3,
            label=f"{_label(name)} (AP {average_precision:.2f})",
        )
        labelled = True
        if name == head.target_class and _marks_threshold(head):
            idx = int(np.searchsorted(thresholds, head.target_threshold, side="left"))
            p, r = float(precision[idx]), float(recall[idx])
            ax.plot([r], [p], "o", color=colors[k], markeredgecolor="black", markersize=7, zorder=5)
            left = r > 0.55
            ax.annotate(
                f"{_label(name)} @ {head.target_threshold:.2f}\nP {p:.2f}, R {r:.2f}",
                xy=(r, p),
                xytext=(-10 if left else 10, -24),
                textcoords="offset points",
                ha="right" if left else "left",
                fontsize=7,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": colors[k], "alpha": 0.9},
            )
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("recall", fontsize=8)
    ax.set_ylabel("precision", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(f"Precision-recall: {_label(head.name)}", fontsize=9)
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
    fig, ax = _new_axes()
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
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel("top-class confidence", fontsize=8)
    ax.set_ylabel("accuracy / share of tickets", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(f"Reliability: {_label(head.name)} (n={n})", fontsize=9)
    ax.legend(fontsize=6, loc="upper left")
    return fig


# --------------------------------------------------------------------------------------------
# HTML


def _esc(value: object) -> str:
    """Escape anything for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def _mapping(value: object) -> Mapping[str, Any]:
    """Treat a missing or malformed section of ``metrics`` as empty rather than crash."""
    return value if isinstance(value, Mapping) else {}


def _fmt(value: object, digits: int = 3) -> str:
    """Format a metric for a table cell, already escaped; missing values read ``n/a``."""
    if value is None or isinstance(value, bool):
        return "n/a" if value is None else ("yes" if value else "no")
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return "n/a" if not math.isfinite(value) else f"{float(value):.{digits}f}"
    return _esc(value)


def _num(value: object) -> float | None:
    """Return a finite number as float, anything else as None."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _size(n_bytes: object) -> str:
    """Human-readable byte count, for the model line."""
    number = _num(n_bytes)
    if number is None:
        return "size n/a"
    for unit in ("B", "KB", "MB", "GB"):
        if number < 1024 or unit == "GB":
            return f"{number:.0f} {unit}" if unit == "B" else f"{number:.1f} {unit}"
        number /= 1024
    return "size n/a"  # pragma: no cover - the loop always returns


def _model_line(model: Mapping[str, Any]) -> str:
    """The line under the title that says which model this is."""
    version = model.get("version")
    parts = [f"Model <code>{_esc(version) if version is not None else 'unknown'}</code>"]
    parts.append(_size(model.get("size_bytes")))
    if model.get("n_features") is not None:
        parts.append(f"{_fmt(model.get('n_features'))} hashed features")
    return f'<p class="meta">{" · ".join(parts)}</p>'


def _data_line(data: object) -> str:
    """The line that says which data the numbers were measured on."""
    if not isinstance(data, Mapping):
        return '<p class="meta">Data: not recorded.</p>'
    parts = [f"Data <code>{_esc(data.get('path', 'unknown'))}</code>"]
    if data.get("n_rows") is not None:
        parts.append(f"{_fmt(data.get('n_rows'))} rows")
    sha = data.get("sha256")
    if sha:
        sha = str(sha)
        parts.append(f'sha256 <code title="{_esc(sha)}">{_esc(sha[:12])}…</code>')
    return f'<p class="meta">{" · ".join(parts)}</p>'


def _target_verdict(target: object) -> tuple[str, str]:
    """The target result in plain words, and its CSS class (``ok``, ``warn`` or ``none``).

    Says ``>=`` or ``<`` from the actual numbers rather than trusting ``reachable`` alone, so the
    sentence can never claim a target was met when the measured precision says otherwise.
    """
    if not isinstance(target, Mapping):
        return "No precision target for this head.", "none"
    name = target.get("class")
    min_precision = _fmt(_num(target.get("min_precision")), 2)
    if target.get("reachable") is False:
        return (
            f"{name}: target precision {min_precision} NOT reachable on held-out data; "
            f"best precision {_fmt(_num(target.get('best_precision')), 2)}",
            "warn",
        )
    precision = _num(target.get("precision"))
    wanted = _num(target.get("min_precision"))
    met = precision is not None and wanted is not None and precision >= wanted
    sentence = (
        f"{name}: precision {_fmt(precision, 2)} {'>=' if met else '<'} {min_precision} "
        f"at threshold {_fmt(_num(target.get('threshold')), 2)}, "
        f"recall {_fmt(_num(target.get('recall')), 2)}"
    )
    return sentence, "ok" if met else "warn"


def _head_section(
    index: int,
    name: str,
    metrics: Mapping[str, Any],
    figures: Sequence[tuple[str, str, str]] | None,
) -> str:
    """One head: summary, target verdict, per-class table and figures."""
    out = [f'<section id="head-{index}">', f"<h2>Head: {_esc(name)}</h2>"]
    if not metrics:
        out.append('<p class="verdict none">No metrics recorded for this head.</p>')
    else:
        summary = [
            ("n", metrics.get("n")),
            ("accuracy", metrics.get("accuracy")),
            ("macro-F1", metrics.get("macro_f1")),
            ("coverage", metrics.get("coverage")),
            ("ECE", metrics.get("ece")),
        ]
        out.append("<table><tr>" + "".join(f"<th>{label}</th>" for label, _ in summary) + "</tr>")
        out.append(
            "<tr>"
            + "".join(f'<td class="num">{_fmt(value)}</td>' for _, value in summary)
            + "</tr>"
        )
        out.append("</table>")
        sentence, kind = _target_verdict(metrics.get("target"))
        out.append(f'<p class="verdict {kind}">{_esc(sentence)}</p>')
        out.append(_per_class_table(metrics))
    if figures is None:
        out.append("<p>No held-out predictions were passed for this head, so no figures.</p>")
    else:
        out.append('<div class="figures">')
        for uri, alt, caption in figures:
            out.append(
                f'<figure><img src="{uri}" alt="{_esc(alt)}">'
                f"<figcaption>{_esc(caption)}</figcaption></figure>"
            )
        out.append("</div>")
    out.append("</section>")
    return "\n".join(out)


def _per_class_table(metrics: Mapping[str, Any]) -> str:
    """Precision, recall, F1 and support per class; the target class row is highlighted."""
    per_class = _mapping(metrics.get("per_class"))
    classes = metrics.get("classes")
    order = [str(c) for c in classes] if isinstance(classes, list) else []
    order += [str(c) for c in per_class if str(c) not in order]
    if not order:
        return ""
    target = _mapping(metrics.get("target")).get("class")
    rows = [
        "<h3>Per class</h3>",
        "<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>"
        "<th>support</th></tr>",
    ]
    for name in order:
        scores = _mapping(per_class.get(name))
        marker = ' class="target"' if target is not None and name == str(target) else ""
        cells = "".join(
            f'<td class="num">{_fmt(scores.get(key))}</td>'
            for key in ("precision", "recall", "f1", "support")
        )
        rows.append(f"<tr{marker}><td>{_esc(name)}</td>{cells}</tr>")
    rows.append("</table>")
    return "\n".join(rows)
