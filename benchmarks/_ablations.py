"""The option grid of ``quality.py --ablations``: what each training default scored against its
alternatives, on the same held-out rows.

Columns: argmax macro-F1 / ECE of support_tickets_sample urgency and topic (its held-out 20%),
NLBSE'24 topic on the official test split (one model on all of train.csv) and in the NLBSE'24
protocol (a model per repository on its 300 training issues, mean macro-F1 over the five), and
banking77 (77 intents, official split; only for the rows that change the text features, where
short requests can tell anything: it takes a minute a fit); then the recall of ``high`` at the
precision target and the fitting time of both support heads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import f1_score

from quality import _splits, _subset, dataset_dir, ours
from ticket_triage.training.config import TrainConfig
from ticket_triage.training.data import Tickets, read_tickets

#: Issue 13's directions first (the blocks and their weights), then the older choices again.
ABLATIONS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "the defaults before issue 13 (word n-grams, plain LinearSVC, C=2)": {
        "char_ngram_range": None,
        "subject_weight": None,
        "nb_scaling": False,
        "C": 2.0,
    },
    "word n-grams only (no char or subject block)": {
        "char_ngram_range": None,
        "subject_weight": None,
    },
    "no char block": {"char_ngram_range": None},
    "no subject block": {"subject_weight": None},
    "char_wb 3-5": {"char_ngram_range": (3, 5)},
    "char_wb 2-4": {"char_ngram_range": (2, 4)},
    "char_wb 1-5": {"char_ngram_range": (1, 5)},
    "char_weight=0.5": {"char_weight": 0.5},
    "char_weight=1": {"char_weight": 1.0},
    "char n-grams of every word (char_max_words=null)": {"char_max_words": None},
    "char_max_words=64": {"char_max_words": 64},
    "char_max_words=256": {"char_max_words": 256},
    "char_n_features=2**18": {"char_n_features": 2**18},
    "char_n_features=2**20": {"char_n_features": 2**20},
    "subject_weight=0.3": {"subject_weight": 0.3},
    "subject_weight=0.7": {"subject_weight": 0.7},
    "subject_weight=1": {"subject_weight": 1.0},
    "no naive-Bayes scaling (plain LinearSVC)": {"nb_scaling": False},
    "no naive-Bayes scaling, C=2 (as before issue 13)": {"nb_scaling": False, "C": 2.0},
    "C=0.5": {"C": 0.5},
    "C=2": {"C": 2.0},
    "C=4": {"C": 4.0},
    "calibration=sigmoid": {"calibration": "sigmoid"},
    "n_features=2**18": {"n_features": 2**18},
    "no idf (sublinear tf only)": {"use_idf": False},
    "plain L2 counts (no tf-idf)": {"use_idf": False, "sublinear_tf": False},
    "scikit-learn's default token pattern": {"token_pattern": r"(?u)\b\w\w+\b"},
    "--resample": {"resample": True},
    "--augment": {"augment": True},
    "tokenizer=spacy": {"tokenizer": "spacy"},
    "metadata: language": {"metadata": ["language"]},
}

#: The rows banking77 is fitted for: those that change how short text becomes features (it has no
#: subject, so the subject rows would repeat the defaults).
SHORT_TEXT_ROWS = (
    "defaults",
    "the defaults before issue 13 (word n-grams, plain LinearSVC, C=2)",
    "word n-grams only (no char or subject block)",
    "no naive-Bayes scaling (plain LinearSVC)",
    "char_wb 3-5",
    "char_wb 2-4",
    "char_wb 1-5",
    "char_weight=0.5",
    "char_weight=1",
)


def per_repository() -> list[tuple[Tickets, Tickets]]:
    """NLBSE'24's protocol: per repository, its train.csv rows and its test.csv rows."""
    folder = dataset_dir("github_issues_nlbse24")
    train, test = (
        read_tickets(folder / "train.csv", ["repo"]),
        read_tickets(folder / "test.csv", ["repo"]),
    )
    pairs = []
    train_repos = [t["metadata"].pop("repo") for t in train.tickets]  # it groups; not a feature
    test_repos = [t["metadata"].pop("repo") for t in test.tickets]
    for repo in sorted(set(test_repos)):
        pairs.append(
            (
                _subset(train, np.array([i for i, r in enumerate(train_repos) if r == repo])),
                _subset(test, np.array([i for i, r in enumerate(test_repos) if r == repo])),
            )
        )
    return pairs


def _cell(metrics: dict[str, Any] | None) -> str:
    if not metrics:
        return "n/a"
    return f"{metrics['argmax']['macro_f1']:.3f} / {metrics['ece']:.3f}"


def ablations(splits: dict[str, tuple[Tickets, Tickets]]) -> list[str]:
    """The grid as markdown lines, one row per option."""
    repositories = per_repository()
    banking = "banking77" in splits
    lines = [
        "| option | support urgency F1 / ECE | support topic F1 / ECE | NLBSE official test "
        "F1 / ECE | NLBSE per-repository mean F1 | banking77 F1 / ECE | support high recall @ "
        "precision target | support fit (both heads) |",
        "|---|" + "---:|" * 7,
    ]
    for option, overrides in ABLATIONS.items():
        config = TrainConfig(**overrides)
        # Metadata columns change what is read, so that option re-reads the files it applies to.
        data = _splits(overrides["metadata"]) if "metadata" in overrides else splits
        support, seconds, _ = ours(*data["support_tickets_sample"], config)
        cells = [_cell(support["heads"].get(head)) for head in ("urgency", "topic")]
        nlbse = "github_issues_nlbse24" in data
        cells.append(
            _cell(ours(*data["github_issues_nlbse24"], config)[0]["heads"]["topic"])
            if nlbse
            else "n/a"
        )
        if nlbse:
            repo_f1 = [
                ours(train, test, config)[0]["heads"]["topic"]["argmax"]["macro_f1"]
                for train, test in repositories
            ]
            cells.append(f"{np.mean(repo_f1):.3f}")
        else:
            cells.append("n/a")
        if banking and option in SHORT_TEXT_ROWS:
            cells.append(_cell(ours(*splits["banking77"], config)[0]["heads"]["topic"]))
        else:
            cells.append("not run")
        target = support["heads"]["urgency"]["target"]
        cells.append(f"{target['recall']:.3f} (precision {target['precision']:.2f})")
        cells.append(f"{seconds:.1f} s")
        lines.append(f"| {option} | " + " | ".join(cells) + " |")
    return lines


def linear_models(splits: dict[str, tuple[Tickets, Tickets]]) -> list[str]:
    """LinearSVC vs LogisticRegression on the same shared TF-IDF features: F1 and fit time."""
    import time

    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    from ticket_triage.training.fitting import combined_texts, feature_config
    from ticket_triage.training.in_memory import fit

    lines = [
        "| head | LinearSVC macro-F1 | fit | LogisticRegression macro-F1 | fit |",
        "|---|---:|---:|---:|---:|",
    ]
    for dataset, head in [
        ("support_tickets_sample", "urgency"),
        ("support_tickets_sample", "topic"),
        ("github_issues_nlbse24", "topic"),
    ]:
        train_set, test_set = splits[dataset]
        config = TrainConfig(targets={})
        features = feature_config(config)
        texts = combined_texts(train_set.tickets, features)
        labels = {head: np.array(train_set.labels[head], dtype=object)}
        fitted = fit(texts, labels, config)  # featuriser as trained
        x_train = fitted.transform(texts)
        x_test = fitted.transform(combined_texts(test_set.tickets, features))
        cells = []
        for model in (
            LinearSVC(C=config.C, class_weight="balanced"),  # both at the shipped regularisation
            LogisticRegression(C=config.C, class_weight="balanced", max_iter=2000),
        ):
            started = time.perf_counter()
            model.fit(x_train, train_set.labels[head])
            seconds = time.perf_counter() - started
            score = f1_score(test_set.labels[head], model.predict(x_test), average="macro")
            cells += [f"{score:.3f}", f"{seconds:.1f} s"]
        lines.append(f"| {dataset} {head} | " + " | ".join(cells) + " |")
    return lines
