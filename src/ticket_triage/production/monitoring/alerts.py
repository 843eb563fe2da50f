"""The report's verdicts: alerts (the rules in :mod:`ticket_triage.production.monitoring`), notes
a reader needs to read the numbers right, and a summary in plain sentences."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ticket_triage.production.monitoring.drift import INPUT_DRIFT_RISE, PSI_ALERT

__all__ = ["REVIEW_RATE_RATIO", "alerts", "notes", "summary"]

#: The review rate reaching this multiple of the previous window's is an alert.
REVIEW_RATE_RATIO = 2.0


def _alert(
    kind: str, head: str | None, value: float, threshold: float, message: str, **extra: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "head": head,
        **extra,
        "value": value,
        "threshold": threshold,
        "message": message,
    }


def alerts(report: Mapping[str, Any], min_support: int, min_predictions: int) -> list[dict]:
    """The alert rules (module docstring; ``report["rules"]`` records their parameters)."""
    raised = []
    n_now, n_before = report["n_predictions"], report["previous_window"]["n_predictions"]
    for name, head in report["heads"].items():
        target = head["target"]
        if target and target["n_predicted"] >= min_support:
            precision = target["precision"]
            if precision < target["min_precision"]:
                raised.append(
                    _alert(
                        "target_precision",
                        name,
                        precision,
                        target["min_precision"],
                        f"{name} {target['class']!r}: precision {precision:.2f} on "
                        f"{target['n_predicted']} feedback tickets predicted {target['class']!r} "
                        f"is below its target {target['min_precision']:.2f}",
                        **{"class": target["class"]},
                    )
                )
        for kind, key, against, enough in (
            ("psi_training", "vs_training", "training", head["n_predictions"] >= min_predictions),
            (
                "psi_previous",
                "vs_previous",
                "the previous window",
                min(head["n_predictions"], head["previous_n_predictions"]) >= min_predictions,
            ),
        ):
            value = head["psi"][key]
            if enough and value is not None and value > PSI_ALERT:
                raised.append(
                    _alert(
                        kind,
                        name,
                        value,
                        PSI_ALERT,
                        f"{name}: the predicted class mix moved away from {against} "
                        f"(PSI {value:.2f} > {PSI_ALERT}); {_biggest_move(head, key)}",
                    )
                )
    traffic = report["traffic"]
    rate, before = traffic["review_rate"], traffic["previous_review_rate"]
    compare = min(n_now, n_before) >= min_predictions
    if compare and rate > before and rate >= REVIEW_RATE_RATIO * before:
        raised.append(
            _alert(
                "review_rate",
                None,
                rate,
                round(REVIEW_RATE_RATIO * before, 6),
                f"the review rate rose to {rate:.0%} from {before:.0%} in the previous window "
                f"(at least x{REVIEW_RATE_RATIO:g})",
            )
        )
    drift = report["input_drift"]
    if compare and drift["change"] > INPUT_DRIFT_RISE:
        raised.append(
            _alert(
                "input_drift",
                None,
                drift["unseen_share"],
                round(drift["previous_unseen_share"] + INPUT_DRIFT_RISE, 6),
                f"input drift: on average {drift['unseen_share']:.0%} of a ticket's features "
                f"were never seen in training, up from {drift['previous_unseen_share']:.0%} in "
                "the previous window (new products, error codes or languages?)",
            )
        )
    return raised


def _biggest_move(head: Mapping[str, Any], key: str) -> str:
    """The class whose share moved most, in words."""
    reference = "training_share" if key == "vs_training" else "previous_share"
    label, entry = max(
        head["mix"].items(),
        key=lambda item: abs((item[1]["share"] or 0.0) - (item[1][reference] or 0.0)),
    )
    return f"most moved: {label!r} {(entry[reference] or 0.0):.0%} -> {(entry['share'] or 0.0):.0%}"


def notes(report: Mapping[str, Any], meta: Mapping[str, Any], training: object) -> Iterable[str]:
    """Things a reader must know to read the numbers right."""
    if report["n_predictions"] == 0:
        yield "No predictions in this window."
    elif report["n_feedback"] == 0:
        yield "No feedback in this window: accuracy and calibration cannot be measured."
    if report["previous_window"]["n_predictions"] == 0:
        yield "No predictions in the previous window: nothing to compare this window with."
    if training is None:
        yield "The model has no metrics.json: no training class mix to compare with."
    if meta.get("retuned"):
        yield (
            "This model was re-tuned from "
            f"{meta['retuned'].get('from_version')}; its metrics.json (the training class "
            "mix) was measured with the thresholds before re-tuning."
        )
    if len(report["model_versions"]) > 1 or (
        report["model_versions"] and meta.get("version") not in report["model_versions"]
    ):
        versions = ", ".join(f"{v} ({n})" for v, n in report["model_versions"].items())
        yield f"Predictions in this window come from model versions {versions}."
    for name, head in report["heads"].items():
        if head["absent"]:
            listed = ", ".join(repr(c) for c in head["absent"])
            yield f"{name}: never predicted in this window: {listed}."
        if head["unknown_labels"]:
            listed = ", ".join(repr(c) for c in head["unknown_labels"])
            yield f"{name}: labels this model does not know appear in the log: {listed}."
        if report["n_predictions"] and not head["n_predictions"]:
            yield f"{name}: no prediction in this window has a {name!r} label."


def summary(report: Mapping[str, Any]) -> list[str]:
    """A few plain sentences for the top of the page."""
    window = report["window"]
    n, n_feedback = report["n_predictions"], report["n_feedback"]
    lines = [
        f"{n:,} predictions from {window['since'][:16]} to {window['until'][:16]} UTC"
        + (f", {n_feedback:,} ({n_feedback / n:.0%}) with agent feedback." if n else ".")
    ]
    if not n:
        lines.append("Nothing was triaged in this window, so there is nothing to judge.")
        return lines
    raised = report["alerts"]
    lines.append(
        f"{len(raised)} alert{'s' if len(raised) != 1 else ''}: see below."
        if raised
        else "No alerts."
    )
    traffic = report["traffic"]
    review = f"{traffic['review_rate']:.0%} of tickets went to review"
    if traffic["previous_review_rate"] is not None:
        review += f" ({traffic['previous_review_rate']:.0%} in the previous window)"
    lines.append(review + ".")
    for name, head in report["heads"].items():
        target = head["target"]
        if target is None:
            continue
        if target["n_predicted"] == 0:
            lines.append(f"{name}: no feedback on tickets predicted {target['class']!r} yet.")
            continue
        lines.append(
            f"{name} {target['class']!r}: precision {target['precision']:.2f} (target "
            f"{target['min_precision']:.2f}) on {target['n_predicted']} feedback tickets "
            f"predicted {target['class']!r}"
            + (
                "."
                if target["n_predicted"] >= report["rules"]["min_support"]
                else f"; too few to judge (fewer than {report['rules']['min_support']})."
            )
        )
    return lines
