"""Side by side: a live and a candidate version on the same tickets (``triage compare``).

Pairs
    A shadow (or canary) row names, in ``served_id``, the decision that was returned for the
    same ticket. A pair is a row of one version and the row of the other it names: the live
    version answered and the candidate shadowed, or the candidate answered as canary and the
    live version shadowed. Feedback and the audit draw belong to the decision that was
    returned, so both versions are judged against the same agent's labels.

Figures per version, on the paired tickets
    Agreement (same label per head, same queue, same review verdict), the share routed to each
    queue, the review rate, latency (mean, p50, p99), and per head and class precision and
    recall: on feedback only (biased, see :mod:`~ticket_triage.production.monitoring.quality`)
    and audit-weighted where the pairs hold labelled audit tickets.

Evidence and the recommendation
    Per head, class and metric, the difference candidate minus live with a **paired bootstrap**
    percentile interval (the same resampled tickets for both versions, ``n_boot`` resamples,
    seeded): audit-weighted when at least ``min_audit`` labelled audit tickets are among the
    pairs, else on feedback only (and the evidence says which). Then:

    ========================  =========  ===============================================
    verdict                   exit code  when
    ========================  =========  ===============================================
    ``promote``               0          some interval is above 0, none below
    ``keep_live``             3          some interval is below 0 (worse somewhere)
    ``no_difference``         4          every interval contains 0
    ``insufficient``          5          fewer than ``min_feedback`` paired tickets have
                                         feedback (or none are paired at all)
    ========================  =========  ===============================================

    The intervals are per class, not adjusted for the number of classes compared: "worse
    anywhere" vetoes a promotion, which keeps the rule on the cautious side.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from ticket_triage.production.monitoring.quality import (
    AUDIT_LABEL,
    FEEDBACK_LABEL,
    designed,
    weighted_scores,
)
from ticket_triage.production.monitoring.scores import class_scores
from ticket_triage.production.monitoring.window import Row, rounded, share, utc, with_utc

if TYPE_CHECKING:
    from ticket_triage.production.store import Store

__all__ = ["COMPARE_SCHEMA", "EXIT_CODES", "compare", "paired_pairs"]

#: Bumped when a key of the comparison JSON changes meaning.
COMPARE_SCHEMA = 1

#: ``triage compare``'s exit status per verdict (1 and 2 stay the CLI's errors and usage).
EXIT_CODES = {"promote": 0, "keep_live": 3, "no_difference": 4, "insufficient": 5}

HEADS = ("urgency", "topic")
METRICS = ("precision", "recall")


def paired_pairs(rows: Sequence[Row], live: str, candidate: str) -> list[tuple[Row, Row, Row]]:
    """``(live row, candidate row, served row)`` per ticket both versions decided."""
    by_id = {row["id"]: row for row in rows}
    pairs: dict[str, tuple[Row, Row, Row]] = {}
    for row in rows:
        served = by_id.get(row.get("served_id"))
        if served is None or served is row:
            continue
        versions = (served["model_version"], row["model_version"])
        if versions == (live, candidate):
            pairs.setdefault(served["id"], (served, row, served))
        elif versions == (candidate, live):
            pairs.setdefault(served["id"], (row, served, served))
    return list(pairs.values())


def compare(
    store: Store,
    live: str,
    candidate: str,
    *,
    since: datetime,
    until: datetime | None = None,
    min_feedback: int = 50,
    min_audit: int = 30,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Compare two versions on the tickets both decided in ``[since, until)``.

    Parameters
    ----------
    store : Store
        The prediction log with live and shadow (or canary) rows, and feedback.
    live, candidate : str
        The two ``model_version`` values.
    min_feedback : int, default=50
        Fewest paired tickets with feedback before a recommendation is made.
    min_audit : int, default=30
        Fewest labelled audit tickets among the pairs before the evidence is audit-weighted.
    n_boot, confidence, seed
        The paired bootstrap: resamples, interval level, random seed (fixed: the same data
        give the same report).

    Returns
    -------
    dict
        JSON-ready: ``schema_version``, ``window``, ``live``, ``candidate``, ``n_pairs``,
        ``n_feedback``, ``n_audited``, ``agreement``, ``models`` (per version: queues,
        review rate, latency, per head ``feedback`` and ``audit`` scores), ``differences``
        (per head, class and metric, both bases), ``basis``, ``evidence``, ``verdict``,
        ``exit_code``, ``recommendation`` (plain words).

    Raises
    ------
    ValueError
        ``until`` is not after ``since``, the versions are the same, or a minimum is below 1.
    """
    start = utc(since)
    end = utc(until) if until is not None else datetime.now(UTC)
    if end <= start:
        raise ValueError(f"until ({end.isoformat()}) must be after since ({start.isoformat()})")
    if live == candidate:
        raise ValueError(f"--live and --candidate are both {live!r}")
    if min_feedback < 1 or min_audit < 1 or n_boot < 100:
        raise ValueError("min_feedback and min_audit must be at least 1, n_boot at least 100")
    rows = [with_utc(row) for row in store.predictions(start)]
    rows = [row for row in rows if row["created_at"] < end]
    pairs = paired_pairs(rows, live, candidate)
    feedback = {row["id"]: row for row in store.feedback(start)}
    labels = {
        served["id"]: feedback[served["id"]] for _, _, served in pairs if served["id"] in feedback
    }
    heads = [h for h in HEADS if any(p[0].get(h) is not None for p in pairs)]
    n_audited = sum(1 for _, _, s in pairs if s["id"] in labels and s.get("needs_audit"))
    basis = "audit" if n_audited >= min_audit else "feedback"
    report: dict[str, Any] = {
        "schema_version": COMPARE_SCHEMA,
        "window": {"since": start.isoformat(), "until": end.isoformat()},
        "live": live,
        "candidate": candidate,
        "versions_seen": dict(Counter(str(r["model_version"]) for r in rows)),
        "n_pairs": len(pairs),
        "n_feedback": len(labels),
        "n_audited": n_audited,
        "rules": {
            "min_feedback": min_feedback,
            "min_audit": min_audit,
            "n_boot": n_boot,
            "confidence": confidence,
            "seed": seed,
        },
        "labels": {"feedback": FEEDBACK_LABEL, "audit": AUDIT_LABEL},
        "agreement": _agreement(pairs, heads),
        "models": {},
        "basis": basis,
    }
    judged: dict[str, list[dict[str, Any]]] = {}
    for side, version in ((0, live), (1, candidate)):
        judged[version] = [
            _judged(pair[side], pair[2], labels.get(pair[2]["id"])) for pair in pairs
        ]
        report["models"][version] = _model_figures(judged[version], heads)
    rng = np.random.default_rng(seed)
    report["differences"] = {
        head: _differences(head, judged[live], judged[candidate], rng, n_boot, confidence)
        for head in heads
    }
    report.update(_verdict(report, min_feedback, confidence))
    return report


def _judged(row: Row, served: Row, feedback: Row | None) -> dict[str, Any]:
    """A version's decision with the served decision's feedback and audit draw."""
    judged = {
        "queue": row["queue"],
        "needs_review": bool(row["needs_review"]),
        "latency_ms": row["latency_ms"],
        "design_review": bool(served["needs_review"]),
        "needs_audit": bool(served.get("needs_audit")),
        "audit_probability": served.get("audit_probability"),
    }
    for head in HEADS:
        judged[head] = row.get(head)
        judged[f"final_{head}"] = feedback.get(f"final_{head}") if feedback else None
    return judged


def _agreement(pairs: Sequence[tuple[Row, Row, Row]], heads: Sequence[str]) -> dict[str, Any]:
    """Share of paired tickets where the two versions agree, per head, on queue and review."""
    n = len(pairs)
    fields = [*heads, "queue", "needs_review"]
    return {f: share(sum(1 for a, b, _ in pairs if a.get(f) == b.get(f)), n) for f in fields}


def _model_figures(judged: Sequence[Mapping[str, Any]], heads: Sequence[str]) -> dict[str, Any]:
    """One version's traffic, latency and scores on the paired tickets."""
    n = len(judged)
    queues = Counter(str(j["queue"]) for j in judged)
    latency = np.array([float(j["latency_ms"]) for j in judged])
    figures: dict[str, Any] = {
        "queues": {q: share(c, n) for q, c in sorted(queues.items())},
        "review_rate": share(sum(j["needs_review"] for j in judged), n),
        "latency_ms": {
            "mean": rounded(float(latency.mean())) if n else None,
            "p50": rounded(float(np.percentile(latency, 50))) if n else None,
            "p99": rounded(float(np.percentile(latency, 99))) if n else None,
        },
        "heads": {},
    }
    for head in heads:
        labelled = [j for j in judged if j[f"final_{head}"] and j[head]]
        truth = [str(j[f"final_{head}"]) for j in labelled]
        predicted = [str(j[head]) for j in labelled]
        labels = sorted(set(truth) | set(predicted))
        design = [{**j, "needs_review": j["design_review"]} for j in labelled]
        figures["heads"][head] = {
            "feedback": class_scores(truth, predicted, labels),
            "audit": weighted_scores(head, labels, design),
        }
    return figures


def _differences(
    head: str,
    live: Sequence[Mapping[str, Any]],
    candidate: Sequence[Mapping[str, Any]],
    rng: np.random.Generator,
    n_boot: int,
    confidence: float,
) -> dict[str, Any]:
    """Per basis (feedback only, audit-weighted), class and metric: candidate minus live and
    its paired bootstrap interval."""
    keep = [i for i, j in enumerate(live) if j[f"final_{head}"] and j[head] and candidate[i][head]]
    truth = np.array([str(live[i][f"final_{head}"]) for i in keep], dtype=object)
    by_live = np.array([str(live[i][head]) for i in keep], dtype=object)
    by_candidate = np.array([str(candidate[i][head]) for i in keep], dtype=object)
    probability = np.array(
        [
            float(live[i]["audit_probability"])
            if designed({**live[i], "needs_review": live[i]["design_review"]})
            else 0.0
            for i in keep
        ]
    )
    labels = sorted(set(truth) | set(by_live) | set(by_candidate))
    weights = {
        "feedback": np.ones(len(keep)),
        "audit": np.divide(1.0, probability, out=np.zeros(len(keep)), where=probability > 0),
    }
    return {
        basis: _bootstrap(truth, by_live, by_candidate, w, labels, rng, n_boot, confidence)
        for basis, w in weights.items()
    }


def _bootstrap(
    truth: np.ndarray,
    by_live: np.ndarray,
    by_candidate: np.ndarray,
    weights: np.ndarray,
    labels: Sequence[str],
    rng: np.random.Generator,
    n_boot: int,
    confidence: float,
) -> dict[str, Any]:
    """Weighted precision and recall differences, resampling the tickets (with weight > 0)
    with replacement, the same tickets for both versions."""
    inside = weights > 0
    truth, by_live, by_candidate, w = (
        truth[inside],
        by_live[inside],
        by_candidate[inside],
        weights[inside],
    )
    n = len(truth)
    out: dict[str, Any] = {"n": n, "per_class": {}}
    if n == 0:
        return out
    # One column per (class, quantity); a resample's sums are its counts times the columns.
    columns = []
    for label in labels:
        is_true = truth == label
        for predicted in (by_live, by_candidate):
            columns += [w * (is_true & (predicted == label)), w * (predicted == label)]
        columns.append(w * is_true)
    values = np.stack(columns, axis=1).astype(float)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot)
    resampled = counts @ values
    full = values.sum(axis=0)
    tail = (1 - confidence) / 2 * 100
    for k, label in enumerate(labels):
        out["per_class"][label] = {}
        for metric in METRICS:
            point = _difference(full, 5 * k, metric)
            draws = _difference(resampled, 5 * k, metric)
            finite = draws[np.isfinite(draws)]
            low = high = None
            if np.isfinite(point) and len(finite) >= 0.95 * n_boot:
                low, high = (rounded(float(v)) for v in np.percentile(finite, [tail, 100 - tail]))
            out["per_class"][label][metric] = {
                "difference": rounded(float(point)),
                "low": low,
                "high": high,
            }
    return out


def _difference(sums: np.ndarray, base: int, metric: str) -> np.ndarray:
    """Candidate minus live of one class's metric from the column sums (nan where undefined)."""
    hits_live, predicted_live, hits_candidate, predicted_candidate, true = (
        sums[..., base + m] for m in range(5)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        if metric == "precision":
            return np.asarray(hits_candidate / predicted_candidate - hits_live / predicted_live)
        return np.asarray((hits_candidate - hits_live) / true)


def _verdict(report: Mapping[str, Any], min_feedback: int, confidence: float) -> dict[str, Any]:
    """The verdict, its exit code, the evidence and a plain sentence."""
    basis = report["basis"]
    name = "audit-weighted" if basis == "audit" else "feedback only"
    if report["n_pairs"] == 0 or report["n_feedback"] < min_feedback:
        seen = ", ".join(f"{v} ({n})" for v, n in report["versions_seen"].items()) or "none"
        why = (
            f"no tickets were decided by both {report['live']} and {report['candidate']} "
            f"in the window (versions seen: {seen})"
            if report["n_pairs"] == 0
            else f"{report['n_feedback']} paired tickets have feedback, fewer than the "
            f"{min_feedback} required (--min-feedback)"
        )
        return {
            "verdict": "insufficient",
            "exit_code": EXIT_CODES["insufficient"],
            "evidence": [],
            "recommendation": f"No recommendation: too little feedback; {why}.",
        }
    evidence = []
    for head, bases in report["differences"].items():
        for label, metrics in bases[basis].get("per_class", {}).items():
            for metric, value in metrics.items():
                low, high = value["low"], value["high"]
                if low is None or high is None or low <= 0 <= high:
                    continue
                better = low > 0
                evidence.append(
                    {
                        "head": head,
                        "class": label,
                        "metric": metric,
                        "difference": value["difference"],
                        "low": low,
                        "high": high,
                        "basis": basis,
                        "candidate": "better" if better else "worse",
                        "text": f"candidate {'better' if better else 'worse'} on {head} "
                        f"{label} {metric} by {abs(value['difference']):.3f}, "
                        f"{confidence:.0%} interval [{low:.3f}, {high:.3f}] excludes 0 "
                        f"({name}, {bases[basis]['n']} tickets)",
                    }
                )
    worse = [e for e in evidence if e["candidate"] == "worse"]
    if worse:
        verdict, words = (
            "keep_live",
            f"Keep {report['live']}: " + "; ".join(e["text"] for e in worse),
        )
    elif evidence:
        verdict, words = (
            "promote",
            f"Promote {report['candidate']}: " + "; ".join(e["text"] for e in evidence),
        )
    else:
        verdict = "no_difference"
        words = (
            f"No difference shown: every per-class {confidence:.0%} interval of candidate minus "
            f"live contains 0 ({name}, {report['n_feedback']} tickets with feedback); "
            f"keep {report['live']} unless there is another reason to switch"
        )
    return {
        "verdict": verdict,
        "exit_code": EXIT_CODES[verdict],
        "evidence": evidence,
        "recommendation": words + ".",
    }
