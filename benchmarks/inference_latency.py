"""Single-ticket latency of the numpy core, beside a naive scikit-learn pipeline in the same run.

Target (issue "Triage engine"): one ticket, both heads, in-process: p50 <= 50 us, p99 <= 250 us;
issue 13 (char and subject n-grams, naive-Bayes scaling) allows p50 up to twice that of the
model it replaced, measured in the same run: a model with the defaults before issue 13 (word
n-grams only) is trained on the same file here and timed beside the model under test. The naive
reference is what a typical implementation of the original sketch does, per head:
``Pipeline([HashingVectorizer(ngram_range=(1, 2), alternate_sign=False),
CalibratedClassifierCV(LogisticRegression(class_weight="balanced"), cv=5)]).predict_proba([text])``.

The two are timed in alternating blocks (three rounds of: every ticket through ticket-triage,
then every ticket through the naive pipeline), so that noise from other work on a shared machine
lands on both; the ratio is the robust number, the absolute ones move with the machine. Blocks,
not ticket-by-ticket interleaving: one naive call streams ~80 MB of coefficients through the
cache and would make the ticket after it pay for that, which a service does not do.

The naive pipelines are fitted on 600 tickets of the same training file: their latency depends
on the shape of the model (2**20 features, 5 calibrated copies per head), not on how much data
it saw, and fitting them on everything takes minutes.

Usage::

    python benchmarks/inference_latency.py --model models/default [--n 2000] [--markdown OUT]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import warnings
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from _report import Target, machine, publish, verdict, versions

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
DATASETS = {
    "bitext (short requests)": SHARED / "bitext_customer_support" / "tickets.csv",
    "sample (project's own)": ROOT / "src" / "ticket_triage" / "sample" / "tickets.csv",
    "support_tickets_sample (EN/DE emails)": SHARED / "support_tickets_sample" / "tickets.csv",
}
TARGET_P50_US, TARGET_P99_US = 50.0, 250.0


def naive_pipelines(data: Path) -> tuple[dict[str, object], float]:
    """Fit the naive per-head pipelines on the same training file as the model."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from ticket_triage.core.text import combine_fields
    from ticket_triage.training.data import read_tickets

    tickets = read_tickets(data)
    tickets = replace(
        tickets,
        tickets=tickets.tickets[:600],
        labels={head: values[:600] for head, values in tickets.labels.items()},
    )
    texts = [combine_fields(t["subject"], t["body"], t["metadata"]) for t in tickets.tickets]
    started = time.perf_counter()
    pipelines = {}
    for head, labels in tickets.labels.items():
        pipeline = Pipeline(
            [
                ("hash", HashingVectorizer(ngram_range=(1, 2), alternate_sign=False)),
                (
                    "clf",
                    CalibratedClassifierCV(
                        LogisticRegression(class_weight="balanced", max_iter=200), cv=5
                    ),
                ),
            ]
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipelines[head] = pipeline.fit(texts, labels)
    return pipelines, time.perf_counter() - started


def load_tickets(path: Path, n: int) -> list[dict[str, object]]:
    """Up to ``n`` tickets of a file, spread over it (not just its first rows)."""
    from ticket_triage.training.data import read_tickets

    tickets = read_tickets(path, require_labels=False).tickets
    step = max(1, len(tickets) // n)
    return tickets[::step][:n]


def word_only_model(data: Path, directory: Path) -> object:
    """The model the defaults before issue 13 train on ``data``: word n-grams only, plain
    LinearSVC, C=2."""
    from ticket_triage.core.model import TriageModel
    from ticket_triage.training.config import TrainConfig
    from ticket_triage.training.train import train

    config = TrainConfig(char_ngram_range=None, subject_weight=None, nb_scaling=False, C=2.0)
    return TriageModel.load(train(data, directory / "word-only", config).out)


def measure(
    model: object,
    python_model: object,
    word_only: object,
    pipelines: dict[str, object],
    tickets: list[dict[str, object]],
    rounds: int = 3,
) -> tuple[np.ndarray, ...]:
    """Per-ticket timings in microseconds over alternating blocks: (ours, pure Python, the
    previous defaults' model, naive)."""
    from ticket_triage.core.text import combine_fields

    def naive(ticket: dict[str, object]) -> None:
        text = combine_fields(ticket["subject"], ticket["body"], ticket["metadata"])
        for pipeline in pipelines.values():
            pipeline.predict_proba([text])

    def timed(function: object, items: list[dict[str, object]]) -> list[float]:
        clock, out = time.perf_counter_ns, []
        for item in items:
            start = clock()
            function(item)
            out.append((clock() - start) / 1000)
        return out

    timed(model.triage, tickets[:100])  # warm caches and lazy imports
    timed(python_model.triage, tickets[:100])
    timed(word_only.triage, tickets[:100])
    timed(naive, tickets[:20])
    ours, python, words, theirs = [], [], [], []
    naive_share = tickets[: max(100, len(tickets) // 4)]  # ~8 ms each: a quarter is plenty
    for _ in range(rounds):
        ours += timed(model.triage, tickets)
        python += timed(python_model.triage, tickets)
        words += timed(word_only.triage, tickets)
        theirs += timed(naive, naive_share)
    return np.array(ours), np.array(python), np.array(words), np.array(theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument(
        "--train-data",
        type=Path,
        default=DATASETS["sample (project's own)"],
        help="what the model was trained on; the naive pipelines are fitted on it too",
    )
    parser.add_argument("--n", type=int, default=2000, help="tickets per dataset")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--results", type=Path, help="keep the section here for assemble.py")
    args = parser.parse_args()

    from ticket_triage.core.features import Featurizer
    from ticket_triage.core.model import TriageModel
    from ticket_triage.core.text import tokenize

    model = TriageModel.load(args.model)
    if not model.featurize.compiled:
        print("warning: the compiled featuriser is not in use; ticket-triage runs pure Python")
    python_model = TriageModel.load(args.model)
    python_model.featurize = Featurizer(python_model.features, compiled=False)
    pipelines, fit_seconds = naive_pipelines(args.train_data)
    scratch = Path(tempfile.mkdtemp(prefix="latency-"))
    word_only = word_only_model(args.train_data, scratch)
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}; "
        f"{versions(['numpy', 'mmh3', 'scikit-learn'])}; model {model.version}; "
        f"`python benchmarks/inference_latency.py --model {args.model} --n {args.n}` "
        f"({args.n} tickets per dataset, 3 alternating rounds).",
        "",
        "| tickets | mean tokens | ticket-triage p50 | p99 | pure-Python path p50 | p99 | "
        "defaults before issue 13 p50 | p99 | naive sklearn p50 | p99 | speed-up "
        "(p50) | p50 <= 50 us | p99 <= 250 us | p50 <= 2x before |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|:---:|",
    ]
    p50s: dict[str, float] = {}
    p99s: dict[str, float] = {}
    ratios: dict[str, float] = {}
    for name, path in DATASETS.items():
        if not path.is_file():
            print(f"skipping {name}: {path} not found")
            continue
        tickets = load_tickets(path, args.n)
        tokens = statistics.mean(len(tokenize(model.text_of(t))) for t in tickets)
        ours, python, words, theirs = measure(model, python_model, word_only, pipelines, tickets)
        p50, p99 = np.percentile(ours, [50, 99])
        y50, y99 = np.percentile(python, [50, 99])
        w50, w99 = np.percentile(words, [50, 99])
        n50, n99 = np.percentile(theirs, [50, 99])
        p50s[name], p99s[name], ratios[name] = p50, p99, p50 / w50
        lines.append(
            f"| {name} | {tokens:.0f} | {p50:.0f} us | {p99:.0f} us | {y50:.0f} us | {y99:.0f} us "
            f"| {w50:.0f} us | {w99:.0f} us | {n50 / 1000:.2f} ms | "
            f"{n99 / 1000:.2f} ms | {n50 / p50:.0f}x | {verdict(p50 <= TARGET_P50_US)} | "
            f"{verdict(p99 <= TARGET_P99_US)} | {p50 / w50:.2f}x: {verdict(p50 <= 2 * w50)} |"
        )
    shutil.rmtree(scratch, ignore_errors=True)
    lines.append("")
    lines.append(
        f"(The naive pipelines took {fit_seconds:.0f} s to fit on 600 tickets, 2 heads x 5 folds.)"
    )
    text = "\n".join(lines)
    print(text)
    publish(
        args.results,
        "latency",
        text,
        [
            Target(
                f"one ticket, both heads, p{q} <= {limit:g} us",
                ", ".join(f"{values[name]:.0f} us ({name.split(' ')[0]})" for name in values),
                max(values.values(), default=float("inf")) <= limit,
            )
            for q, values, limit in ((50, p50s, TARGET_P50_US), (99, p99s, TARGET_P99_US))
        ]
        + [
            Target(
                "one ticket, both heads, p50 <= 2x the previous defaults' (same run)",
                ", ".join(f"{ratios[name]:.2f}x ({name.split(' ')[0]})" for name in ratios),
                max(ratios.values(), default=float("inf")) <= 2,
            )
        ],
    )
    if args.markdown:
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
