"""``triage train DATA --out DIR``: fit every head, evaluate, publish a self-describing artifact.

What happens, in order:

1. Read DATA (:mod:`~ticket_triage.training.data`) and combine each ticket's fields into one
   string (:func:`~ticket_triage.training.fitting.combined_texts`).
2. Fit (:mod:`~ticket_triage.training.in_memory`): hold out ``test_size`` of the rows, hash the
   rest once into one matrix, fit a calibrated LinearSVC per head on out-of-fold scores, tune the
   thresholds on the out-of-fold probabilities.
3. Write ``model.json`` + ``weights.npz`` (:func:`artifact_contents`), load them back through the
   numpy inference core (the code that will serve), evaluate that on the held-out rows, write
   ``metrics.json`` and ``report.html``, seal the manifest, and move the finished directory into
   place (:func:`ticket_triage.core.artifact.staged`).

With ``--streaming`` (``streaming = true`` in a config file; never chosen automatically) steps 1
and 2 run out of core instead, in bounded memory, for files too large for the in-memory path
(100,000 long tickets take about 1 GB and two minutes here, a million would not fit the 10-minute,
4 GB budget; streaming trains a million in about three minutes within 1.4 GB:
``benchmarks/scale.py``). See :mod:`~ticket_triage.training.streaming`. Step 3 and the artifact
are the same.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import numpy as np

from ticket_triage import __version__
from ticket_triage.core.artifact import check_target, seal, staged, write_artifact
from ticket_triage.core.errors import DataError
from ticket_triage.core.model import TriageModel
from ticket_triage.training.config import TrainConfig
from ticket_triage.training.data import Tickets, read_tickets
from ticket_triage.training.evaluate import evaluate
from ticket_triage.training.fitting import FittedModel, Progress, combined_texts, feature_config
from ticket_triage.training.in_memory import fit, split_rows
from ticket_triage.training.report import write_report
from ticket_triage.training.streaming import StreamedData, fit_streaming, held_out_tickets

__all__ = ["TrainResult", "artifact_contents", "build_artifact", "publish", "train"]


@dataclass(frozen=True)
class TrainResult:
    """What ``triage train`` reports: where the artifact went and its held-out metrics."""

    out: Path
    metrics: dict[str, Any]
    warnings: list[str]


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
    texts = combined_texts(tickets.tickets, feature_config(config))
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
    return publish(fitted, config, training, held_out, out, step)


def _train_streaming(data: Path, out: Path, config: TrainConfig, step: Progress) -> TrainResult:
    """:func:`train` out of core: :mod:`~ticket_triage.training.streaming`."""
    try:
        fitted, streamed = fit_streaming(data, config, step)
    except DataError as exc:
        raise DataError(f"{data}: {exc}") from exc
    return publish_streamed(fitted, streamed, data, config, out, step)


def publish_streamed(
    fitted: FittedModel,
    streamed: StreamedData,
    data: Path,
    config: TrainConfig,
    out: Path,
    step: Progress,
    engine: str | None = None,
) -> TrainResult:
    """:func:`publish` a model fitted on a file read in chunks (``--streaming``, or on Spark as
    ``engine``): the training record from the pass's counts, the held-out rows re-read."""
    training: dict[str, Any] = {"data": data.name, "data_sha256": streamed.sha256}
    if engine is not None:
        training["engine"] = engine
    training |= {
        "n_rows": streamed.n_rows,
        "n_train": streamed.n_train,
        "n_calibration": streamed.n_calibration,
        "n_test": len(streamed.held_out),
        "metadata_columns": streamed.metadata_columns,
        "config": config.model_dump(mode="json", by_alias=True),
    }
    return publish(fitted, config, training, held_out_tickets(data, streamed), out, step)


def publish(
    fitted: FittedModel,
    config: TrainConfig,
    training: dict[str, Any],
    held_out: Tickets,
    out: Path,
    step: Progress,
) -> TrainResult:
    """Write the artifact, evaluate it on ``held_out``, write the report, seal, move into place."""
    with staged(out) as staging:
        model = build_artifact(fitted, config, training, staging)
        step("evaluating on held-out rows")
        metrics, evals, warnings = evaluate(model, held_out, description="held-out split")
        step("writing report")
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        write_report(staging / "report.html", metrics, evals)
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
