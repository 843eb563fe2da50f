"""Figures of the monitoring report, drawn from the report's JSON alone.

Drawing from the JSON (not from the raw rows) means the dashboard, the saved ``report.html`` and
a report read back from ``report.json`` show the same pictures. The drawing helpers are
those every report shares (:mod:`ticket_triage.render.figures`): matplotlib is imported only
inside them, figures are Agg-rendered :class:`~matplotlib.figure.Figure` objects (no pyplot state,
safe in a server), embedded as base64 PNG data URIs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ticket_triage.render.figures import Figures, colors, drawn, finish_reliability, label, new_axes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["head_figures", "traffic_figures"]

#: Queues beyond this many (the smallest) are drawn together as "(other queues)".
_MAX_QUEUES = 9


def traffic_figures(traffic: Mapping[str, Any], unit: str) -> Figures:
    """Queue shares and review rate per bucket, as ``(data URI, alt text, caption)``."""
    buckets = traffic["buckets"]
    if not any(bucket["n"] for bucket in buckets):
        return []
    return drawn(
        [
            (
                lambda: _queue_figure(buckets, unit),
                "Share of tickets per queue over time",
                f"Share of the {unit}'s tickets routed to each queue (all predictions, not only "
                "those with feedback).",
            ),
            (
                lambda: _review_figure(buckets, traffic["previous_review_rate"], unit),
                "Review rate over time",
                f"Share of the {unit}'s tickets sent to human review; dashed: the previous "
                "window's rate.",
            ),
        ]
    )


def head_figures(name: str, head: Mapping[str, Any]) -> Figures:
    """One head's class mix, weekly scores on feedback and reliability diagram (each only when
    there is something to draw: one weekly point is no trend)."""
    feedback = head["feedback"]
    weeks = sum(1 for week in feedback["weekly"] if week["n"])
    target = ", and the target class's precision against its target (dashed)."
    plans: list[tuple[bool, Callable[[], Figure], str, str]] = [
        (
            bool(head["n_predictions"]),
            lambda: _mix_figure(name, head["mix"]),
            f"Predicted class mix of {name}",
            "Share of predictions per class: this window, the previous window, and the "
            "training hold-out (predicted, after thresholds).",
        ),
        (
            weeks >= 2,
            lambda: _weekly_figure(name, feedback["weekly"], head["target"]),
            f"Weekly scores of {name} on feedback",
            "Per ISO week, on tickets the agents labelled: accuracy"
            + (target if head["target"] else "."),
        ),
        (
            bool(feedback["calibration"]),
            lambda: _reliability_figure(name, feedback["calibration"]),
            f"Reliability diagram of {name} on feedback",
            "Top-class confidence in 10 bins against how often the agents agreed; grey bars: "
            "share of tickets per bin.",
        ),
    ]
    return drawn([(draw, alt, caption) for wanted, draw, alt, caption in plans if wanted])


def _ticks(ax: Any, keys: Sequence[str]) -> None:
    """Bucket labels on the x axis, thinned so they stay readable."""
    step = max(1, len(keys) // 8)
    positions = list(range(0, len(keys), step))
    ax.set_xticks(positions, [keys[i] for i in positions], fontsize=6, rotation=45, ha="right")


def _queue_figure(buckets: Sequence[Mapping[str, Any]], unit: str) -> Figure:
    """Stacked bars: each bucket's share per queue (the smallest queues merged)."""
    totals: dict[str, float] = {}
    for bucket in buckets:
        for queue, share in bucket["queues"].items():
            totals[queue] = totals.get(queue, 0.0) + share * bucket["n"]
    ranked = sorted(totals, key=totals.__getitem__, reverse=True)
    shown, merged = ranked[:_MAX_QUEUES], ranked[_MAX_QUEUES:]
    series = {q: [b["queues"].get(q, 0.0) for b in buckets] for q in shown}
    if merged:
        series["(other queues)"] = [sum(b["queues"].get(q, 0.0) for q in merged) for b in buckets]
    fig, ax = new_axes()
    x = np.arange(len(buckets))
    bottom = np.zeros(len(buckets))
    for color, (queue, shares) in zip(colors(len(series)), series.items(), strict=True):
        ax.bar(x, shares, bottom=bottom, color=color, width=0.8, label=label(queue))
        bottom += np.asarray(shares)
    _ticks(ax, [b["bucket"] for b in buckets])
    ax.set_ylim(0, 1.0)
    ax.set_ylabel("share of tickets", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(f"Queues per {unit}", fontsize=9)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def _review_figure(
    buckets: Sequence[Mapping[str, Any]], previous: float | None, unit: str
) -> Figure:
    """The review rate per bucket (gaps where a bucket had no tickets)."""
    fig, ax = new_axes()
    rates = [np.nan if b["review_rate"] is None else b["review_rate"] for b in buckets]
    ax.plot(range(len(buckets)), rates, marker="o", markersize=3, color="#2680c2", label="window")
    if previous is not None:
        ax.axhline(previous, linestyle="--", color="#9aa5b1", linewidth=1, label="previous window")
    _ticks(ax, [b["bucket"] for b in buckets])
    top = max([r for r in rates if not np.isnan(r)] + [previous or 0.0])
    ax.set_ylim(0, min(1.0, top * 1.2 + 0.05))
    ax.set_ylabel("review rate", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(f"Review rate per {unit}", fontsize=9)
    ax.legend(fontsize=6, loc="upper left")
    return fig


def _mix_figure(name: str, mix: Mapping[str, Mapping[str, Any]]) -> Figure:
    """Grouped bars per class: window, previous window, training."""
    labels = list(mix)
    series = [
        ("this window", "share", "#2680c2"),
        ("previous window", "previous_share", "#9aa5b1"),
        ("training", "training_share", "#f0b429"),
    ]
    series = [s for s in series if any(mix[c][s[1]] is not None for c in labels)]
    fig, ax = new_axes()
    width = 0.8 / len(series)
    x = np.arange(len(labels))
    for i, (legend, key, color) in enumerate(series):
        values = [mix[c][key] or 0.0 for c in labels]
        ax.bar(x + (i - (len(series) - 1) / 2) * width, values, width, color=color, label=legend)
    ax.set_xticks(x, [label(c) for c in labels], fontsize=7)
    if len(labels) > 4:
        ax.tick_params(axis="x", labelrotation=45)
    ax.set_ylabel("share of predictions", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(alpha=0.3, axis="y")
    ax.set_title(f"Predicted class mix: {label(name)}", fontsize=9)
    ax.legend(fontsize=6)
    return fig


def _weekly_figure(
    name: str, weekly: Sequence[Mapping[str, Any]], target: Mapping[str, Any] | None
) -> Figure:
    """Accuracy per week, and the target class's precision against its target."""
    fig, ax = new_axes()
    x = range(len(weekly))
    accuracy = [np.nan if w["accuracy"] is None else w["accuracy"] for w in weekly]
    ax.plot(x, accuracy, marker="o", markersize=3, color="#2680c2", label="accuracy")
    if target is not None:
        target_class = target["class"]
        precision = [w["per_class"][target_class]["precision"] for w in weekly]
        ax.plot(
            x,
            [np.nan if p is None else p for p in precision],
            marker="s",
            markersize=3,
            color="#cb6e17",
            label=f"{label(target_class)} precision",
        )
        ax.axhline(target["min_precision"], linestyle="--", color="#cb6e17", linewidth=1)
    _ticks(ax, [w["week"] for w in weekly])
    ax.set_ylim(0, 1.05)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(f"On feedback per week: {label(name)}", fontsize=9)
    ax.legend(fontsize=6, loc="lower left")
    return fig


def _reliability_figure(name: str, calibration: Mapping[str, Any]) -> Figure:
    """Mean confidence against agreement per bin, over bars of the share per bin."""
    bins = calibration["bins"]
    n = calibration["n"]
    centers = [(b["low"] + b["high"]) / 2 for b in bins]
    fig, ax = new_axes()
    ax.bar(centers, [b["count"] / n for b in bins], width=0.1, color="#d9e2ec", edgecolor="white")
    ax.plot([0, 1], [0, 1], linestyle="--", color="#9aa5b1", linewidth=1, label="calibrated")
    filled = [b for b in bins if b["count"]]
    ax.plot(
        [b["mean_confidence"] for b in filled],
        [b["accuracy"] for b in filled],
        marker="o",
        markersize=4,
        color="#2680c2",
        label="agreement with agents",
    )
    finish_reliability(ax, f"Reliability: {label(name)} (n={n}, ECE {calibration['ece']:.3f})")
    return fig
