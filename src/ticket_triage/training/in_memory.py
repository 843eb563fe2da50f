"""In-memory training: one hashed matrix, out-of-fold scores, a LinearSVC per head.

Steps two to four of ``triage train`` (:mod:`~ticket_triage.training.train` reads the file
before and writes the artifact after):

2. Hold out ``test_size`` of the rows (stratified on the joint labels, :func:`split_rows`) for the
   report only.
3. Hash 1-2-grams once (``HashingVectorizer(alternate_sign=False, norm=None)``) and weigh them with
   sublinear TF-IDF learned on the training rows: one matrix for every head.
4. Per head: ``LinearSVC(class_weight="balanced")``, by default per class on naive-Bayes-scaled
   features (:mod:`~ticket_triage.training.nbsvm`), on stratified folds gives out-of-fold
   decision scores, computed once; a calibrator (temperature scaling by default) is fitted on them
   and one final LinearSVC on all rows: what ``CalibratedClassifierCV(..., ensemble=False)`` does,
   one linear model and not an ensemble of five, so the artifact stays small. The same scores,
   calibrated, are the out-of-fold probabilities the thresholds are tuned on: the ``high`` urgency
   threshold for its precision target and the per-class review thresholds. The held-out rows of
   step 2 are never used for tuning. Six solver runs per head (five folds and the final fit).

Why LinearSVC and not LogisticRegression: on the shared datasets it is as accurate or better and
15-40 times faster to fit on 2**20 hashed features (README, "How the defaults were chosen").
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.model_selection import (
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_val_predict,
    train_test_split,
)
from sklearn.svm import LinearSVC

from ticket_triage.core.errors import DataError
from ticket_triage.core.features import FeatureConfig, Featurizer
from ticket_triage.core.text import SUBJECT_MARK
from ticket_triage.training.blocks import BlockHasher, BlockWeighting
from ticket_triage.training.config import TrainConfig
from ticket_triage.training.fitting import (
    FittedHead,
    FittedModel,
    Progress,
    calibrated_from_scores,
    feature_config,
    hasher_of,
    tuned_head,
)
from ticket_triage.training.nbsvm import NBLinearSVC

__all__ = ["fit", "split_rows"]


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
    """A plausible rewording for augmentation: drop ~15% of words and swap one adjacent pair
    (in the subject and the rest apart, so a marked subject stays marked)."""
    return SUBJECT_MARK.join(_reworded(part, rng) for part in text.split(SUBJECT_MARK))


def _reworded(text: str, rng: random.Random) -> str:
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
    svm: LinearSVC | NBLinearSVC = LinearSVC(
        C=config.C, class_weight="balanced", random_state=config.seed
    )
    if config.nb_scaling:
        svm = NBLinearSVC(C=config.C, random_state=config.seed)
    params = None if weights is None else {"sample_weight": weights}
    oof = cross_val_predict(svm, matrix, y, cv=folds, method="decision_function", params=params)
    oof = oof.reshape(len(y), -1)
    final = clone(svm).fit(matrix, y, **(params or {}))
    estimator = calibrated_from_scores(final, oof, y, config.calibration, weights)
    # Thresholds are tuned on the real tickets only, never on augmented copies.
    return tuned_head(name, classes, estimator, oof[original], y[original], config)


def _counts(texts: list[str], features: FeatureConfig, hasher: BlockHasher) -> sp.csr_matrix:
    """The raw hashed counts of ``texts``: from the compiled featuriser where it serves these
    features (the bytes of ``hasher``, tested on every shared ticket, and four times faster than
    scikit-learn's Python char n-grams), else from ``hasher`` itself."""
    featurize = Featurizer(features)
    if not featurize.compiled:
        return hasher.transform(texts)
    rows = featurize(texts)
    return sp.csr_matrix(
        (rows.counts, rows.indices, rows.indptr), shape=(len(texts), features.width)
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
    counts = _counts(texts, features, hasher)
    seen = np.flatnonzero(np.bincount(counts.indices, minlength=features.width))
    weighting = BlockWeighting(features).fit(counts)  # unseen n-grams: idf 0 (see there)
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
