"""The monitoring report as HTML: :func:`report_html` (the fragment the dashboard embeds) and
:func:`write_report` (``report.json`` + a self-contained ``report.html``).

The other modules of :mod:`ticket_triage.production.monitoring` compute the numbers; this one only
presents them. Every string from the data is escaped (:mod:`ticket_triage.render.html`); plots
come from :mod:`~ticket_triage.production.monitoring.figures` (matplotlib, imported only when
figures are asked for).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ticket_triage.production.monitoring.drift import PSI_ALERT
from ticket_triage.production.monitoring.quality import FEEDBACK_LABEL
from ticket_triage.render.html import CSS as _PAGE_CSS
from ticket_triage.render.html import esc, figures_html, fmt, page, pct

__all__ = ["CSS", "compare_html", "report_html", "write_report"]

#: The report's styles: the evaluation report's, plus the alert and table tweaks used here. The
#: dashboard page includes this once around :func:`report_html`'s fragment.
CSS = (
    _PAGE_CSS
    + """
.alerts .verdict { margin: 0.35em 0; }
.summary li { margin: 0.15em 0; }
td.absent { color: #9aa5b1; }
"""
)


def report_html(report: Mapping[str, Any], *, figures: bool = True) -> str:
    """The report as an HTML fragment (the content of ``<body>``), styled by :data:`CSS`.

    Summary first, then the alerts, then the details; every string from the data is escaped.
    The dashboard of the HTTP API embeds this; :func:`write_report` wraps it in a page.

    Parameters
    ----------
    report : dict
        What :func:`build_report` returned (or its JSON, read back).
    figures : bool, default=True
        Draw the plots as base64 PNGs (needs matplotlib, which the Lambda package lacks: pass
        False there; the tables hold every number).
    """
    model = report.get("model", {})
    out = [
        '<section class="monitor">',
        f'<p class="meta">Model <code>{esc(model.get("version"))}</code> · '
        f"{fmt(report.get('n_predictions'))} predictions · "
        f"{fmt(report.get('n_feedback'))} with feedback</p>",
        "<h2>Summary</h2>",
        '<ul class="summary">',
        *(f"<li>{esc(line)}</li>" for line in report.get("summary", [])),
        "</ul>",
        _alerts_html(report.get("alerts", [])),
    ]
    if report.get("notes"):
        out += ["<h2>Notes</h2>", "<ul>", *(f"<li>{esc(n)}</li>" for n in report["notes"])]
        out.append("</ul>")
    if report.get("n_predictions"):
        out.append(_traffic_html(report, figures))
        for name, head in report.get("heads", {}).items():
            out.append(_head_html(name, head, report["rules"]["min_support"], figures))
    out.append("</section>")
    return "\n".join(out)


def write_report(report: Mapping[str, Any], out_dir: str | Path, *, figures: bool = True) -> Path:
    """Write ``report.json`` and a self-contained ``report.html`` into ``out_dir``.

    Parameters
    ----------
    report : dict
        What :func:`build_report` returned.
    out_dir : str or Path
        Created if missing; both files are replaced.
    figures : bool, default=True
        Embed the plots (needs matplotlib); the tables hold every number either way.

    Returns
    -------
    Path
        The ``report.html`` written, the file a person opens.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    window = report.get("window", {})
    since, until = (str(window.get(k, "?"))[:16].replace("T", " ") for k in ("since", "until"))
    title = f"ticket-triage monitoring: {since} to {until} UTC"
    html = page(title, CSS, [report_html(report, figures=figures)])
    path = out / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# HTML


def _alerts_html(alerts: Sequence[Mapping[str, Any]]) -> str:
    out = ['<section class="alerts">', "<h2>Alerts</h2>"]
    if not alerts:
        out.append('<p class="verdict ok">No alerts.</p>')
    for alert in alerts:
        out.append(
            f'<p class="verdict warn" data-kind="{esc(alert.get("kind"))}">'
            f"{esc(alert.get('message'))}</p>"
        )
    out.append("</section>")
    return "\n".join(out)


def _traffic_html(report: Mapping[str, Any], figures: bool) -> str:
    traffic, drift = report["traffic"], report["input_drift"]
    out = ["<section>", "<h2>Traffic</h2>"]
    out.append(
        f"<p>Review rate {pct(traffic['review_rate'])} "
        f"(previous window {pct(traffic['previous_review_rate'])}). Mean share of a ticket's "
        f"features never seen in training: {pct(drift['unseen_share'])} (previous window "
        f"{pct(drift['previous_unseen_share'])}).</p>"
    )
    out.append("<table><tr><th>queue</th><th>share</th><th>previous window</th></tr>")
    now, before = traffic["queues"], traffic["previous_queues"]
    for queue in dict.fromkeys([*now, *before]):
        # 0 % where the window had tickets but none for this queue; n/a where it had none
        share = now.get(queue, 0.0)
        previous = before.get(queue, 0.0 if before else None)
        out.append(
            f"<tr><td>{esc(queue)}</td><td class='num'>{pct(share)}</td>"
            f"<td class='num'>{pct(previous)}</td></tr>"
        )
    out.append("</table>")
    unit = report["window"]["bucket"]
    out.append(f"<h3>Per {unit}</h3>")
    out.append(f"<table><tr><th>{unit}</th><th>predictions</th><th>review rate</th></tr>")
    for bucket in traffic["buckets"]:
        out.append(
            f"<tr><td>{esc(bucket['bucket'])}</td><td class='num'>{fmt(bucket['n'])}</td>"
            f"<td class='num'>{pct(bucket['review_rate'])}</td></tr>"
        )
    out.append("</table>")
    if figures:
        from ticket_triage.production.monitoring.figures import traffic_figures

        out.append(figures_html(traffic_figures(traffic, unit)))
    out.append("</section>")
    return "\n".join(out)


def _head_html(name: str, head: Mapping[str, Any], min_support: int, figures: bool) -> str:
    out = ["<section>", f"<h2>Head: {esc(name)}</h2>"]
    drift = head["psi"]
    out.append(
        f"<p>PSI of the predicted class mix: {fmt(drift['vs_training'])} against training, "
        f"{fmt(drift['vs_previous'])} against the previous window (alert above {PSI_ALERT}).</p>"
    )
    out.append(
        "<table><tr><th>class</th><th>predicted</th><th>share</th><th>previous window</th>"
        "<th>training (predicted)</th><th>training (true labels)</th></tr>"
    )
    for label, entry in head["mix"].items():
        absent = ' class="absent"' if not entry["count"] else ""
        out.append(
            f"<tr{absent}><td>{esc(label)}</td><td class='num'>{fmt(entry['count'])}</td>"
            + "".join(
                f"<td class='num'>{pct(entry[key])}</td>"
                for key in ("share", "previous_share", "training_share", "label_prior")
            )
            + "</tr>"
        )
    out.append("</table>")
    feedback = head["feedback"]
    out.append(f"<h3>On agent feedback ({fmt(feedback['n'])} tickets): {esc(FEEDBACK_LABEL)}</h3>")
    if not feedback["n"]:
        out.append(f'<p class="verdict none">No feedback with a {esc(name)} label yet.</p>')
    else:
        out.append(_target_html(head["target"], min_support))
        out.append(
            f"<p>Accuracy {fmt(feedback['accuracy'])}, macro-F1 {fmt(feedback['macro_f1'])}, "
            f"ECE {fmt((feedback['calibration'] or {}).get('ece'))}.</p>"
        )
        out.append(_scores_table(feedback["per_class"], head["target"]))
        out.append(_weekly_table(feedback["weekly"], head["target"]))
        out.append(_confusion_html(feedback["confusion"]))
    out.append(_audit_html(head.get("audit"), feedback["per_class"]))
    if figures:
        from ticket_triage.production.monitoring.figures import head_figures

        out.append(figures_html(head_figures(name, head)))
    out.append("</section>")
    return "\n".join(out)


def _target_html(target: Mapping[str, Any] | None, min_support: int) -> str:
    """The target verdict: green or orange only when there is enough feedback to judge."""
    if target is None:
        return '<p class="verdict none">No precision target for this head.</p>'
    label = esc(repr(target["class"]))
    if not target["n_predicted"]:
        return f'<p class="verdict none">No feedback on tickets predicted {label} yet.</p>'
    met = target["precision"] >= target["min_precision"]
    kind = ("ok" if met else "warn") if target["n_predicted"] >= min_support else "none"
    caveat = "" if kind != "none" else f"; too few to judge (fewer than {min_support})"
    return (
        f'<p class="verdict {kind}">{label}: precision {fmt(target["precision"], 2)} '
        f"{'&gt;=' if met else '&lt;'} target {fmt(target['min_precision'], 2)} on "
        f"{fmt(target['n_predicted'])} tickets predicted {label} (lower bound "
        f"{fmt(target['precision_lower'], 2)}), recall {fmt(target['recall'], 2)}, threshold "
        f"{fmt(target['threshold'], 3)}{caveat}</p>"
    )


def _scores_table(per_class: Mapping[str, Any], target: Mapping[str, Any] | None) -> str:
    out = [
        "<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>"
        "<th>support</th><th>predicted</th></tr>"
    ]
    for label, scores in per_class.items():
        marker = ' class="target"' if target and label == target["class"] else ""
        cells = "".join(
            f"<td class='num'>{fmt(scores[key])}</td>"
            for key in ("precision", "recall", "f1", "support", "n_predicted")
        )
        out.append(f"<tr{marker}><td>{esc(label)}</td>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


def _weekly_table(weekly: Sequence[Mapping[str, Any]], target: Mapping[str, Any] | None) -> str:
    label = target["class"] if target else None
    head = "<th>week</th><th>feedback</th><th>accuracy</th><th>macro-F1</th>"
    if label is not None:
        head += f"<th>{esc(label)} precision</th><th>{esc(label)} recall</th>"
    out = ["<h3>Per ISO week</h3>", f"<table><tr>{head}</tr>"]
    for week in weekly:
        cells = [week["week"], fmt(week["n"]), fmt(week["accuracy"]), fmt(week["macro_f1"])]
        if label is not None:
            scores = week["per_class"][label]
            cells += [fmt(scores["precision"]), fmt(scores["recall"])]
        out.append(
            f"<tr><td>{esc(cells[0])}</td>"
            + "".join(f"<td class='num'>{c}</td>" for c in cells[1:])
            + "</tr>"
        )
    out.append("</table>")
    return "\n".join(out)


def _audit_html(audit: Mapping[str, Any] | None, feedback: Mapping[str, Any]) -> str:
    """Audit-weighted precision and recall with their intervals, the feedback-only figures
    beside them (a report from before the audit sample has no ``audit``: nothing shown)."""
    if audit is None:
        return ""
    out = [
        f"<h3>{esc(audit['label'])}</h3>",
        f"<p>{fmt(audit['n_labelled'])} labelled tickets of the designed sample "
        f"({fmt(audit['n_sample'])} reviewed or audited, {fmt(audit['n_audited'])} labelled by "
        f"an audit), weighted by the inverse of their inclusion probability. Interval: "
        f"{esc(audit['interval'])}.</p>",
    ]
    if not audit["n_audited"]:
        out.append(
            '<p class="verdict none">No labelled audit tickets: the automatic decisions are '
            "not measured (set TRIAGE_AUDIT_SHARE).</p>"
        )
        return "\n".join(out)
    out.append(
        "<table><tr><th>class</th><th>precision (weighted)</th><th>95% interval</th>"
        "<th>precision (feedback only)</th><th>recall (weighted)</th><th>95% interval</th>"
        "<th>recall (feedback only)</th></tr>"
    )
    for label, scores in audit["per_class"].items():
        cells = []
        for metric in ("precision", "recall"):
            value = scores[metric]
            cells += [
                fmt(value["estimate"]),
                f"{fmt(value['low'])} to {fmt(value['high'])}",
                fmt(feedback.get(label, {}).get(metric)),
            ]
        out.append(
            f"<tr><td>{esc(label)}</td>"
            + "".join(f"<td class='num'>{c}</td>" for c in cells)
            + "</tr>"
        )
    out.append("</table>")
    return "\n".join(out)


def _confusion_html(confusion: Mapping[str, Any]) -> str:
    labels = confusion["labels"]
    out = [
        "<h3>Agent's label (rows) against the prediction (columns)</h3>",
        "<table><tr><th></th>" + "".join(f"<th>{esc(c)}</th>" for c in labels) + "</tr>",
    ]
    for label, counts in zip(labels, confusion["counts"], strict=True):
        out.append(
            f"<tr><th>{esc(label)}</th>"
            + "".join(f"<td class='num'>{fmt(n)}</td>" for n in counts)
            + "</tr>"
        )
    out.append("</table>")
    return "\n".join(out)


def compare_html(report: Mapping[str, Any]) -> str:
    """A comparison of :func:`~ticket_triage.production.monitoring.compare.compare` as an HTML
    fragment: the verdict first, then traffic and the per-class differences."""
    live, candidate = report["live"], report["candidate"]
    kind = {"promote": "ok", "keep_live": "warn"}.get(report["verdict"], "none")
    out = [
        '<section class="compare">',
        f"<p class='meta'>{fmt(report['n_pairs'])} tickets decided by both "
        f"<code>{esc(live)}</code> (live) and <code>{esc(candidate)}</code> (candidate); "
        f"{fmt(report['n_feedback'])} with feedback, {fmt(report['n_audited'])} from the audit "
        "sample.</p>",
        f'<p class="verdict {kind}">{esc(report["verdict"])}: {esc(report["recommendation"])}</p>',
    ]
    if report["n_pairs"]:
        models = report["models"]
        out.append(f"<table><tr><th></th><th>{esc(live)}</th><th>{esc(candidate)}</th></tr>")
        rows = [("review rate", [pct(models[v]["review_rate"]) for v in (live, candidate)])]
        rows += [
            (f"latency {key} ms", [fmt(models[v]["latency_ms"][key]) for v in (live, candidate)])
            for key in ("mean", "p50", "p99")
        ]
        queues = sorted({q for v in (live, candidate) for q in models[v]["queues"]})
        rows += [
            (f"queue {q}", [pct(models[v]["queues"].get(q, 0.0)) for v in (live, candidate)])
            for q in queues
        ]
        rows += [(f"agreement: {k}", [pct(v), ""]) for k, v in report["agreement"].items()]
        for name, cells in rows:
            out.append(
                f"<tr><td>{esc(name)}</td>"
                + "".join(f"<td class='num'>{c}</td>" for c in cells)
                + "</tr>"
            )
        out.append("</table>")
    basis = report["basis"]
    for head, bases in report.get("differences", {}).items():
        out.append(f"<h3>{esc(head)}: candidate minus live, {esc(report['labels'][basis])}</h3>")
        out.append(
            "<table><tr><th>class</th><th>metric</th><th>difference</th>"
            "<th>paired bootstrap 95% interval</th></tr>"
        )
        for label, metrics in bases[basis].get("per_class", {}).items():
            for metric, value in metrics.items():
                interval = f"{fmt(value['low'])} to {fmt(value['high'])}"
                out.append(
                    f"<tr><td>{esc(label)}</td><td>{metric}</td>"
                    f"<td class='num'>{fmt(value['difference'])}</td>"
                    f"<td class='num'>{interval}</td></tr>"
                )
        out.append("</table>")
    out.append("</section>")
    return "\n".join(out)
