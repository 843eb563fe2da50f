"""The inference core: load an artifact once, then score tickets with numpy only.

Steps three and four of the data path: the shared hashed feature vector goes through every linear
head, the head's calibration turns scores into probabilities, and the tuned thresholds turn those
into a decision (the label, and whether a person should look at it).

Importing this module must not import scikit-learn, scipy or pandas: on Lambda they would add about
a second of cold start and 200 MB of package, and a test enforces it. Training writes exactly the
numbers this module needs (see :mod:`ticket_triage.training.train`); a parity test checks the two
agree with scikit-learn to 1e-6.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ticket_triage.core.artifact import read_artifact
from ticket_triage.core.errors import ArtifactError, ArtifactMismatch, InvalidTicket
from ticket_triage.core.features import (
    FeatureConfig,
    Featurizer,
    SparseRows,
    bucket_of,
    compiled_score_text,
)
from ticket_triage.core.text import combine_fields

__all__ = [
    "BATCH_ROWS",
    "Calibration",
    "Contribution",
    "Explanation",
    "HeadDecision",
    "HeadDecisions",
    "TriageModel",
    "TriageResult",
    "calibrate",
    "calibrate_one",
    "decide",
]

Ticket = Mapping[str, Any]


@dataclass(frozen=True)
class Calibration:
    """How a head's raw linear scores become probabilities (scikit-learn's calibrators).

    ``temperature``: ``softmax(beta * scores)``, a binary head's single score ``s`` read as
    logits ``(-s, s)``. ``sigmoid``: ``1 / (1 + exp(a_k * s_k + b_k))`` per class, normalised to sum
    to one (a binary head calibrates its positive class and takes the complement).
    """

    method: str
    beta: float = 1.0
    a: tuple[float, ...] = ()
    b: tuple[float, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form for ``model.json``."""
        if self.method == "temperature":
            return {"method": "temperature", "beta": self.beta}
        return {"method": "sigmoid", "a": list(self.a), "b": list(self.b)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Calibration:
        """Parse what :meth:`to_json` wrote."""
        if data.get("method") == "temperature":
            return cls("temperature", beta=float(data["beta"]))
        if data.get("method") == "sigmoid":
            return cls("sigmoid", a=tuple(map(float, data["a"])), b=tuple(map(float, data["b"])))
        raise ValueError(f"unknown calibration method {data.get('method')!r}")


def calibrate(scores: np.ndarray, calibration: Calibration, n_classes: int) -> np.ndarray:
    """Turn linear scores of shape (n, n_columns) into probabilities of shape (n, n_classes).

    A binary head has one score column (the second class's margin), as in scikit-learn.
    """
    if calibration.method == "temperature":
        logits = np.hstack([-scores, scores]) if n_classes == 2 else scores
        logits = calibration.beta * logits
        proba = np.exp(logits - logits.max(axis=1, keepdims=True))
        return proba / proba.sum(axis=1, keepdims=True)  # never above 1: no clipping needed
    else:
        a, b = np.asarray(calibration.a), np.asarray(calibration.b)
        with np.errstate(over="ignore"):  # exp overflow -> inf -> probability 0, as intended
            positive = 1.0 / (1.0 + np.exp(a * scores + b))
        if n_classes == 2:
            proba = np.hstack([1.0 - positive, positive])
        else:
            total = positive.sum(axis=1, keepdims=True)
            uniform = np.full_like(positive, 1.0 / n_classes)
            proba = np.divide(positive, total, out=uniform, where=total != 0)
    proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
    return proba


def calibrate_one(scores: Sequence[float], calibration: Calibration, n_classes: int) -> list[float]:
    """:func:`calibrate` for one ticket in plain Python (a handful of classes: numpy's per-call
    cost is most of the time there). Agrees with :func:`calibrate` to rounding (tested)."""
    if calibration.method == "temperature":
        logits = [-scores[0], scores[0]] if n_classes == 2 else scores
        scaled = [calibration.beta * value for value in logits]
        top = max(scaled)
        exps = [math.exp(value - top) for value in scaled]
        total = sum(exps)
        return [value / total for value in exps]
    positive = [
        1.0 / (1.0 + math.exp(min(a * s + b, _MAX_EXP)))
        for a, b, s in zip(calibration.a, calibration.b, scores, strict=True)
    ]
    if n_classes == 2:
        return [1.0 - positive[0], positive[0]]
    total = sum(positive)
    if total == 0:
        return [1.0 / n_classes] * n_classes
    return [min(value / total, 1.0) for value in positive]


# math.exp overflows above this; the probability is 0 either way.
_MAX_EXP = 700.0

#: Texts featurised and scored at a time by :meth:`TriageModel.decide_texts`.
BATCH_ROWS = 8192


@dataclass(frozen=True)
class HeadDecision:
    """One head's answer for one ticket.

    Attributes
    ----------
    label : str
        The decided class.
    confidence : float
        Calibrated probability of ``label``.
    probabilities : dict of str to float
        Calibrated probability of every class.
    needs_review : bool
        True when ``confidence`` is below the auto-decision threshold of ``label``.
    target_hit : bool or None
        For a head with a precision target (urgency ``high``): whether the target class's
        probability reached its tuned threshold. None for heads without a target.
    """

    label: str
    confidence: float
    probabilities: dict[str, float]
    needs_review: bool
    target_hit: bool | None


@dataclass(frozen=True)
class HeadDecisions:
    """One head's decisions for a batch of tickets, as arrays (row ``i`` is ticket ``i``).

    What batch scoring writes out as columns without building a :class:`HeadDecision` per ticket
    (those objects cost more than the scoring itself at a million tickets).
    """

    classes: tuple[str, ...]
    label_index: np.ndarray  # int, index into ``classes``
    probabilities: np.ndarray  # float64, shape (n, n_classes)
    confidence: np.ndarray  # float64: probability of the decided class
    needs_review: np.ndarray  # bool
    target_hit: np.ndarray | None  # bool; None for a head without a target

    @property
    def labels(self) -> np.ndarray:
        """The decided class names (object array)."""
        return np.asarray(self.classes, dtype=object)[self.label_index]


@dataclass(frozen=True)
class Contribution:
    """How much some n-grams of the ticket moved a decision (they share one hashed feature)."""

    ngrams: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class Explanation:
    """Why a head chose ``label`` over ``versus``, the runner-up class.

    ``contributions`` are the n-grams with the largest positive share of the score margin
    ``score[label] - score[versus]``; ``rest`` is the summed share of all the others (often
    negative) and ``bias`` the intercepts' difference: the three add up to the margin exactly.
    """

    label: str
    versus: str
    bias: float
    rest: float
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True)
class TriageResult:
    """Every head's decision for one ticket."""

    heads: dict[str, HeadDecision]
    model_version: str

    @property
    def needs_review(self) -> bool:
        """True when any head is not confident enough to decide alone."""
        return any(head.needs_review for head in self.heads.values())

    def __getitem__(self, head: str) -> HeadDecision:
        return self.heads[head]


@dataclass(frozen=True)
class _Head:
    name: str
    classes: tuple[str, ...]
    columns: slice
    calibration: Calibration
    target_index: int | None
    target_threshold: float
    review_list: list[float]  # per class; +inf means "never decide this class automatically"


class TriageModel:
    """A loaded, verified model: featurise once, score every head, decide.

    Use :meth:`load`; the constructor takes already-validated parts.

    Examples
    --------
    With a model trained by ``make run``::

        model = TriageModel.load("models/default")
        result = model.triage({"subject": "Payment failed!!!", "body": "Error 402"})
        result["urgency"].label, result["topic"].label  # ('high', 'billing')
    """

    def __init__(
        self,
        *,
        features: FeatureConfig,
        heads: Sequence[_Head],
        table: np.ndarray,
        intercept: np.ndarray,
        version: str,
        meta: dict[str, Any],
        seen: np.ndarray | None = None,
        path: Path | None = None,
    ) -> None:
        self.path = path
        self._seen = seen if seen is not None else np.ones(features.n_features, dtype=bool)
        self.features = features
        self.heads = tuple(heads)
        self.version = version
        self.meta = meta
        self._table = table
        self._intercept = intercept
        self._clean = _spacy_cleaner() if features.tokenizer == "spacy" else None
        # The artifact's own token pattern, not the module default: a model keeps tokenizing as it
        # was trained even if a later release changes TOKEN_PATTERN.
        self.featurize = Featurizer(features)

    @classmethod
    def load(cls, path: str | Path) -> TriageModel:
        """Read, verify and unpack an artifact directory.

        Raises
        ------
        ArtifactError
            The directory is not an intact artifact of a supported schema.
        ArtifactMismatch
            The artifact needs something this installation lacks (the ``spacy`` extra).
        """
        artifact = read_artifact(Path(path))
        meta, arrays = artifact.meta, artifact.arrays
        try:
            features = FeatureConfig.from_json(meta["features"])
            rows = arrays["rows"].astype(np.int64)
            coef = arrays["coef"]
            intercept = arrays["intercept"].astype(np.float64)
            heads = [_parse_head(head) for head in meta["heads"]]
            version = str(meta["version"])
            width = coef.shape[1]
            if coef.shape[0] != rows.shape[0] or intercept.shape != (width,):
                raise ValueError("weight arrays have inconsistent shapes")
            if rows.size and (rows.min() < 0 or rows.max() >= features.n_features):
                raise ValueError("feature rows outside the hashed space")
            if any(head.columns.stop > width for head in heads):
                raise ValueError("a head refers to weight columns that do not exist")
            # One dense table, built once per process: per hashed feature, its weight for every
            # column pre-multiplied by its idf, then the idf itself in the last column. Scoring a
            # ticket is then a single gather (4 bytes x n_features x (columns + 1): 36 MB at
            # 2**20 features and 8 columns) instead of a search plus a second lookup.
            idf = np.ones(len(rows), dtype=np.float64)
            default_idf = 1.0
            if features.use_idf:
                idf = arrays["idf"].astype(np.float64)
                default_idf = float(meta["idf_default"])
            table = np.zeros((features.n_features, width + 1), dtype=np.float32)
            table[:, width] = default_idf
            table[rows, :width] = coef * idf[:, np.newaxis]
            table[rows, width] = idf
            seen = np.zeros(features.n_features, dtype=bool)
            seen[rows] = True
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ArtifactError(
                f"{artifact.path}: model.json and weights.npz disagree: {exc}"
            ) from exc
        return cls(
            features=features,
            heads=heads,
            table=table,
            intercept=intercept,
            version=version,
            meta=meta,
            seen=seen,
            path=artifact.path,
        )

    @property
    def head_classes(self) -> dict[str, tuple[str, ...]]:
        """Each head's classes, e.g. ``{"urgency": ("high", "low", "normal"), ...}``."""
        return {head.name: head.classes for head in self.heads}

    @property
    def head_names(self) -> tuple[str, ...]:
        """The heads this model decides, e.g. ``("urgency", "topic")``."""
        return tuple(head.name for head in self.heads)

    def text_of(self, ticket: Ticket) -> str:
        """The combined, cleaned text the heads read for ``ticket``."""
        subject, body, metadata = _fields(ticket)
        text = combine_fields(subject, body, metadata)
        if not text.strip():
            raise InvalidTicket("ticket has no text: subject and body are both empty")
        return self._clean(text) if self._clean else text

    def scores(self, rows: SparseRows) -> np.ndarray:
        """Raw linear scores of every head's columns, shape (n_rows, n_columns).

        The features are sublinear TF-IDF, L2-normalised per row; the idf sits in the table's
        last column and is already folded into the weights.
        """
        n_rows = len(rows.indptr) - 1
        if n_rows == 1:
            return (self._shares(rows).sum(axis=0) + self._intercept)[np.newaxis, :]
        tf = np.log(rows.counts) + 1.0 if self.features.sublinear_tf else rows.counts
        gathered = self._table[rows.indices]
        weighted = tf * gathered[:, -1]
        row_ids = rows.row_ids
        norms = np.sqrt(np.bincount(row_ids, weights=weighted * weighted, minlength=n_rows))
        scale = np.divide(tf, norms[row_ids], out=np.zeros_like(tf), where=norms[row_ids] > 0)
        out = np.zeros((n_rows, gathered.shape[1] - 1))
        # A row's values are contiguous, so one segmented sum per row: np.add.reduceat, about ten
        # times faster than np.add.at (measured on 1M tickets, benchmarks/scale.py). reduceat would
        # give an empty row the next row's first value, so it only sees the non-empty ones.
        filled = np.flatnonzero(np.diff(rows.indptr))
        if filled.size:
            weighted_columns = scale[:, np.newaxis] * gathered[:, :-1]
            out[filled] = np.add.reduceat(weighted_columns, rows.indptr[filled], axis=0)
        return out + self._intercept

    def _shares(self, rows: SparseRows) -> np.ndarray:
        """Each feature's share of every column's score for one row (the scores minus the
        intercepts, summed over features): what explanations rank."""
        tf = np.log(rows.counts) + 1.0 if self.features.sublinear_tf else rows.counts
        gathered = self._table[rows.indices].astype(np.float64)
        norm = np.sqrt(np.sum((tf * gathered[:, -1]) ** 2))
        scale = tf / norm if norm else np.zeros_like(tf)
        return gathered[:, :-1] * scale[:, np.newaxis]

    def _scores_one(self, text: str) -> list[float]:
        """:meth:`scores` of one text; in C when the compiled featuriser serves this model (one
        call instead of a dozen numpy operations on tiny arrays, the bulk of a short ticket's
        latency). Agrees with :meth:`scores` to rounding (tested)."""
        if self.featurize.compiled:  # implies the extension (and compiled_score_text) loaded
            low, high = self.features.ngram_range
            return compiled_score_text(
                text,
                self.features.n_features,
                low,
                high,
                self._table,
                self._intercept,
                self.features.sublinear_tf,
            )
        return self.scores(self.featurize([text]))[0].tolist()

    def unseen_share(self, texts: Sequence[str]) -> list[float]:
        """Per text (from :meth:`text_of`), the share of its distinct hashed features that no
        training ticket had: a direct measure of input drift (new products, new error codes,
        another language) that needs no labels."""
        rows = self.featurize(list(texts))
        sizes = np.diff(rows.indptr)
        unseen = np.bincount(rows.row_ids, weights=~self._seen[rows.indices], minlength=len(sizes))
        return np.divide(unseen, sizes, out=np.zeros(len(sizes)), where=sizes > 0).tolist()

    def probabilities(self, scores: np.ndarray) -> dict[str, np.ndarray]:
        """Calibrated probabilities per head, each of shape (n_rows, n_classes)."""
        return {
            head.name: calibrate(scores[:, head.columns], head.calibration, len(head.classes))
            for head in self.heads
        }

    def triage_many(self, tickets: Iterable[Ticket]) -> list[TriageResult]:
        """Decide every head for a batch of tickets; vectorised, same answers as :meth:`triage`.

        Raises
        ------
        InvalidTicket
            A ticket is not a mapping, has non-string fields, or has no text. The message gives
            its position in the batch.
        """
        texts = []
        for position, ticket in enumerate(tickets):
            try:
                texts.append(self.text_of(ticket))
            except InvalidTicket as exc:
                raise InvalidTicket(f"ticket {position}: {exc}") from exc
        return self.triage_texts(texts)

    def triage_texts(self, texts: Sequence[str]) -> list[TriageResult]:
        """Decide every head for texts already made by :meth:`text_of` (the API checks each
        ticket itself, so an error can name the ticket's field)."""
        if not texts:
            return []
        if len(texts) == 1:
            row = self._scores_one(texts[0])
            return [
                TriageResult(
                    {head.name: _decide_one(head, row[head.columns]) for head in self.heads},
                    self.version,
                )
            ]
        decided = {
            name: _decision_objects(batch) for name, batch in self.decide_texts(texts).items()
        }
        return [
            TriageResult({name: decisions[i] for name, decisions in decided.items()}, self.version)
            for i in range(len(texts))
        ]

    def decide_texts(self, texts: Sequence[str]) -> dict[str, HeadDecisions]:
        """Every head's decisions for texts made by :meth:`text_of`, as arrays: the same answers
        as :meth:`triage_texts` (which is built on this), for batch scoring.

        Scored :data:`BATCH_ROWS` texts at a time: the per-value arrays of :meth:`scores` take
        about 1 KB per ticket, 3 GB for the 200,000 held-out tickets of a million-row training.
        """
        parts = []
        for start in range(0, len(texts), BATCH_ROWS):
            rows = self.featurize(texts[start : start + BATCH_ROWS])
            parts.append(self.probabilities(self.scores(rows)))
        return {
            head.name: _decide(head, np.concatenate([part[head.name] for part in parts]))
            for head in self.heads
        }

    def triage(self, ticket: Ticket) -> TriageResult:
        """Decide every head for one ticket."""
        return self.triage_many([ticket])[0]

    def explain(self, ticket: Ticket, top: int = 5) -> dict[str, Explanation]:
        """Per head, the n-grams of this ticket that pushed its decision most.

        A linear head's score is a sum over hashed features, so each feature's share of the
        margin between the decided class and the runner-up is exact. Hashed features cannot be
        turned back into words, so each is named by the ticket's own n-grams that hash to it.
        """
        text = self.text_of(ticket)
        rows = self.featurize([text])
        names: dict[int, list[str]] = {}
        grams = self.featurize.grams(text)
        for gram, index in zip(
            grams, bucket_of(grams, self.features.n_features).tolist(), strict=True
        ):
            if gram not in names.setdefault(index, []):
                names[index].append(gram)
        shares = self._shares(rows)
        scores = self._scores_one(text)
        explanations = {}
        for head in self.heads:
            decision = _decide_one(head, scores[head.columns])
            label = head.classes.index(decision.label)
            ranked = sorted(decision.probabilities, key=decision.probabilities.__getitem__)
            versus = head.classes.index(next(c for c in reversed(ranked) if c != decision.label))
            columns = shares[:, head.columns]
            bias_columns = self._intercept[head.columns]
            if len(head.classes) == 2:  # one score s for the second class: margin is +-2s
                sign = 1.0 if label == 1 else -1.0
                margin, bias = 2 * sign * columns[:, 0], 2 * sign * bias_columns[0]
            else:
                margin = columns[:, label] - columns[:, versus]
                bias = bias_columns[label] - bias_columns[versus]
            order = [i for i in np.argsort(-margin)[:top].tolist() if margin[i] > 0]
            explanations[head.name] = Explanation(
                label=decision.label,
                versus=head.classes[versus],
                bias=float(bias),
                rest=float(margin.sum() - margin[order].sum()),
                contributions=tuple(
                    Contribution(tuple(names[int(rows.indices[i])]), float(margin[i]))
                    for i in order
                ),
            )
        return explanations


def decide(proba: np.ndarray, target_index: int | None, target_threshold: float) -> np.ndarray:
    """Decided class index per row: the target class when its probability reaches its threshold,
    otherwise the most probable of the other classes (the plain argmax for heads without target).

    Examples
    --------
    >>> proba = np.array([[0.5, 0.3, 0.2], [0.7, 0.1, 0.2]])
    >>> decide(proba, target_index=0, target_threshold=0.6).tolist()
    [1, 0]
    """
    if target_index is None:
        return proba.argmax(axis=1)
    others = proba.copy()
    others[:, target_index] = -1.0
    hit = proba[:, target_index] >= target_threshold
    return np.where(hit, target_index, others.argmax(axis=1))


def _decide(head: _Head, proba: np.ndarray) -> HeadDecisions:
    """Apply the target threshold and the review thresholds to one head's probabilities."""
    labels = decide(proba, head.target_index, head.target_threshold)
    confidence = proba[np.arange(len(labels)), labels]
    return HeadDecisions(
        classes=head.classes,
        label_index=labels,
        probabilities=proba,
        confidence=confidence,
        needs_review=confidence < np.asarray(head.review_list)[labels],
        target_hit=None if head.target_index is None else labels == head.target_index,
    )


def _decision_objects(batch: HeadDecisions) -> list[HeadDecision]:
    """One :class:`HeadDecision` per ticket of ``batch``."""
    classes = batch.classes
    # Plain Python lists: per-ticket numpy scalar conversions cost more than building the objects.
    n = len(batch.label_index)
    hits = [None] * n if batch.target_hit is None else batch.target_hit.tolist()
    return [
        HeadDecision(
            label=classes[label],
            confidence=confidence,
            probabilities=dict(zip(classes, row, strict=True)),
            needs_review=review,
            target_hit=hit,
        )
        for label, confidence, row, review, hit in zip(
            batch.label_index.tolist(),
            batch.confidence.tolist(),
            batch.probabilities.tolist(),
            batch.needs_review.tolist(),
            hits,
            strict=True,
        )
    ]


def _decide_one(head: _Head, scores: list[float]) -> HeadDecision:
    """:func:`_decide` for one ticket's raw scores, in plain Python."""
    proba = calibrate_one(scores, head.calibration, len(head.classes))
    target = head.target_index
    if target is not None and proba[target] >= head.target_threshold:
        label = target
    else:
        candidates = [k for k in range(len(proba)) if k != target]
        label = max(candidates, key=proba.__getitem__)  # first of equals, like numpy's argmax
    confidence = proba[label]
    return HeadDecision(
        label=head.classes[label],
        confidence=confidence,
        probabilities=dict(zip(head.classes, proba, strict=True)),
        needs_review=confidence < head.review_list[label],
        target_hit=None if target is None else label == target,
    )


def _parse_head(data: Mapping[str, Any]) -> _Head:
    classes = tuple(str(c) for c in data["classes"])
    start, stop = (int(x) for x in data["columns"])
    expected = 1 if len(classes) == 2 else len(classes)
    if stop - start != expected or len(classes) < 2:
        raise ValueError(f"head {data['name']!r}: {len(classes)} classes need {expected} columns")
    target = data.get("target")
    target_index = classes.index(target["class"]) if target else None
    thresholds = data["review"]["thresholds"]
    review = [np.inf if thresholds[c] is None else float(thresholds[c]) for c in classes]
    return _Head(
        name=str(data["name"]),
        classes=classes,
        columns=slice(start, stop),
        calibration=Calibration.from_json(data["calibration"]),
        target_index=target_index,
        target_threshold=float(target["threshold"]) if target else np.inf,
        review_list=review,
    )


def _fields(ticket: Ticket) -> tuple[str | None, str | None, Mapping[str, Any] | None]:
    if not isinstance(ticket, Mapping):
        raise InvalidTicket(f"a ticket must be a mapping with subject and body, got {type(ticket)}")
    subject, body, metadata = ticket.get("subject"), ticket.get("body"), ticket.get("metadata")
    for name, value in (("subject", subject), ("body", body)):
        if value is not None and not isinstance(value, str):
            raise InvalidTicket(f"{name} must be a string, got {type(value).__name__}")
    if metadata is not None and not isinstance(metadata, Mapping):
        raise InvalidTicket(f"metadata must be a mapping, got {type(metadata).__name__}")
    return subject, body, metadata


def _spacy_cleaner() -> Any:
    try:
        from ticket_triage.core.spacy_cleanup import spacy_clean
    except ImportError as exc:
        raise ArtifactMismatch(
            "this model was trained with tokenizer 'spacy'; install the extra: "
            "pip install 'ticket-triage[spacy]'"
        ) from exc
    return spacy_clean
