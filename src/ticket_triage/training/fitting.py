"""What in-memory and streaming training share: the fitted model's form, calibration from
held-out scores, and threshold tuning.

Both paths (:mod:`~ticket_triage.training.in_memory`, :mod:`~ticket_triage.training.streaming`)
hash texts the same way (:func:`hasher_of`, the bytes the inference core's featuriser gives), fit
a linear model per head, and hand held-out decision scores to :func:`tuned_head`: out-of-fold
scores in memory, the calibration share when streaming. That fits the calibrator
(:func:`calibrated_from_scores`) and tunes the target and review thresholds on the calibrated
probabilities (:func:`tune_thresholds`). The result is a :class:`FittedModel`, which
:mod:`~ticket_triage.training.train` writes as the artifact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import Pipeline

from ticket_triage.core.decisions import decide
from ticket_triage.core.errors import DataError
from ticket_triage.core.features import FeatureConfig
from ticket_triage.core.heads import Calibration, calibrate
from ticket_triage.core.text import combine_fields
from ticket_triage.core.thresholds import TargetResult, auto_thresholds, target_threshold
from ticket_triage.training.blocks import BlockHasher, BlockWeighting
from ticket_triage.training.config import TrainConfig

__all__ = [
    "FittedHead",
    "FittedModel",
    "Progress",
    "calibrated_from_scores",
    "calibration_of",
    "combined_texts",
    "feature_config",
    "hasher_of",
    "tune_thresholds",
    "tuned_head",
]

#: Called with the name of each training step as it starts (the CLI's progress display).
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
    hasher: BlockHasher
    weighting: BlockWeighting  # per block: sublinear TF-IDF (or less), L2, the block's weight
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


def combined_texts(tickets: Sequence[dict[str, Any]], features: FeatureConfig) -> list[str]:
    """Each ticket's combined text, exactly as :class:`TriageModel` builds it (the subject
    marked when ``features`` has a subject block)."""
    marked = features.subject_weight is not None
    texts = [
        combine_fields(t["subject"], t["body"], t.get("metadata"), mark_subject=marked)
        for t in tickets
    ]
    if features.tokenizer == "spacy":
        from ticket_triage.core.spacy_cleanup import spacy_clean

        texts = [spacy_clean(text) for text in texts]
    return texts


def feature_config(config: TrainConfig) -> FeatureConfig:
    """The featuriser the training options describe (the artifact records it)."""
    return FeatureConfig(
        n_features=config.n_features,
        ngram_range=(1, config.ngram_max),
        token_pattern=config.token_pattern,
        sublinear_tf=config.sublinear_tf,
        use_idf=config.use_idf,
        tokenizer=config.tokenizer,
        char_ngram_range=config.char_ngram_range,
        char_n_features=config.char_n_features,
        char_weight=config.char_weight,
        char_max_words=config.char_max_words,
        subject_weight=config.subject_weight,
        subject_n_features=config.subject_n_features,
    )


def hasher_of(features: FeatureConfig) -> BlockHasher:
    """The scikit-learn hasher of these features (:class:`BlockHasher`): raw counts of every
    block, byte for byte what the inference core's featuriser gives."""
    return BlockHasher(features)


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
    return FittedHead(name, classes, estimator, calibration, target, review, proba, y_index)


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
