"""Render a model evaluation as one self-contained ``report.html``.

``triage train`` and ``triage evaluate`` write ``metrics.json`` for machines; this module writes the
page a person reads before trusting a model: per head the headline numbers, whether the precision
target was met (said in plain words, and loudly when it was not), per-class scores, a confusion
matrix, one-vs-rest precision-recall curves with the tuned threshold marked, and a reliability
diagram that shows whether the calibrated probabilities mean what they say.

Why it looks the way it does:

* The page must stand alone (attached to a ticket, opened from an S3 bucket, diffed in review), so
  figures are PNGs embedded as base64 ``data:`` URIs and the CSS is inline. No scripts.
* Only numpy and matplotlib are used. The figures are drawn in the private module
  :mod:`ticket_triage.training.report_figures`, which imports matplotlib only inside its drawing
  functions, so importing this module (for example by the CLI, to show ``--help``) stays cheap.
  Figures are plain :class:`matplotlib.figure.Figure` objects drawn by the Agg canvas, never
  pyplot, so there is no global figure state and no GUI backend, and the function is safe to call
  from a server.
* Every string that comes from data (class names, paths, versions) is HTML-escaped: class names are
  user-defined labels and the report must never execute them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ticket_triage.training.report_figures import head_figures, pr_curve

__all__ = ["HeadEval", "html_page", "write_report"]

# The PR curve used to live here; keep it importable under its old name (the tests use it).
_pr_curve = pr_curve

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
        figures = head_figures(head)
        sections.append(_head_section(i, head.name, _mapping(head_metrics.get(head.name)), figures))
    extra = [name for name in head_metrics if name not in drawn]
    for j, name in enumerate(extra, start=len(heads)):
        sections.append(_head_section(j, str(name), _mapping(head_metrics.get(name)), None))

    names = [head.name for head in heads] + [str(name) for name in extra]
    nav = " ".join(f'<a href="#head-{i}">{_esc(name)}</a>' for i, name in enumerate(names))
    page = html_page(
        title,
        _CSS,
        [
            _model_line(model),
            _data_line(metrics.get("data")),
            f"<nav>{nav}</nav>" if nav else "",
            *sections,
        ],
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")


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
            f"{name}: target precision {min_precision} NOT reachable on the tuning folds; "
            f"best precision {_fmt(_num(target.get('best_precision')), 2)}. Fallback threshold "
            f"{_fmt(_num(target.get('threshold')), 2)}: precision "
            f"{_fmt(_num(target.get('precision')), 2)}, recall "
            f"{_fmt(_num(target.get('recall')), 2)} here",
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


def html_page(title: str, css: str, body: Sequence[str]) -> str:
    """A whole self-contained HTML page: the title as ``<title>`` and ``<h1>``, then ``body``."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_esc(title)}</title>",
            f"<style>{css}</style>",
            "</head>",
            "<body>",
            f"<h1>{_esc(title)}</h1>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )
