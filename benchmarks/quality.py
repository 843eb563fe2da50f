"""Quality of ticket-triage against TF-IDF + LinearSVC on the shared datasets, and the ablations
that chose the training defaults.

For each dataset the split is fixed:

- ``github_issues_nlbse24``: the official split (train.csv -> test.csv), topic head;
- ``support_tickets_sample``: the held-out 20% that ``triage train`` itself uses (seed 0),
  urgency and topic heads;
- ``bitext_customer_support``: the same kind of held-out split, topic head (11 classes); its
  training time is the "26,872 rows in under a minute" check (the whole ``triage train`` run).

ticket-triage is trained with the library and scored through the numpy inference core, exactly as
``triage train`` / ``triage evaluate`` do. The baseline is
``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True) + LinearSVC(class_weight="balanced")`` on
``subject + " " + body``. "argmax" is the most probable class (like-for-like with the baseline);
"decision" applies the tuned ``high`` threshold (precision >= 0.85), which trades recall of
``high`` for precision and so lowers macro-F1 on purpose.

Usage::

    python benchmarks/quality.py [--ablations] [--markdown OUT]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from _report import Target, machine, publish, verdict, versions
from ticket_triage.training.config import TrainConfig
from ticket_triage.training.data import Tickets, read_tickets
from ticket_triage.training.evaluate import evaluate
from ticket_triage.training.fitting import combined_texts, feature_config
from ticket_triage.training.in_memory import fit, split_rows
from ticket_triage.training.train import build_artifact, train

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"


def dataset_dir(name: str) -> Path:
    """A shared dataset's folder; one this copy of ../shared/datasets lacks (banking77, built by
    ``benchmarks/get_banking77.py``) is looked for in the folder ``TRIAGE_EXTRA_DATASETS`` names."""
    extra = os.environ.get("TRIAGE_EXTRA_DATASETS")
    if extra and not (SHARED / name).is_dir() and (Path(extra) / name).is_dir():
        return Path(extra) / name
    return SHARED / name


def _subset(tickets: Tickets, rows: np.ndarray) -> Tickets:
    return Tickets(
        path=tickets.path,
        tickets=[tickets.tickets[i] for i in rows],
        labels={h: [v[i] for i in rows] for h, v in tickets.labels.items()},
        metadata_columns=tickets.metadata_columns,
        sha256=tickets.sha256,
        n_dropped=0,
    )


#: Datasets with an official train.csv / test.csv split; banking77 (short many-intent requests,
#: issue 13) is used where it exists (see :func:`dataset_dir`).
OFFICIAL_SPLITS = ("github_issues_nlbse24", "banking77")


def _splits(metadata: list[str] | None = None) -> dict[str, tuple[Tickets, Tickets]]:
    out = {}
    if metadata is None:
        for name in OFFICIAL_SPLITS:
            if (dataset_dir(name) / "train.csv").is_file():
                folder = dataset_dir(name)
                out[name] = (read_tickets(folder / "train.csv"), read_tickets(folder / "test.csv"))
    names = ["support_tickets_sample"] + (["bitext_customer_support"] if metadata is None else [])
    for name in names:
        tickets = read_tickets(dataset_dir(name) / "tickets.csv", metadata)
        train_rows, test_rows = split_rows(tickets.labels, 0.2, 0)
        out[name] = (_subset(tickets, train_rows), _subset(tickets, test_rows))
    return out


def ours(train: Tickets, test: Tickets, config: TrainConfig) -> tuple[dict[str, Any], float, int]:
    """Fit on ``train``, score ``test`` through the numpy core; metrics, fit seconds, bytes."""
    texts = combined_texts(train.tickets, feature_config(config))
    labels = {h: np.array(v, dtype=object) for h, v in train.labels.items()}
    started = time.perf_counter()
    fitted = fit(texts, labels, config)
    seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as directory:
        model = build_artifact(fitted, config, {"n_train": len(texts)}, Path(directory))
        size = sum(f.stat().st_size for f in Path(directory).iterdir())
        metrics, _, _ = evaluate(model, test)
    return metrics, seconds, size


def baseline(train: Tickets, test: Tickets, head: str) -> float:
    """Macro-F1 of TF-IDF + LinearSVC on the raw subject and body."""

    def text(t: dict[str, Any]) -> str:
        return f"{t['subject']} {t['body']}"

    pipeline = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        LinearSVC(class_weight="balanced"),
    )
    pipeline.fit([text(t) for t in train.tickets], train.labels[head])
    predicted = pipeline.predict([text(t) for t in test.tickets])
    return float(f1_score(test.labels[head], predicted, average="macro"))


def comparison(
    splits: dict[str, tuple[Tickets, Tickets]],
) -> tuple[list[str], dict[tuple[str, str], tuple[float, float, int]]]:
    """The table, and per (dataset, head): baseline F1, our argmax F1, our artifact bytes."""
    scores: dict[tuple[str, str], tuple[float, float, int]] = {}
    lines = [
        "| dataset | head | n test | TF-IDF + LinearSVC macro-F1 | ticket-triage argmax "
        "macro-F1 | ticket-triage decision macro-F1 | target (high >= 0.85 precision) | "
        "coverage | ECE | fit time | artifact |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for name, (train_set, test_set) in splits.items():
        metrics, seconds, size = ours(train_set, test_set, TrainConfig())
        for head, m in metrics["heads"].items():
            reference = baseline(train_set, test_set, head)
            scores[name, head] = (reference, m["argmax"]["macro_f1"], size)
            target = m["target"]
            if target:
                reach = "tuned" if target["reachable"] else "NOT reachable (fallback)"
                target_text = (
                    f"{reach}: precision {target['precision']:.2f}, recall {target['recall']:.2f}"
                )
            else:
                target_text = "-"
            lines.append(
                f"| {name} | {head} | {m['n']} | {reference:.3f} | {m['argmax']['macro_f1']:.3f} "
                f"| {m['macro_f1']:.3f} | {target_text} | {m['coverage']:.0%} | {m['ece']:.3f} | "
                f"{seconds:.1f} s | {size / 1e6:.2f} MB |"
            )
    return lines, scores


def engine_targets(
    scores: dict[tuple[str, str], tuple[float, float, int]], bitext_seconds: float
) -> list[Target]:
    """The engine issue's quality, training-time and size targets, from this run."""
    targets = []
    if ("github_issues_nlbse24", "topic") in scores:
        ref, f1, _ = scores["github_issues_nlbse24", "topic"]
        targets.append(
            Target(
                "NLBSE'24 topic macro-F1 >= TF-IDF + LinearSVC (official split)",
                f"{f1:.3f} vs {ref:.3f}",
                f1 >= ref,
            )
        )
    support = {h: v for (d, h), v in scores.items() if d == "support_tickets_sample"}
    if support:
        targets.append(
            Target(
                "support_tickets_sample: each head >= TF-IDF + LinearSVC - 0.01 (held-out 20%)",
                "; ".join(f"{h} {f1:.3f} vs {ref:.3f}" for h, (ref, f1, _) in support.items()),
                all(f1 >= ref - 0.01 for ref, f1, _ in support.values()),
            )
        )
        size = max(v[2] for v in support.values())
        targets.append(Target("artifact < 5 MB for two heads", f"{size / 1e6:.2f} MB", size < 5e6))
    targets.append(
        Target(
            "`triage train` on the 26,872-row bitext file < 60 s",
            f"{bitext_seconds:.1f} s",
            bitext_seconds < 60,
        )
    )
    return targets


def bitext_training_time() -> tuple[str, float]:
    data = SHARED / "bitext_customer_support" / "tickets.csv"
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        train(data, Path(directory) / "model", TrainConfig())
        seconds = time.perf_counter() - started
    sentence = (
        f"`triage train` on bitext_customer_support (26,872 rows, 11 classes), whole run "
        f"(read, hash, 5-fold calibration, thresholds, evaluation, report): {seconds:.1f} s "
        f"(target < 60 s: {verdict(seconds < 60)})."
    )
    return sentence, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ablations", action="store_true", help="also run the option grid")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    parser.add_argument("--results", type=Path, help="keep the sections here for assemble.py")
    args = parser.parse_args()
    splits = _splits()
    table, scores = comparison(splits)
    sentence, bitext_seconds = bitext_training_time()
    measured = (
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}; "
        f"{versions(['numpy', 'scikit-learn'])}: `python benchmarks/quality.py"
        f"{' --ablations' if args.ablations else ''}`."
    )
    text = "\n".join([measured, "", *table, "", sentence])
    publish(args.results, "quality", text, engine_targets(scores, bitext_seconds))
    if args.ablations:
        from _ablations import ablations, linear_models

        grid = "\n".join([measured, "", *ablations(splits), "", *linear_models(splits)])
        publish(args.results, "ablations", grid)
        text += "\n\n## Ablations\n\n" + grid
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
