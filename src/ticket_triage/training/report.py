"""Render a model evaluation as one self-contained ``report.html``.

``triage train`` and ``triage evaluate`` write ``metrics.json`` for machines; this module writes the
page a person reads before trusting a model: per head the headline numbers, whether the precision
target was met (said in plain words, and loudly when it was not), per-class scores, a confusion
matrix, one-vs-rest precision-recall curves with the tuned threshold marked, and a reliability
diagram that shows whether the calibrated probabilities mean what they say.

Why it looks the way it does:

* The page must stand alone (attached to a ticket, opened from an S3 bucket, diffed in review), so
  figures are PNGs embedded as base64 ``data:`` URIs and the CSS is inline. No scripts.
* Only numpy and matplotlib are used. The figures are drawn in
  :mod:`ticket_triage.training.report_figures`, which imports matplotlib only inside its drawing
  functions, so importing this module (for example by the CLI, to show ``--help``) stays cheap.
* Every string that comes from data (class names, paths, versions) is HTML-escaped
  (:mod:`ticket_triage.render.html`): class names are user-defined labels and the report must
  never execute them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ticket_triage.render.html import CSS, esc, figures_html, fmt, page
from ticket_triage.training.head_eval import HeadEval
from ticket_triage.training.report_figures import head_figures

__all__ = ["write_report"]


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
        figures = head_figures(head)
        sections.append(_head_section(i, head.name, _mapping(head_metrics.get(head.name)), figures))
    extra = [name for name in head_metrics if name not in drawn]
    for j, name in enumerate(extra, start=len(heads)):
        sections.append(_head_section(j, str(name), _mapping(head_metrics.get(name)), None))

    names = [head.name for head in heads] + [str(name) for name in extra]
    nav = " ".join(f'<a href="#head-{i}">{esc(name)}</a>' for i, name in enumerate(names))
    html = page(
        title,
        CSS,
        [
            _model_line(model),
            _data_line(metrics.get("data")),
            f"<nav>{nav}</nav>" if nav else "",
            *sections,
        ],
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")


# --------------------------------------------------------------------------------------------
# HTML


def _mapping(value: object) -> Mapping[str, Any]:
    """Treat a missing or malformed section of ``metrics`` as empty rather than crash."""
    return value if isinstance(value, Mapping) else {}


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
    parts = [f"Model <code>{esc(version) if version is not None else 'unknown'}</code>"]
    parts.append(_size(model.get("size_bytes")))
    if model.get("n_features") is not None:
        parts.append(f"{fmt(model.get('n_features'))} hashed features")
    return f'<p class="meta">{" · ".join(parts)}</p>'


def _data_line(data: object) -> str:
    """The line that says which data the numbers were measured on."""
    if not isinstance(data, Mapping):
        return '<p class="meta">Data: not recorded.</p>'
    parts = [f"Data <code>{esc(data.get('path', 'unknown'))}</code>"]
    if data.get("n_rows") is not None:
        parts.append(f"{fmt(data.get('n_rows'))} rows")
    sha = data.get("sha256")
    if sha:
        sha = str(sha)
        parts.append(f'sha256 <code title="{esc(sha)}">{esc(sha[:12])}…</code>')
    return f'<p class="meta">{" · ".join(parts)}</p>'


def _target_verdict(target: object) -> tuple[str, str]:
    """The target result in plain words, and its CSS class (``ok``, ``warn`` or ``none``).

    Says ``>=`` or ``<`` from the actual numbers rather than trusting ``reachable`` alone, so the
    sentence can never claim a target was met when the measured precision says otherwise.
    """
    if not isinstance(target, Mapping):
        return "No precision target for this head.", "none"
    name = target.get("class")
    min_precision = fmt(_num(target.get("min_precision")), 2)
    if target.get("reachable") is False:
        return (
            f"{name}: target precision {min_precision} NOT reachable on the tuning folds; "
            f"best precision {fmt(_num(target.get('best_precision')), 2)}. Fallback threshold "
            f"{fmt(_num(target.get('threshold')), 2)}: precision "
            f"{fmt(_num(target.get('precision')), 2)}, recall "
            f"{fmt(_num(target.get('recall')), 2)} here",
            "warn",
        )
    precision = _num(target.get("precision"))
    wanted = _num(target.get("min_precision"))
    met = precision is not None and wanted is not None and precision >= wanted
    sentence = (
        f"{name}: precision {fmt(precision, 2)} {'>=' if met else '<'} {min_precision} "
        f"at threshold {fmt(_num(target.get('threshold')), 2)}, "
        f"recall {fmt(_num(target.get('recall')), 2)}"
    )
    return sentence, "ok" if met else "warn"


def _head_section(
    index: int,
    name: str,
    metrics: Mapping[str, Any],
    figures: Sequence[tuple[str, str, str]] | None,
) -> str:
    """One head: summary, target verdict, per-class table and figures."""
    out = [f'<section id="head-{index}">', f"<h2>Head: {esc(name)}</h2>"]
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
            "<tr>" + "".join(f'<td class="num">{fmt(value)}</td>' for _, value in summary) + "</tr>"
        )
        out.append("</table>")
        sentence, kind = _target_verdict(metrics.get("target"))
        out.append(f'<p class="verdict {kind}">{esc(sentence)}</p>')
        out.append(_per_class_table(metrics))
    if figures is None:
        out.append("<p>No held-out predictions were passed for this head, so no figures.</p>")
    else:
        out.append(figures_html(figures))
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
            f'<td class="num">{fmt(scores.get(key))}</td>'
            for key in ("precision", "recall", "f1", "support")
        )
        rows.append(f"<tr{marker}><td>{esc(name)}</td>{cells}</tr>")
    rows.append("</table>")
    return "\n".join(rows)
