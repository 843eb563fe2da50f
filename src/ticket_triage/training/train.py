"""Fit every head on one shared hashed feature matrix and write a self-describing artifact.

What happens, in order (``triage train DATA --out DIR``):

1. Read DATA (:mod:`ticket_triage.training.data`), combine each ticket's fields into one string.
2. Hold out ``test_size`` of the rows (stratified on the joint labels) for the report only.
3. Hash 1-2-grams once (``HashingVectorizer(alternate_sign=False, norm=None)``) and weigh them with
   sublinear TF-IDF learned on the training rows: one matrix for every head.
4. Per head: ``LinearSVC(class_weight="balanced")`` on stratified folds gives out-of-fold
   decision scores, computed once; a calibrator (temperature scaling by default) is fitted on them
   and one final LinearSVC on all rows: what ``CalibratedClassifierCV(..., ensemble=False)`` does,
   one linear model and not an ensemble of five, so the artifact stays small. The same scores,
   calibrated, are the out-of-fold probabilities the thresholds are tuned on: the ``high`` urgency
   threshold for its precision target and the per-class review thresholds. The held-out rows of
   step 2 are never used for tuning. Six solver runs per head (five folds and the final fit).
5. Write ``model.json`` + ``weights.npz``, load them back through the numpy inference core (the
   code that will serve), evaluate that on the held-out rows, write ``metrics.json`` and
   ``report.html``, seal the manifest, and move the finished directory into place.

With ``--streaming`` (``streaming = true`` in a config file; never chosen automatically) steps
1-4 run out of core instead, in bounded memory, for files too large for this path (100,000 long
tickets take about 1 GB and two minutes here, a million would not fit the 10-minute, 4 GB budget;
streaming trains a million in about three minutes within 1.4 GB: ``benchmarks/scale.py``). See
:mod:`ticket_triage.training.streaming`. Step 5 and the artifact are the same.

Why LinearSVC and not LogisticRegression: on the shared datasets it is as accurate or better and
15-40 times faster to fit on 2**20 hashed features (README, "How the defaults were chosen").
"""

from __future__ import annotations

import hashlib
import json
import platform
import random
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.model_selection import (
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_val_predict,
    train_test_split,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer
from sklearn.svm import LinearSVC

from ticket_triage import __version__
from ticket_triage.core.artifact import check_target, publish, seal, write_artifact
from ticket_triage.core.errors import DataError
from ticket_triage.core.features import FeatureConfig
from ticket_triage.core.model import Calibration, TriageModel, calibrate, decide
from ticket_triage.core.text import combine_fields
from ticket_triage.core.thresholds import TargetResult, auto_thresholds, target_threshold
from ticket_triage.training.config import TrainConfig
from ticket_triage.training.data import Tickets, read_tickets

__all__ = [
    "FittedHead",
    "FittedModel",
    "TrainResult",
    "build_artifact",
    "calibrated_from_scores",
    "calibration_of",
    "combined_texts",
    "feature_config",
    "fit",
    "split_rows",
    "train",
    "tune_thresholds",
    "tuned_head",
]

Progress = Callable[[str], None]


@dataclass
class FittedHead:
    """One trained head: the scikit-learn estimator and what the artifact keeps of it."""

    name: str
    classes: list[str]
    estimator: CalibratedClassifierCV
    calibration: Calibration
    target: dict[str, Any] | None
    review_thresholds: list[float | None]
    oof_proba: np.ndarray = field(repr=False)
    oof_true: np.ndarray = field(repr=False)


@dataclass
class FittedModel:
    """Everything :func:`fit` learned; :meth:`pipeline` rebuilds a head as one sklearn object."""

    features: FeatureConfig
    hasher: HashingVectorizer
    weighting: TfidfTransformer | Normalizer  # sublinear TF-IDF, or plain L2 of the counts
    heads: list[FittedHead]
    seen: np.ndarray = field(repr=False)  # features that occur in the training rows

    def pipeline(self, head: str) -> Pipeline:
        """The head as a scikit-learn pipeline on combined text (the parity reference)."""
        fitted = next(h for h in self.heads if h.name == head)
        return Pipeline(
            [("hash", self.hasher), ("weigh", self.weighting), ("head", fitted.estimator)]
        )

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The weighted feature matrix every head reads."""
        return self.weighting.transform(self.hasher.transform(texts))


@dataclass(frozen=True)
class TrainResult:
    """What ``triage train`` reports: where the artifact went and its held-out metrics."""

    out: Path
    metrics: dict[str, Any]
    warnings: list[str]


def combined_texts(tickets: Sequence[dict[str, Any]], features: FeatureConfig) -> list[str]:
    """Each ticket's combined text, exactly as :class:`TriageModel` builds it."""
    texts = [combine_fields(t["subject"], t["body"], t.get("metadata")) for t in tickets]
    if features.tokenizer == "spacy":
        from ticket_triage.core.spacy_cleanup import spacy_clean

        texts = [spacy_clean(text) for text in texts]
    return texts


def split_rows(labels: dict[str, list[str]], test_size: float, seed: int) -> tuple[np.ndarray, ...]:
    """Stratified train/test row indices on the joint labels; rare combinations pooled."""
    n = len(next(iter(labels.values())))
    n_test = int(np.ceil(n * test_size))
    if n - n_test < 2 or n_test < 1:
        raise DataError(
            f"only {n} labelled rows: too few to hold out {test_size:.0%} for evaluation "
            "and still train"
        )
    joint = ["|".join(values[i] for values in labels.values()) for i in range(n)]
    counts = Counter(joint)
    strata = [key if counts[key] >= 2 else "(rare)" for key in joint]
    if Counter(strata)["(rare)"] == 1:
        strata = [counts.most_common(1)[0][0] if s == "(rare)" else s for s in strata]
    rows = np.arange(n)
    # Stratify when every stratum can be split; with fewer test rows than strata, split at random.
    stratify = strata if n_test >= len(set(strata)) and n - n_test >= len(set(strata)) else None
    train_rows, test_rows = train_test_split(
        rows, test_size=test_size, random_state=seed, stratify=stratify
    )
    return np.sort(train_rows), np.sort(test_rows)


def _perturb(text: str, rng: random.Random) -> str:
    """A plausible rewording for augmentation: drop ~15% of words and swap one adjacent pair."""
    words = text.split()
    kept = [w for w in words if rng.random() > 0.15 or ":" in w] or words
    if len(kept) > 2:
        i = rng.randrange(len(kept) - 1)
        kept[i], kept[i + 1] = kept[i + 1], kept[i]
    return " ".join(kept)


def _check_classes(head: str, y: np.ndarray, folds: int) -> None:
    counts = Counter(y.tolist())
    if len(counts) < 2:
        only = next(iter(counts), "")
        raise DataError(f"head {head!r}: only one class ({only!r}); a head needs at least two")
    for label, count in sorted(counts.items(), key=lambda item: item[1]):
        if count < folds:
            raise DataError(
                f"head {head!r}: class {label!r} has {count} training examples; at least "
                f"{folds} are needed (one per calibration fold): add examples or drop the class"
            )


def _folds(y: np.ndarray, groups: np.ndarray, config: TrainConfig) -> list[tuple[Any, Any]]:
    """Stratified folds, fixed once so calibration and threshold tuning see the same ones.

    With augmentation, a ticket and its perturbed copies form a group that never straddles a
    train/validation boundary: otherwise a copy in training would make its original look easy.
    """
    rows = np.zeros(len(y))
    if config.augment:
        grouped = StratifiedGroupKFold(config.cv_folds, shuffle=True, random_state=config.seed)
        return list(grouped.split(rows, y, groups))
    plain = StratifiedKFold(config.cv_folds, shuffle=True, random_state=config.seed)
    return list(plain.split(rows, y))


def tune_thresholds(
    name: str, classes: list[str], proba: np.ndarray, y_index: np.ndarray, config: TrainConfig
) -> tuple[dict[str, Any] | None, list[float | None]]:
    """The target threshold (if the head has a target) and the per-class review thresholds."""
    target = None
    target_index = None
    target_result: TargetResult | None = None
    wanted = config.targets.get(name)
    if wanted is not None:
        if wanted.label not in classes:
            raise DataError(
                f"head {name!r}: target class {wanted.label!r} is not in the data "
                f"(classes: {', '.join(classes)})"
            )
        target_index = classes.index(wanted.label)
        target_result = target_threshold(
            proba[:, target_index],
            y_index == target_index,
            wanted.min_precision,
            config.min_support,
            wanted.confidence,
        )
        target = {"class": wanted.label, "min_precision": wanted.min_precision}
        target.update(target_result.to_json())
    decided = decide(proba, target_index, target_result.threshold if target_result else np.inf)
    review = auto_thresholds(
        proba,
        decided,
        y_index,
        min_precision=config.review.min_precision,
        coverage=config.review.coverage,
        min_support=config.min_support,
    )
    return target, review


def _fit_head(
    name: str,
    matrix: sp.csr_matrix,
    texts: list[str],
    y: np.ndarray,
    model: FittedModel,
    config: TrainConfig,
) -> FittedHead:
    """Fit one calibrated head and tune its thresholds on out-of-fold probabilities."""
    rng = random.Random(config.seed)
    classes = sorted(set(y.tolist()))
    groups = np.arange(len(y))
    original = np.ones(len(y), dtype=bool)
    if config.augment:
        counts = Counter(y.tolist())
        largest = max(counts.values())
        extra = [i for i in range(len(y)) if counts[y[i]] * 2 <= largest]
        if extra:
            added = model.transform([_perturb(texts[i], rng) for i in extra])
            matrix = sp.vstack([matrix, added], format="csr")
            y = np.concatenate([y, y[extra]])
            groups = np.concatenate([groups, groups[extra]])
            original = np.concatenate([original, np.zeros(len(extra), dtype=bool)])
    weights = None
    if config.resample:
        counts = Counter(y.tolist())
        largest = max(counts.values())
        weights = np.ones(len(y))
        generator = np.random.default_rng(config.seed)
        for label, count in counts.items():
            draws = generator.choice(np.flatnonzero(y == label), largest - count)
            weights += np.bincount(draws, minlength=len(y))
    folds = _folds(y, groups, config)
    svm = LinearSVC(C=config.C, class_weight="balanced", random_state=config.seed)
    params = None if weights is None else {"sample_weight": weights}
    oof = cross_val_predict(svm, matrix, y, cv=folds, method="decision_function", params=params)
    oof = oof.reshape(len(y), -1)
    final = clone(svm).fit(matrix, y, **(params or {}))
    estimator = calibrated_from_scores(final, oof, y, config.calibration, weights)
    # Thresholds are tuned on the real tickets only, never on augmented copies.
    return tuned_head(name, classes, estimator, oof[original], y[original], config)


def tuned_head(
    name: str,
    classes: list[str],
    estimator: CalibratedClassifierCV,
    scores: np.ndarray,
    y: np.ndarray,
    config: TrainConfig,
) -> FittedHead:
    """A fitted head whose thresholds are tuned on held-out ``scores`` and true labels ``y``
    (out-of-fold scores in memory, the calibration share when streaming)."""
    calibration = calibration_of(estimator)
    proba = calibrate(scores, calibration, len(classes))
    y_index = np.searchsorted(classes, y)
    target, review = tune_thresholds(name, classes, proba, y_index, config)
    return FittedHead(
        name=name,
        classes=classes,
        estimator=estimator,
        calibration=calibration,
        target=target,
        review_thresholds=review,
        oof_proba=proba,
        oof_true=y_index,
    )


def calibrated_from_scores(
    linear: Any,
    scores: np.ndarray,
    y: np.ndarray,
    method: str,
    sample_weight: np.ndarray | None = None,
) -> CalibratedClassifierCV:
    """``linear`` with a calibrator fitted on ``scores`` (out-of-fold decision values).

    This is what ``CalibratedClassifierCV(linear, cv=folds, ensemble=False).fit`` builds, step for
    step (the same out-of-fold scores, the same calibrator fit, so the same numbers), except that
    the caller computes the scores once and reuses them for the thresholds: ``fit`` would compute
    them a second time, five more solver runs per head (issue 5). The calibrator fit is
    scikit-learn's own private ``_fit_calibrator`` (version pinned in ``uv.lock``); a parity test
    checks the result against the numpy core.
    """
    from sklearn.calibration import _fit_calibrator

    estimator = CalibratedClassifierCV(linear, method=method, ensemble=False)
    estimator.classes_ = np.asarray(linear.classes_)
    # Temperature scaling wants encoded labels, the per-class sigmoids the labels themselves.
    target = np.searchsorted(estimator.classes_, y) if method == "temperature" else y
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=scores.dtype)
    estimator.calibrated_classifiers_ = [
        _fit_calibrator(
            linear, scores, target, estimator.classes_, method, xp=np, sample_weight=weights
        )
    ]
    estimator.n_features_in_ = linear.n_features_in_
    return estimator


def calibration_of(estimator: CalibratedClassifierCV) -> Calibration:
    """The calibrator's parameters, in the form the numpy core applies."""
    calibrators = estimator.calibrated_classifiers_[0].calibrators
    if estimator.method == "temperature":
        return Calibration("temperature", beta=float(calibrators[0].beta_))
    return Calibration(
        "sigmoid",
        a=tuple(float(c.a_) for c in calibrators),
        b=tuple(float(c.b_) for c in calibrators),
    )


def feature_config(config: TrainConfig) -> FeatureConfig:
    """The featuriser the training options describe (the artifact records it)."""
    return FeatureConfig(
        n_features=config.n_features,
        ngram_range=(1, config.ngram_max),
        token_pattern=config.token_pattern,
        sublinear_tf=config.sublinear_tf,
        use_idf=config.use_idf,
        tokenizer=config.tokenizer,
    )


def hasher_of(features: FeatureConfig) -> HashingVectorizer:
    """The scikit-learn hasher of these features: raw counts (``norm=None``), the weighting
    comes after; no lower-casing, :func:`~ticket_triage.core.text.clean_text` has done it."""
    return HashingVectorizer(
        n_features=features.n_features,
        ngram_range=features.ngram_range,
        token_pattern=features.token_pattern,
        lowercase=False,
        alternate_sign=False,
        norm=None,
    )


def fit(
    texts: list[str],
    labels: dict[str, np.ndarray],
    config: TrainConfig,
    progress: Progress | None = None,
) -> FittedModel:
    """Fit the shared featuriser and every head on combined texts.

    Parameters
    ----------
    texts : list of str
        Combined ticket texts (:func:`combined_texts`).
    labels : dict of str to ndarray of str
        Per head, one label per text; ``""`` means not labelled for that head.
    config : TrainConfig
    progress : callable, optional
        Called with the name of each step as it starts.
    """
    step = progress or (lambda _: None)
    features = feature_config(config)
    step("hashing n-grams")
    hasher = hasher_of(features)
    counts = hasher.transform(texts)
    document_frequency = np.bincount(counts.indices, minlength=features.n_features)
    seen = np.flatnonzero(document_frequency)
    weighting: TfidfTransformer | Normalizer = Normalizer()
    if config.sublinear_tf or config.use_idf:
        tfidf = TfidfTransformer(sublinear_tf=config.sublinear_tf, use_idf=config.use_idf)
        weighting = tfidf.fit(counts)
        if config.use_idf:
            # An n-gram never seen in training gets weight 0, as out-of-vocabulary words do in
            # TfidfVectorizer. Left at the maximum idf it would only inflate a ticket's L2 norm and
            # shrink its known n-grams toward the class priors: measured, -0.02 topic macro-F1 on
            # support_tickets_sample.
            tfidf.idf_ = np.where(document_frequency > 0, tfidf.idf_, 0.0)
    model = FittedModel(features, hasher, weighting, [], seen)
    matrix = weighting.transform(counts)
    for name, values in labels.items():
        step(f"fitting head {name!r} ({config.cv_folds}-fold calibration)")
        rows = np.flatnonzero(values != "")
        if len(rows) == 0:
            raise DataError(f"head {name!r}: no labelled rows left for training after the split")
        y = values[rows]
        _check_classes(name, y, config.cv_folds)
        # Every row labelled (the usual case): the shared matrix itself, not a copy per head.
        everything = len(rows) == matrix.shape[0]
        head_matrix = matrix if everything else matrix[rows]
        head_texts = texts if everything else [texts[i] for i in rows]
        model.heads.append(_fit_head(name, head_matrix, head_texts, y, model, config))
    return model


def artifact_contents(
    model: FittedModel, config: TrainConfig, training: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``model.json`` and ``weights.npz`` contents: only the rows inference can touch."""
    blocks, heads, start = [], [], 0
    for head in model.heads:
        linear = head.estimator.calibrated_classifiers_[0].estimator
        coef = np.atleast_2d(linear.coef_)
        blocks.append((coef, np.atleast_1d(linear.intercept_)))
        stop = start + coef.shape[0]
        heads.append(
            {
                "name": head.name,
                "classes": head.classes,
                "columns": [start, stop],
                "calibration": head.calibration.to_json(),
                "target": head.target,
                "review": {
                    "rule": config.review.model_dump(exclude_none=True),
                    "thresholds": dict(zip(head.classes, head.review_thresholds, strict=True)),
                },
            }
        )
        start = stop
    coef = np.vstack([block[0] for block in blocks])  # (columns, n_features)
    intercept = np.concatenate([block[1] for block in blocks])
    used = np.flatnonzero(np.any(coef != 0, axis=0))
    rows = np.union1d(used, model.seen).astype(np.int32)
    arrays = {
        "rows": rows,
        "coef": np.ascontiguousarray(coef[:, rows].T, dtype=np.float32),
        "intercept": intercept.astype(np.float32),
    }
    meta: dict[str, Any] = {
        "features": model.features.to_json(),
        "heads": heads,
        "metadata": training.get("metadata_columns", []),
        "training": training,
        "libraries": {
            name: package_version(name) for name in ("numpy", "scikit-learn", "scipy", "mmh3")
        }
        | {"python": platform.python_version(), "ticket-triage": __version__},
    }
    if model.features.use_idf:
        arrays["idf"] = model.weighting.idf_[rows].astype(np.float32)
        meta["idf_default"] = 0.0  # unseen n-grams are ignored (see fit)
    digest = hashlib.sha256(arrays["coef"].tobytes()).hexdigest()[:8]
    meta["version"] = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{digest}"
    return meta, arrays


def train(
    data: Path,
    out: Path,
    config: TrainConfig,
    progress: Progress | None = None,
) -> TrainResult:
    """Train from a data file, evaluate on held-out rows, and publish the artifact to ``out``.

    Raises
    ------
    DataError
        The file breaks the data contract or a head cannot be trained (one class, a class too
        small for the folds).
    """
    step = progress or (lambda _: None)
    check_target(out)
    if config.streaming:
        return _train_streaming(data, out, config, step)
    step("reading data")
    tickets = read_tickets(data, config.metadata)
    features = FeatureConfig(tokenizer=config.tokenizer)
    texts = combined_texts(tickets.tickets, features)
    labels = {head: np.array(values, dtype=object) for head, values in tickets.labels.items()}
    labels = {head: values for head, values in labels.items() if (values != "").any()}
    if not labels:
        raise DataError(f"{data}: every label is empty")
    try:
        train_rows, test_rows = split_rows(
            {h: list(v) for h, v in labels.items()}, config.test_size, config.seed
        )
        fitted = fit(
            [texts[i] for i in train_rows],
            {head: values[train_rows] for head, values in labels.items()},
            config,
            step,
        )
    except DataError as exc:
        raise DataError(f"{data}: {exc}") from exc
    training = {
        "data": data.name,
        "data_sha256": tickets.sha256,
        "n_rows": len(tickets.tickets),
        "n_train": len(train_rows),
        "n_test": len(test_rows),
        "metadata_columns": tickets.metadata_columns,
        "config": config.model_dump(mode="json", by_alias=True),
    }
    held_out = Tickets(
        path=data,
        tickets=[tickets.tickets[i] for i in test_rows],
        labels={head: [str(v) for v in values[test_rows]] for head, values in labels.items()},
        metadata_columns=tickets.metadata_columns,
        sha256=tickets.sha256,
        n_dropped=0,
    )
    del tickets, texts  # the held-out rows are all that is still needed
    return _publish(fitted, config, training, held_out, out, step)


def _train_streaming(data: Path, out: Path, config: TrainConfig, step: Progress) -> TrainResult:
    """:func:`train` out of core: :mod:`~ticket_triage.training.streaming`."""
    from ticket_triage.training.streaming import fit_streaming, held_out_tickets

    try:
        fitted, streamed = fit_streaming(data, config, step)
    except DataError as exc:
        raise DataError(f"{data}: {exc}") from exc
    training = {
        "data": data.name,
        "data_sha256": streamed.sha256,
        "n_rows": streamed.n_rows,
        "n_train": streamed.n_train,
        "n_calibration": streamed.n_calibration,
        "n_test": len(streamed.held_out),
        "metadata_columns": streamed.metadata_columns,
        "config": config.model_dump(mode="json", by_alias=True),
    }
    return _publish(fitted, config, training, held_out_tickets(data, streamed), out, step)


def _publish(
    fitted: FittedModel,
    config: TrainConfig,
    training: dict[str, Any],
    held_out: Tickets,
    out: Path,
    step: Progress,
) -> TrainResult:
    """Write the artifact, evaluate it on ``held_out``, write the report, seal, move into place."""
    from ticket_triage.training.evaluate import evaluate
    from ticket_triage.training.report import write_report

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        model = build_artifact(fitted, config, training, staging)
        step("evaluating on held-out rows")
        metrics, evals, warnings = evaluate(model, held_out, description="held-out split")
        step("writing report")
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        write_report(staging / "report.html", metrics, evals)
        seal(staging)
        publish(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return TrainResult(out=out, metrics=metrics, warnings=warnings)


def build_artifact(
    fitted: FittedModel, config: TrainConfig, training: dict[str, Any], directory: Path
) -> TriageModel:
    """Write and seal the artifact of ``fitted`` into ``directory``, then load it back.

    Loading through :class:`TriageModel` is the point: whatever is evaluated next is the numpy
    code that will serve, reading the bytes that will ship.
    """
    meta, arrays = artifact_contents(fitted, config, training)
    write_artifact(directory, meta, arrays)
    seal(directory)
    return TriageModel.load(directory)
