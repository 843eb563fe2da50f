"""Out-of-core training (``triage train --streaming``): bounded memory for any number of tickets.

The in-memory path (:func:`ticket_triage.training.in_memory.fit`) holds the whole feature matrix
and runs LinearSVC six times per head; liblinear copies the matrix into its own 16-bytes-a-value
format on every run, so a million long tickets need well over 4 GB and more than ten minutes on two
cores (``benchmarks/scale.py``). This path reads the file in chunks instead:

1. **One hashing pass.** Each chunk is read, combined and hashed (the compiled featuriser, the same
   bytes as ``HashingVectorizer``, tested); each row is drawn into the held-out test share
   (``test_size``, for the report), the calibration share (``calibration_share``, for the
   calibrator and the thresholds) or training. The raw counts go to a chunk cache on disk (hashed
   features need no vocabulary, so nothing else has to be remembered); the document frequencies
   of the non-test rows and the class counts of the training rows are summed on the way.
2. **idf** from those document frequencies, exactly as ``TfidfTransformer(smooth_idf=True)`` would
   compute it on the same rows, unseen n-grams weighted 0 as in the in-memory path.
3. **Epochs** of ``SGDClassifier(loss="hinge").partial_fit`` over the cached chunks in a shuffled
   order, every head on the same chunk: the LinearSVC objective, solved by averaged SGD, with
   ``alpha = 1 / (C * n_train)`` so that ``C`` means what it means for LinearSVC, and balanced
   class weights computed from the counts of step 1 (``partial_fit`` cannot compute them itself).
4. **Calibration and thresholds** on the calibration share: the calibrator is fitted on its
   decision scores, and the target and review thresholds are tuned on the calibrated
   probabilities, as the in-memory path does with out-of-fold scores.

The result is a :class:`~ticket_triage.training.fitting.FittedModel` like
:func:`~ticket_triage.training.in_memory.fit`'s, so the artifact format, the numpy inference core
and the parity reference are unchanged.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier

from ticket_triage.core.errors import DataError
from ticket_triage.core.features import FeatureConfig, Featurizer
from ticket_triage.training.blocks import BlockWeighting
from ticket_triage.training.config import TrainConfig
from ticket_triage.training.data import DEFAULT_METADATA, LABEL_COLUMNS, Tickets
from ticket_triage.training.fitting import (
    FittedModel,
    Progress,
    calibrated_from_scores,
    combined_texts,
    feature_config,
    hasher_of,
    tuned_head,
)

__all__ = [
    "StreamedData",
    "check_head",
    "chunk_tickets",
    "file_sha256",
    "fit_streaming",
    "held_out_tickets",
    "read_chunks",
]

_TEST, _CALIBRATION, _TRAIN = 0, 1, 2


@dataclass
class StreamedData:
    """What the hashing pass learned about the file, besides the cached chunks."""

    sha256: str
    metadata_columns: list[str]
    n_rows: int = 0
    n_train: int = 0
    n_calibration: int = 0
    held_out: list[dict[str, object]] = field(default_factory=list, repr=False)
    held_out_labels: dict[str, list[str]] = field(default_factory=dict, repr=False)


def file_sha256(path: Path) -> str:
    """The file's sha256, read in 1 MB blocks (never the whole file in memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The file as frames of at most ``chunk_rows`` rows, every column as text (CSV, JSON Lines,
    Parquet, by extension, as :func:`ticket_triage.training.data.read_table` reads them whole)."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if suffix == ".csv":
        yield from pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8", chunksize=chunk_rows
        )
    elif suffix in (".jsonl", ".ndjson"):
        with pd.read_json(path, lines=True, dtype=False, chunksize=chunk_rows) as reader:
            yield from reader
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
            yield batch.to_pandas()
    else:
        raise DataError(
            f"{path}: unknown file type {suffix or '(none)'!r}; use .csv, .jsonl or .parquet"
        )


def _column(frame: pd.DataFrame, name: str) -> list[str]:
    return ["" if pd.isna(value) else str(value) for value in frame[name].tolist()]


def chunk_tickets(
    frame: pd.DataFrame, path: Path, metadata: list[str]
) -> tuple[list[dict[str, object]], dict[str, np.ndarray]]:
    """One chunk in the data contract: tickets and per-head labels, rows without text dropped
    (the rules of :func:`ticket_triage.training.data.tickets_from_frame`, which reads the whole
    file)."""
    frame.columns = [str(column) for column in frame.columns]
    missing = [column for column in ("subject", "body", *metadata) if column not in frame.columns]
    if missing:
        found = ", ".join(frame.columns)
        raise DataError(f"{path}: missing column {missing[0]!r} (found: {found})")
    subjects, bodies = _column(frame, "subject"), _column(frame, "body")
    keep = [i for i in range(len(frame)) if subjects[i].strip() or bodies[i].strip()]
    meta = {column: _column(frame, column) for column in metadata}
    tickets: list[dict[str, object]] = [
        {
            "subject": subjects[i],
            "body": bodies[i],
            "metadata": {column: meta[column][i] for column in metadata},
        }
        for i in keep
    ]
    labels = {}
    for head in LABEL_COLUMNS:
        if head in frame.columns:
            values = _column(frame, head)
            labels[head] = np.array([values[i].strip() for i in keep], dtype=object)
    return tickets, labels


class _Cache:
    """Hashed chunks on disk: raw counts (float32: small integers, exact), split and labels."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.n_chunks = 0

    def add(self, counts: sp.csr_matrix, split: np.ndarray, labels: dict[str, np.ndarray]) -> None:
        """Store one chunk."""
        arrays = {"indptr": counts.indptr, "indices": counts.indices, "data": counts.data}
        arrays |= {f"label_{head}": values.astype(str) for head, values in labels.items()}
        np.savez(self.directory / f"{self.n_chunks}.npz", split=split, **arrays)
        self.n_chunks += 1

    def load(self, index: int, n_features: int) -> tuple[sp.csr_matrix, np.ndarray, dict]:
        """Chunk ``index``: counts (float64, as the weighting expects), split, labels."""
        with np.load(self.directory / f"{index}.npz") as stored:
            split = stored["split"]
            shape = (len(split), n_features)
            data = stored["data"].astype(np.float64)
            counts = sp.csr_matrix((data, stored["indices"], stored["indptr"]), shape=shape)
            labels = {
                name.removeprefix("label_"): stored[name]
                for name in stored.files
                if name.startswith("label_")
            }
        return counts, split, labels


def _hash_pass(
    path: Path,
    config: TrainConfig,
    features: FeatureConfig,
    cache: _Cache,
) -> tuple[StreamedData, np.ndarray, dict[str, Counter[str]], dict[str, Counter[str]]]:
    """Pass one: hash every row once, draw its share, cache it, count what the fit needs."""
    featurize = Featurizer(features)
    rng = np.random.default_rng(config.seed)
    document_frequency = np.zeros(features.width, dtype=np.int64)
    train_counts: dict[str, Counter[str]] = {}
    calibration_counts: dict[str, Counter[str]] = {}
    streamed: StreamedData | None = None
    for frame in read_chunks(path, config.chunk_rows):
        if streamed is None:
            columns = {str(column) for column in frame.columns}
            metadata = config.metadata
            if metadata is None:
                metadata = [column for column in DEFAULT_METADATA if column in columns]
            if not columns & set(LABEL_COLUMNS):
                raise DataError(f"{path}: no label column; expected 'urgency' and/or 'topic'")
            streamed = StreamedData(sha256=file_sha256(path), metadata_columns=metadata)
        tickets, labels = chunk_tickets(frame, path, streamed.metadata_columns)
        if not tickets:
            continue
        rows = featurize(combined_texts(tickets, features))
        counts = sp.csr_matrix(
            (rows.counts.astype(np.float32), rows.indices.astype(np.int32), rows.indptr),
            shape=(len(tickets), features.width),
        )
        draw = rng.random(len(tickets))
        split = np.where(
            draw < config.test_size,
            _TEST,
            np.where(draw < config.test_size + config.calibration_share, _CALIBRATION, _TRAIN),
        ).astype(np.int8)
        cache.add(counts, split, labels)
        fitted_rows = np.flatnonzero(split != _TEST)
        document_frequency += np.bincount(counts[fitted_rows].indices, minlength=features.width)
        for head, values in labels.items():
            train_counts.setdefault(head, Counter()).update(values[split == _TRAIN].tolist())
            calibration_counts.setdefault(head, Counter()).update(
                values[split == _CALIBRATION].tolist()
            )
            streamed.held_out_labels.setdefault(head, []).extend(values[split == _TEST].tolist())
        streamed.held_out.extend(tickets[i] for i in np.flatnonzero(split == _TEST))
        streamed.n_rows += len(tickets)
        streamed.n_train += int((split == _TRAIN).sum())
        streamed.n_calibration += int((split == _CALIBRATION).sum())
    if streamed is None or streamed.n_rows == 0:
        raise DataError(f"{path}: no rows with a subject or a body")
    for counter in (*train_counts.values(), *calibration_counts.values()):
        counter.pop("", None)
    return streamed, document_frequency, train_counts, calibration_counts


def check_head(
    name: str, train_counts: Counter[str], calibration_counts: Counter[str], min_support: int
) -> list[str]:
    """The head's classes, or why it cannot be trained this way."""
    classes = sorted(train_counts)
    if len(classes) < 2:
        raise DataError(f"head {name!r}: fewer than two classes in the training share")
    for label in classes:
        if calibration_counts[label] < 1:
            raise DataError(
                f"head {name!r}: class {label!r} has no row in the calibration share; "
                "raise calibration_share or train in memory (without --streaming)"
            )
    if sum(calibration_counts.values()) < min_support:
        raise DataError(f"head {name!r}: calibration share too small for the thresholds")
    return classes


def fit_streaming(
    path: Path, config: TrainConfig, progress: Progress | None = None
) -> tuple[FittedModel, StreamedData]:
    """Fit the featuriser and every head from a file, a chunk at a time.

    Returns the fitted model (same form as :func:`ticket_triage.training.in_memory.fit`'s) and
    the held-out test rows with what the pass learned about the file.

    Raises
    ------
    DataError
        The file breaks the data contract, or a head cannot be trained from its shares.
    """
    step = progress or (lambda _: None)
    features = feature_config(config)
    cache_dir = Path(tempfile.mkdtemp(prefix="triage-stream-"))
    try:
        cache = _Cache(cache_dir)
        step("hashing n-grams (one pass over the file)")
        streamed, frequency, train_counts, calibration_counts = _hash_pass(
            path, config, features, cache
        )
        heads = {
            name: check_head(name, counts, calibration_counts[name], config.min_support)
            for name, counts in train_counts.items()
            if counts
        }
        if not heads:
            raise DataError(f"{path}: every label is empty")
        weighting = BlockWeighting(features).fit_frequency(
            frequency, streamed.n_train + streamed.n_calibration
        )
        models = {}
        for name, classes in heads.items():
            total = sum(train_counts[name].values())
            models[name] = SGDClassifier(
                loss="hinge",
                alpha=1.0 / (config.C * total),
                average=True,
                class_weight={c: total / (len(classes) * train_counts[name][c]) for c in classes},
                random_state=config.seed,
            )
        rng = np.random.default_rng(config.seed)
        for epoch in range(config.epochs):
            step(f"epoch {epoch + 1}/{config.epochs}: SGD on every head")
            for index in rng.permutation(cache.n_chunks):
                counts, split, labels = cache.load(int(index), features.width)
                matrix = weighting.transform(counts)
                for name, model in models.items():
                    rows = np.flatnonzero((split == _TRAIN) & (labels[name] != ""))
                    rows = rows[rng.permutation(len(rows))]
                    if len(rows):
                        model.partial_fit(matrix[rows], labels[name][rows], classes=heads[name])
        step("calibrating and tuning thresholds on the calibration share")
        blocks, y_blocks = [], {name: [] for name in heads}
        for index in range(cache.n_chunks):
            counts, split, labels = cache.load(index, features.width)
            rows = np.flatnonzero(split == _CALIBRATION)
            blocks.append(weighting.transform(counts[rows]))
            for name in heads:
                y_blocks[name].append(labels[name][rows])
        calibration_matrix = sp.vstack(blocks, format="csr")
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    hasher = hasher_of(features)
    fitted = FittedModel(features, hasher, weighting, [], np.flatnonzero(frequency))
    for name, classes in heads.items():
        y = np.concatenate(y_blocks[name]).astype(object)
        rows = np.flatnonzero(y != "")
        linear = models[name]
        scores = linear.decision_function(calibration_matrix[rows]).reshape(len(rows), -1)
        estimator = calibrated_from_scores(linear, scores, y[rows], config.calibration)
        fitted.heads.append(tuned_head(name, classes, estimator, scores, y[rows], config))
    return fitted, streamed


def held_out_tickets(path: Path, streamed: StreamedData) -> Tickets:
    """The held-out test share as :class:`~ticket_triage.training.data.Tickets`, to evaluate."""
    return Tickets(
        path=path,
        tickets=streamed.held_out,
        labels=streamed.held_out_labels,
        metadata_columns=streamed.metadata_columns,
        sha256=streamed.sha256,
        n_dropped=0,
    )
