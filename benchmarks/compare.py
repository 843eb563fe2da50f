"""ticket-triage against the obvious alternatives: trained and measured side by side, in one run,
on the same splits of the same data.

Systems (``--systems``; see ``_systems.py``): ``ticket-triage`` (this project, its public API and
artifact), ``naive`` (HashingVectorizer + CalibratedClassifierCV(LogisticRegression), called one
ticket at a time), ``tfidf`` (TF-IDF + LinearSVC), ``fasttext`` (supervised, word bigrams) and
``minilm`` (all-MiniLM-L6-v2 embeddings + logistic regression, CPU PyTorch). The last two need
``make bench-env``; without their packages they are reported as not installed.

Splits (``--datasets``), the same as ``quality.py``'s: the 20% held out with ``split_rows(labels,
0.2, seed 0)`` as the test rows (the official test.csv for ``github_issues_nlbse24``). Inside the
training rows the same function holds out 20% as **validation** rows: every system is trained on
the remaining 80%; fastText's epochs, MiniLM's C and every target threshold are chosen on the
validation rows; the test rows are used once, for the numbers.

Measured per system and dataset: macro-F1 of the most probable class and per-class precision and
recall, each with a paired bootstrap 95% interval (the same resamples for every system, seed 0);
recall of the target class at precision >= 0.85 (threshold: the lowest whose precision's one-sided
90% Wilson lower bound reaches 0.85 on validation, ticket-triage's own rule, applied to every
system); ECE; training time (tuning included); artifact size; single-ticket latency (every head,
from the ticket dict, up to ``--latency-n`` tickets); batch throughput (the whole test set in one
call); cold start (a fresh interpreter: import, load the saved artifact, decide one ticket; median
of three). For ``github_issues_nlbse24`` also the NLBSE'24 protocol: one model per repository.

Usage (``make bench-compare`` runs everything from ``.venv-bench``: 24 minutes on 2 shared cores)::

    python benchmarks/compare.py [--datasets a,b] [--systems a,b] [--limit N]
        [--markdown OUT] [--plots DIR]
"""

from __future__ import annotations

import os

# Before numpy is imported: one BLAS thread for every system. On a 2-core machine shared with
# other work, OpenBLAS's second thread spins against it: measured, one LogisticRegression fit of
# the naive pipeline took 2.5 s with two threads and 0.03 s with one. PyTorch keeps its own
# intra-op threads (both cores), as a MiniLM deployment would.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# Before any Hugging Face import: the encoder ships inside a package, nothing is downloaded.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from _compare_data import Result, Split
from _compare_report import PROTOCOL, dataset_tables, nlbse_table, plots, versions
from _compare_targets import issue_targets
from _report import machine, publish
from _systems import SYSTEMS, Naive, System, Ticket, missing
from quality import OFFICIAL_SPLITS, _subset, dataset_dir
from ticket_triage.core.thresholds import target_threshold
from ticket_triage.training.data import Tickets, read_tickets
from ticket_triage.training.evaluate import expected_calibration_error, per_class_scores
from ticket_triage.training.in_memory import split_rows

ROOT = Path(__file__).resolve().parents[1]
DATASETS = (
    "support_tickets_sample",
    "github_issues_nlbse24",
    "bitext_customer_support",
    "banking77",
)
#: Systems not run on a dataset, and why (the report says so in their row).
NOT_RUN = {
    ("banking77", "naive"): "not run: 77 classes x 2**20 coefficients x 5 calibrated copies "
    "(3 GB of float64 weights per fit) do not fit this machine's time budget",
}
# The class each head's precision target is for. urgency: `high` (the issue's target); topics:
# the class whose wrong routing costs most — a bug sent to sales (NLBSE, support), a refund sent
# anywhere but the refund queue (bitext).
TARGETS = {
    ("support_tickets_sample", "urgency"): "high",
    ("support_tickets_sample", "topic"): "bug",
    ("github_issues_nlbse24", "topic"): "bug",
    ("bitext_customer_support", "topic"): "refund",
    ("banking77", "topic"): "lost_or_stolen_card",
}
MIN_PRECISION, CONFIDENCE, MIN_SUPPORT = 0.85, 0.9, 10


def _sample(tickets: Tickets, limit: int | None, seed: int = 0) -> Tickets:
    """At most ``limit`` rows, drawn at random (seeded) and kept in file order."""
    if limit is None or limit >= len(tickets.tickets):
        return tickets
    rows = np.sort(np.random.default_rng(seed).choice(len(tickets.tickets), limit, replace=False))
    return _subset(tickets, rows)


def _without_repo(tickets: Tickets) -> tuple[Tickets, list[str]]:
    """Take ``repo`` out of each NLBSE ticket's metadata (it groups, it is not a feature): the
    same tickets and the repositories in row order."""
    repos = [str(t["metadata"].pop("repo")) for t in tickets.tickets]
    return tickets, repos


def load_split(name: str, limit: int | None) -> Split:
    """The fixed split of ``quality.py`` plus a validation split of the training rows."""
    train_repos: list[str] = []
    test_repos: list[str] = []
    if name == "github_issues_nlbse24":
        folder = dataset_dir(name)
        train, train_repos = _without_repo(
            _sample(read_tickets(folder / "train.csv", ["repo"]), limit)
        )
        test, test_repos = _without_repo(
            _sample(read_tickets(folder / "test.csv", ["repo"]), limit)
        )
    elif name in OFFICIAL_SPLITS:
        folder = dataset_dir(name)
        train = _sample(read_tickets(folder / "train.csv"), limit)
        test = _sample(read_tickets(folder / "test.csv"), limit)
    else:
        tickets = _sample(read_tickets(dataset_dir(name) / "tickets.csv"), limit)
        train_rows, test_rows = split_rows(tickets.labels, 0.2, 0)
        train, test = _subset(tickets, train_rows), _subset(tickets, test_rows)
    fit_rows, validation_rows = split_rows(train.labels, 0.2, 0)
    return Split(
        name=name,
        fit=_subset(train, fit_rows),
        validation=_subset(train, validation_rows),
        test=test,
        heads=list(train.labels),
        test_repos=test_repos,
        train=train if train_repos else None,
        train_repos=train_repos,
    )


def _labels(tickets: Tickets) -> dict[str, np.ndarray]:
    return {head: np.array(values, dtype=object) for head, values in tickets.labels.items()}


def _macro_f1(truth: np.ndarray, predicted: np.ndarray, n: int) -> float:
    """Macro-F1 over the classes present in truth or prediction, as ``evaluate`` computes it."""
    f1 = per_class_scores(truth, predicted, n)[2]
    return float(f1[np.union1d(truth, predicted)].mean())


def head_metrics(
    classes: list[str],
    truth_labels: list[str],
    scores: np.ndarray,
    validation: tuple[list[str], np.ndarray],
    target: str | None,
    resamples: np.ndarray,
    probabilistic: bool,
) -> dict[str, Any]:
    """Quality of one head on the test rows, intervals from the shared bootstrap resamples."""
    n = len(classes)
    truth = np.array([classes.index(v) for v in truth_labels])
    predicted = scores.argmax(axis=1)
    boot_f1, boot_p, boot_r = [], [], []
    for rows in resamples:
        p, r, _, _ = per_class_scores(truth[rows], predicted[rows], n)
        boot_f1.append(_macro_f1(truth[rows], predicted[rows], n))
        boot_p.append(p)
        boot_r.append(r)
    precision, recall, _, support = per_class_scores(truth, predicted, n)
    p_lo, p_hi = np.percentile(boot_p, [2.5, 97.5], axis=0)
    r_lo, r_hi = np.percentile(boot_r, [2.5, 97.5], axis=0)
    out: dict[str, Any] = {
        "macro_f1": _macro_f1(truth, predicted, n),
        "macro_f1_ci": tuple(np.percentile(boot_f1, [2.5, 97.5]).tolist()),
        "per_class": {
            c: {
                "precision": (precision[k], p_lo[k], p_hi[k]),
                "recall": (recall[k], r_lo[k], r_hi[k]),
                "support": int(support[k]),
            }
            for k, c in enumerate(classes)
        },
        "ece": expected_calibration_error(scores, truth) if probabilistic else None,
        "target": None,
    }
    if target is not None and target in classes:
        k = classes.index(target)
        val_truth, val_scores = validation
        tuned = target_threshold(
            val_scores[:, k], val_truth == target, MIN_PRECISION, MIN_SUPPORT, CONFIDENCE
        )
        hits = scores[:, k] >= tuned.threshold
        tp = int((hits & (truth == k)).sum())
        out["target"] = {
            "class": target,
            "reachable": tuned.reachable,
            "precision": tp / int(hits.sum()) if hits.any() else 0.0,
            "recall": tp / int((truth == k).sum()) if (truth == k).any() else 0.0,
        }
    return out


def latencies(system: System, tickets: list[Ticket]) -> np.ndarray:
    """Per-ticket wall time (microseconds) of deciding every head, after a short warm-up."""
    for ticket in tickets[:20]:
        system.predict_one(ticket)
    clock, out = time.perf_counter_ns, []
    for ticket in tickets:
        start = clock()
        system.predict_one(ticket)
        out.append((clock() - start) / 1000)
    return np.array(out)


def cold_start(script: str, runs: int = 3) -> float:
    """Median wall seconds of a fresh interpreter running ``script`` (import + load + decide)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True, timeout=600
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _repo_f1(system: System, head: str, tickets: list[Ticket], truth: list[str]) -> float:
    classes, scores = system.scores(tickets)[head]
    y = np.array([classes.index(v) for v in truth])
    return _macro_f1(y, scores.argmax(axis=1), len(classes))


def per_repo(system: System, split: Split, result: Result, test_scores: Any) -> None:
    """NLBSE'24: one model per repository on its train rows, macro-F1 on its test rows; also the
    pooled model's macro-F1 per repository, from the scores already computed."""
    if split.train is None:
        return
    head = "topic"
    classes, scores = test_scores[head]
    repos = np.array(split.test_repos)
    truth = np.array([classes.index(v) for v in split.test.labels[head]])
    predicted = scores.argmax(axis=1)
    for repo in sorted(set(split.test_repos)):
        rows = repos == repo
        result.pooled_per_repo[repo] = _macro_f1(truth[rows], predicted[rows], len(classes))
        train_rows = [i for i, r in enumerate(split.train_repos) if r == repo]
        test_rows = np.flatnonzero(rows)
        system.fit(
            [split.train.tickets[i] for i in train_rows],
            {head: np.array([split.train.labels[head][i] for i in train_rows], dtype=object)},
        )
        result.per_repo[repo] = _repo_f1(
            system,
            head,
            [split.test.tickets[i] for i in test_rows],
            [split.test.labels[head][i] for i in test_rows],
        )


def measure(name: str, split: Split, resamples: np.ndarray, args: argparse.Namespace) -> Result:
    """Train, tune and measure one system on one split; failures are reported, not raised."""
    cls = SYSTEMS[name]
    result = Result(system=name)
    if missing(cls):
        result.status = "not installed (make bench-env)"
        return result
    workdir = Path(tempfile.mkdtemp(prefix=f"compare-{name}-"))
    try:
        scratch = workdir / "scratch"
        system = Naive(scratch, args.naive_features) if cls is Naive else cls(scratch)
        validation = (split.validation.tickets, _labels(split.validation))
        started = time.perf_counter()
        system.fit(split.fit.tickets, _labels(split.fit), validation)
        result.fit_seconds = time.perf_counter() - started
        val_scores = system.scores(split.validation.tickets)
        started = time.perf_counter()
        test_scores = system.scores(split.test.tickets)
        result.throughput = len(split.test.tickets) / (time.perf_counter() - started)
        for head in split.heads:
            classes, scores = test_scores[head]
            result.heads[head] = head_metrics(
                classes,
                split.test.labels[head],
                scores,
                (np.array(split.validation.labels[head]), val_scores[head][1]),
                TARGETS.get((split.name, head)),
                resamples,
                cls.probabilistic,
            )
        result.size = system.save(workdir / "artifact")
        step = max(1, len(split.test.tickets) // args.latency_n)
        result.latency_us = latencies(system, split.test.tickets[::step][: args.latency_n])
        script = system.cold_start_script(workdir / "artifact")
        result.cold_start = cold_start(script, args.cold_runs)
        per_repo(system, split, result, test_scores)
        result.notes = system.notes
    except Exception as exc:  # a broken contender must not cost the other results
        traceback.print_exc()
        result.status = f"failed: {type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def _list(text: str, allowed: tuple[str, ...] | list[str]) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown: {', '.join(unknown)} (choose from {', '.join(allowed)})"
        )
    return names


def main(argv: list[str] | None = None) -> int:
    """Measure, print and write the report; 1 when a system failed (the others still report)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets",
        type=lambda s: _list(s, DATASETS),
        default=[d for d in DATASETS if dataset_dir(d).is_dir()],  # banking77 may be missing
    )
    parser.add_argument("--systems", type=lambda s: _list(s, list(SYSTEMS)), default=list(SYSTEMS))
    parser.add_argument("--limit", type=int, help="use at most N rows of each data file")
    parser.add_argument("--latency-n", type=int, default=500, help="tickets timed one by one")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold starts (median taken)")
    parser.add_argument(
        "--naive-features",
        type=int,
        default=2**20,
        help="hashed features of the naive pipelines (default as specified; smaller only to "
        "make smoke tests fast)",
    )
    parser.add_argument("--markdown", type=Path, help="also write the report here")
    parser.add_argument("--plots", type=Path, help="write the PNG plots into this directory")
    parser.add_argument("--results", type=Path, help="keep the section here for assemble.py")
    args = parser.parse_args(argv)
    command = "python benchmarks/compare.py" + "".join(f" {a}" for a in (argv or sys.argv[1:]))
    started = time.perf_counter()
    all_results: dict[str, list[Result]] = {}
    body: list[str] = []
    for dataset in args.datasets:
        split = load_split(dataset, args.limit)
        rng = np.random.default_rng(0)
        resamples = rng.integers(
            0, len(split.test.tickets), (args.bootstrap, len(split.test.tickets))
        )
        results = []
        for name in args.systems:
            if (dataset, name) in NOT_RUN:
                results.append(Result(system=name, status=NOT_RUN[dataset, name]))
                continue
            print(f"{dataset}: {name} ...", file=sys.stderr, end=" ", flush=True)
            begun = time.perf_counter()
            results.append(measure(name, split, resamples, args))
            print(f"{time.perf_counter() - begun:.0f} s", file=sys.stderr, flush=True)
        all_results[dataset] = results
        body += dataset_tables(split, results, TARGETS)
        body += nlbse_table(results)
    elapsed = time.perf_counter() - started
    skipped = [SYSTEMS[n].title for n in SYSTEMS if n not in args.systems]
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}; {versions()}.",
        "",
        f"Command: `{command}` (whole run {elapsed / 60:.1f} min).",
        "",
        *([f"Not run (left out by --systems): {', '.join(skipped)}.", ""] if skipped else []),
        *(
            [
                f"The naive pipelines hash to {args.naive_features} features, not 2**20: a smoke "
                "test's setting, not the naive baseline's numbers.",
                "",
            ]
            if args.naive_features != 2**20
            else []
        ),
        *PROTOCOL,
        "",
        *body,
    ]
    if args.plots:
        written = plots(all_results, args.plots)
        lines += [f"![{p.stem.replace('_', ' ')}]({p.as_posix()})\n" for p in written]
    text = "\n".join(lines)
    print(text)
    publish(args.results, "compare", text, issue_targets(all_results))
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text + "\n")
    failed = any(r.status.startswith("failed") for rs in all_results.values() for r in rs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
