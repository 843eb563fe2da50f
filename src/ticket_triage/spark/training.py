"""``triage train --engine spark``: the heads fitted by Spark MLlib, the artifact as always.

The steps, and where each runs:

1. **Hashing, in the executors.** Each partition's rows become tickets by the data contract of
   ``--streaming`` (:func:`~ticket_triage.training.streaming.chunk_tickets`), are combined and
   hashed by the inference core's own :class:`~ticket_triage.core.features.Featurizer` (so the
   features are the ones serving computes), and are drawn into the held-out test share, the
   calibration share or training, with a generator seeded by the config's seed and the
   partition's index. One pass sums the document frequencies and class counts (a tree reduce);
   the hashed blocks stay cached in the executors.
2. **Weighting, on the driver and then the executors.** idf from those frequencies exactly as
   ``--streaming`` computes it (:meth:`BlockWeighting.fit_frequency`); the executors weigh their
   blocks and emit one sparse vector per row, in the space of the features the training share
   has (the others get no weight under L2 regularisation, so dropping them changes no score).
3. **One MLlib LogisticRegression per head** (multinomial, L-BFGS across the executors), balanced
   class weights in a weight column, ``regParam = 1 / (C' * n_train)`` (MLlib averages the
   weighted loss, scikit-learn's ``C`` sums it; ``C'`` is the config's ``C`` times
   :data:`LOGISTIC_C_SCALE`), at most ``max_iter`` iterations, no standardisation (the rows are
   already normalised per block, as serving normalises them).
4. **Calibration and thresholds on the calibration share**, by the code ``--streaming`` uses
   (:func:`~ticket_triage.training.fitting.calibrated_from_scores`,
   :func:`~ticket_triage.training.fitting.tuned_head`), on the margins MLlib computed; then the
   artifact, its evaluation on the held-out test share and the report
   (:func:`~ticket_triage.training.train.publish_streamed`), as every ``triage train`` writes them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression as LinearShell

from ticket_triage.core.artifact import check_target
from ticket_triage.core.errors import ConfigError, DataError
from ticket_triage.core.features import FeatureConfig, Featurizer
from ticket_triage.spark.scoring import read_frame
from ticket_triage.spark.session import spark_errors, spark_session
from ticket_triage.training.blocks import BlockWeighting
from ticket_triage.training.config import TrainConfig
from ticket_triage.training.data import DEFAULT_METADATA, LABEL_COLUMNS
from ticket_triage.training.fitting import (
    FittedModel,
    Progress,
    calibrated_from_scores,
    combined_texts,
    feature_config,
    hasher_of,
    tuned_head,
)
from ticket_triage.training.streaming import (
    StreamedData,
    check_head,
    chunk_tickets,
    file_sha256,
)
from ticket_triage.training.train import TrainResult, publish_streamed

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["fit_spark", "train_on_spark"]

_TEST, _CALIBRATION, _TRAIN = 0, 1, 2

#: LinearSVC's ``C`` (the config's) times this is the logistic loss's: the two losses penalise a
#: margin differently, and at the same ``C`` the logistic heads underfit. Measured on
#: support_tickets_sample (held-out topic macro-F1): 0.708 at 1x, 0.724 at 4x, 0.728 at 10x.
LOGISTIC_C_SCALE = 10.0


@dataclass
class _Block:
    """One partition's hashed rows: raw counts, shares, labels, and its held-out tickets."""

    counts: sp.csr_matrix
    split: np.ndarray
    labels: dict[str, np.ndarray]
    held_out: list[tuple[dict[str, object], dict[str, str]]]  # (ticket, its labels) per test row


@dataclass
class _Stats:
    """What the pass over the blocks sums: frequencies, class counts, rows per share."""

    frequency: np.ndarray  # document frequency over the train and calibration shares
    train_seen: np.ndarray  # document frequency over the train share alone
    train_counts: dict[str, Counter[str]]
    calibration_counts: dict[str, Counter[str]]
    n_rows: np.ndarray  # per share: test, calibration, train

    def __add__(self, other: _Stats) -> _Stats:
        heads = set(self.train_counts) | set(other.train_counts)
        return _Stats(
            self.frequency + other.frequency,
            self.train_seen + other.train_seen,
            {
                h: self.train_counts.get(h, Counter()) + other.train_counts.get(h, Counter())
                for h in heads
            },
            {
                h: self.calibration_counts.get(h, Counter())
                + other.calibration_counts.get(h, Counter())
                for h in heads
            },
            self.n_rows + other.n_rows,
        )


def _hash_partition(
    index: int,
    rows: Iterable[Any],
    columns: list[str],
    metadata: list[str],
    features: FeatureConfig,
    config: TrainConfig,
) -> Iterator[_Block]:
    """Executor side of step 1: a partition's rows as one hashed :class:`_Block`."""
    frame = pd.DataFrame.from_records([tuple(row) for row in rows], columns=columns)
    if frame.empty:
        return
    tickets, labels = chunk_tickets(frame, Path("spark"), metadata)
    if not tickets:
        return
    hashed = Featurizer(features)(combined_texts(tickets, features))
    counts = sp.csr_matrix(
        (hashed.counts.astype(np.float32), hashed.indices.astype(np.int32), hashed.indptr),
        shape=(len(tickets), features.width),
    )
    draw = np.random.default_rng([config.seed, index]).random(len(tickets))
    cut = config.test_size + config.calibration_share
    split = np.where(
        draw < config.test_size, _TEST, np.where(draw < cut, _CALIBRATION, _TRAIN)
    ).astype(np.int8)
    held_out = [
        (tickets[i], {head: str(values[i]) for head, values in labels.items()})
        for i in np.flatnonzero(split == _TEST)
    ]
    yield _Block(counts, split, labels, held_out)


def _block_stats(block: _Block, width: int) -> _Stats:
    fitted = block.counts[block.split != _TEST]
    training = block.counts[block.split == _TRAIN]

    def classes(share: int) -> dict[str, Counter[str]]:
        counted = {h: Counter(v[block.split == share].tolist()) for h, v in block.labels.items()}
        for counter in counted.values():
            counter.pop("", None)
        return counted

    return _Stats(
        np.bincount(fitted.indices, minlength=width),
        np.bincount(training.indices, minlength=width),
        classes(_TRAIN),
        classes(_CALIBRATION),
        np.bincount(block.split, minlength=3),
    )


def _vectors(
    block: _Block,
    weighting: BlockWeighting,
    compact: np.ndarray,
    heads: dict[str, list[str]],
    weights: dict[str, dict[str, float]],
) -> Iterator[tuple[Any, ...]]:
    """Executor side of step 2: one row per non-test ticket, (share, then per head its class
    index (-1: unlabelled) and weight, then the weighted features in the compact space)."""
    from pyspark.ml.linalg import SparseVector

    keep = np.flatnonzero(block.split != _TEST)
    matrix = weighting.transform(block.counts[keep]).tocsr()
    matrix.sort_indices()
    position = np.searchsorted(compact, matrix.indices)
    position = np.minimum(position, len(compact) - 1)
    known = compact[position] == matrix.indices
    for row, original in enumerate(keep):
        start, stop = matrix.indptr[row], matrix.indptr[row + 1]
        inside = known[start:stop]
        vector = SparseVector(
            len(compact), position[start:stop][inside], matrix.data[start:stop][inside]
        )
        cells: list[Any] = [int(block.split[original])]
        for name, classes in heads.items():
            label = str(block.labels[name][original])
            cells += [
                classes.index(label) if label in classes else -1,
                weights[name].get(label, 0.0),
            ]
        yield (*cells, vector)


def _source_columns(frame: DataFrame, config: TrainConfig) -> tuple[list[str], list[str]]:
    """The metadata and label columns the training reads (the rules of ``--streaming``)."""
    present = set(frame.columns)
    missing = [column for column in ("subject", "body") if column not in present]
    if missing:
        raise DataError(f"missing column {missing[0]!r}; the data contract needs subject and body")
    metadata = config.metadata
    if metadata is None:
        metadata = [column for column in DEFAULT_METADATA if column in present]
    absent = [column for column in metadata if column not in present]
    if absent:
        raise DataError(f"metadata column {absent[0]!r} is not in the data")
    heads = [column for column in LABEL_COLUMNS if column in present]
    if not heads:
        raise DataError("no label column; expected 'urgency' and/or 'topic'")
    return metadata, heads


def fit_spark(
    session: SparkSession, data: str, config: TrainConfig, progress: Progress | None = None
) -> tuple[FittedModel, StreamedData]:
    """Fit the featuriser and every head on Spark; the fitted model (the form of the other
    trainers') and the held-out test rows with what the pass learned about the data.

    Raises
    ------
    ConfigError
        An option the Spark trainer does not support (resample, augment, the spaCy tokenizer).
    DataError
        The data breaks the contract, or a head cannot be trained from its shares.
    """
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, IntegerType, StructField, StructType

    if config.resample or config.augment or config.tokenizer == "spacy":
        raise ConfigError("--engine spark supports neither resample, augment nor tokenizer spacy")
    step = progress or (lambda _: None)
    features = feature_config(config)
    frame = read_frame(session, data)
    metadata, label_columns = _source_columns(frame, config)
    columns = ["subject", "body", *metadata, *label_columns]
    selected = frame.select(*(F.col(c).cast("string") for c in columns))
    parallelism = session.sparkContext.defaultParallelism
    if selected.rdd.getNumPartitions() < parallelism:  # one multi-line CSV file is one partition
        selected = selected.repartition(parallelism)
    step("hashing n-grams in the executors (one pass)")
    with spark_errors(f"hashing {data}"):
        blocks: RDD[_Block] = selected.rdd.mapPartitionsWithIndex(
            lambda index, rows: _hash_partition(index, rows, columns, metadata, features, config)
        ).cache()
        width = features.width
        partial = blocks.map(lambda block: _block_stats(block, width))
        if partial.isEmpty():
            raise DataError(f"{data}: no rows with a subject or a body")
        stats = partial.treeReduce(lambda a, b: a + b)
        held_out = blocks.flatMap(lambda block: block.held_out).collect()
    heads = {
        name: check_head(name, counts, stats.calibration_counts[name], config.min_support)
        for name, counts in stats.train_counts.items()
        if counts
    }
    if not heads:
        raise DataError(f"{data}: every label is empty")
    n_test, n_calibration, n_train = (int(n) for n in stats.n_rows)
    weighting = BlockWeighting(features).fit_frequency(stats.frequency, n_train + n_calibration)
    compact = np.flatnonzero(stats.train_seen).astype(np.int64)
    weights = {}
    for name, classes in heads.items():
        total = sum(stats.train_counts[name].values())
        weights[name] = {c: total / (len(classes) * stats.train_counts[name][c]) for c in classes}
    fields = [StructField("split", IntegerType())]
    for name in heads:
        fields += [StructField(f"y_{name}", IntegerType()), StructField(f"w_{name}", DoubleType())]
    schema = StructType([*fields, StructField("features", VectorUDT())])
    shared = session.sparkContext.broadcast((weighting, compact, heads, weights))
    with spark_errors(f"training on {data}"):
        vectors = blocks.flatMap(lambda block: _vectors(block, *shared.value))
        rows = session.createDataFrame(vectors, schema).cache()
        fitted = FittedModel(
            features, hasher_of(features), weighting, [], np.flatnonzero(stats.frequency)
        )
        for name, classes in heads.items():
            step(f"fitting {name} with MLlib LogisticRegression ({len(classes)} classes)")
            labelled = rows.filter(F.col(f"y_{name}") >= 0)
            total = sum(stats.train_counts[name].values())
            solver = LogisticRegression(
                featuresCol="features",
                labelCol=f"y_{name}",
                weightCol=f"w_{name}",
                family="multinomial",
                regParam=1.0 / (LOGISTIC_C_SCALE * config.C * total),
                elasticNetParam=0.0,
                standardization=False,
                maxIter=config.max_iter,
                tol=1e-6,
            )
            model = solver.fit(labelled.filter(F.col("split") == _TRAIN))
            calibration = model.transform(labelled.filter(F.col("split") == _CALIBRATION))
            collected = calibration.select("rawPrediction", f"y_{name}").collect()
            linear, scores = _linear(model, compact, width, classes, collected)
            y = np.asarray([classes[row[1]] for row in collected], dtype=object)
            estimator = calibrated_from_scores(linear, scores, y, config.calibration)
            fitted.heads.append(tuned_head(name, classes, estimator, scores, y, config))
        rows.unpersist()
        blocks.unpersist()
    shared.destroy()
    streamed = StreamedData(
        sha256=_sha256(data),
        metadata_columns=metadata,
        n_rows=n_test + n_calibration + n_train,
        n_train=n_train,
        n_calibration=n_calibration,
        held_out=[ticket for ticket, _ in held_out],
        held_out_labels={head: [labels[head] for _, labels in held_out] for head in label_columns},
    )
    return fitted, streamed


def _linear(
    model: Any, compact: np.ndarray, width: int, classes: list[str], collected: list[Any]
) -> tuple[LinearShell, np.ndarray]:
    """MLlib's head as the scikit-learn linear model the calibration code and the artifact
    read (coefficients back in the whole hashed space), and the calibration share's margins.

    Two classes: MLlib's multinomial model has a row per class, scikit-learn's binary one the
    difference (the same decision, the score the binary calibrators expect)."""
    coefficients = model.coefficientMatrix.toArray()
    intercept = model.interceptVector.toArray()
    margins = np.asarray([row[0].toArray() for row in collected], dtype=np.float64)
    if len(classes) == 2:
        coefficients = coefficients[1:] - coefficients[:1]
        intercept = intercept[1:] - intercept[:1]
        margins = margins[:, 1] - margins[:, 0]
    full = np.zeros((coefficients.shape[0], width))
    full[:, compact] = coefficients
    linear = LinearShell()
    linear.classes_ = np.asarray(classes, dtype=object)
    linear.coef_, linear.intercept_, linear.n_features_in_ = full, intercept, width
    return linear, margins


def _sha256(data: str) -> str | None:
    """The data file's sha256 when it is one local file (a directory or URI has none)."""
    path = Path(data)
    return file_sha256(path) if path.is_file() else None


def train_on_spark(
    data: str, out: Path, config: TrainConfig, master: str, progress: Progress | None = None
) -> TrainResult:
    """``triage train --engine spark``: :func:`fit_spark`, then the artifact, its held-out
    evaluation and the report exactly as ``triage train`` writes them."""
    step = progress or (lambda _: None)
    check_target(out)
    step("starting Spark")
    session = spark_session(master)
    fitted, streamed = fit_spark(session, data, config, step)
    return publish_streamed(fitted, streamed, Path(data), config, out, step, engine="spark")
