"""The loaded model: verify an artifact once, then score tickets with numpy only.

Steps two to four of the data path for the code that holds a model: a ticket's combined text is
featurised (:mod:`~ticket_triage.core.features`), goes through every linear head
(:mod:`~ticket_triage.core.heads`), and the tuned thresholds turn the calibrated probabilities into
a decision (:mod:`~ticket_triage.core.decisions`). Routing the decision to a queue is the last
step, :class:`~ticket_triage.core.pipeline.Pipeline`, which the API, the CLI and Lambda call.

Importing this module must not import scikit-learn, scipy or pandas: on Lambda they would add about
a second of cold start and 200 MB of package, and a contract test enforces it. Training writes
exactly the numbers this module needs (:mod:`ticket_triage.training.train`); a parity test checks
the two agree with scikit-learn to 1e-6.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ticket_triage.core.artifact import read_artifact
from ticket_triage.core.decisions import (
    BatchDecisions,
    TriageResult,
    decide_head,
    decide_one,
    decision_objects,
)
from ticket_triage.core.errors import ArtifactError, ArtifactMismatch, InvalidTicket
from ticket_triage.core.explain import Explanation, explain
from ticket_triage.core.features import (
    FeatureConfig,
    Featurizer,
    SparseRows,
    compiled_score_batch,
    compiled_score_text,
)
from ticket_triage.core.heads import Head, calibrate, parse_head
from ticket_triage.core.text import join_fields, metadata_tokens
from ticket_triage.core.weights import Weights

__all__ = ["BATCH_ROWS", "Ticket", "TriageModel", "Weights"]

#: A ticket: a mapping with ``subject``, ``body`` and optional ``metadata`` (a plain dict works).
Ticket = Mapping[str, Any]

#: Texts featurised and scored at a time by :meth:`TriageModel.decide_texts`.
BATCH_ROWS = 8192


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
        self, features: FeatureConfig, heads: Sequence[Head], weights: Weights, meta: dict[str, Any]
    ) -> None:
        self.path: Path | None = None
        self.features = features
        self.heads = tuple(heads)
        self.version = str(meta["version"])
        self.meta = meta
        self._table, self._intercept = weights.table, weights.intercept
        self._starts = np.array([block.start for block in features.blocks[1:]], dtype=np.int64)
        self._clean = _spacy_cleaner() if features.tokenizer == "spacy" else None
        # What score_text and score_batch take before the texts' buffers and after them: made once
        # here, not per request (FeatureConfig.layout builds a new tuple each time).
        low, high = features.ngram_range
        self._compiled_head = (
            features.n_features,
            low,
            high,
            self._table,
            self._intercept,
            features.sublinear_tf,
        )
        self._layout = features.layout
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
        try:
            features = FeatureConfig.from_json(artifact.meta["features"])
            heads = [parse_head(head) for head in artifact.meta["heads"]]
            weights = Weights.unpack(features, heads, artifact.meta, artifact.arrays)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ArtifactError(
                f"{artifact.path}: model.json and weights.npz disagree: {exc}"
            ) from exc
        model = cls(features, heads, weights, artifact.meta)
        model.path = artifact.path
        return model

    @property
    def head_classes(self) -> dict[str, tuple[str, ...]]:
        """Each head's classes, e.g. ``{"urgency": ("high", "low", "normal"), ...}``."""
        return {head.name: head.classes for head in self.heads}

    @property
    def head_names(self) -> tuple[str, ...]:
        """The heads this model decides, e.g. ``("urgency", "topic")``."""
        return tuple(head.name for head in self.heads)

    # -- step one: the ticket's text ----------------------------------------------------------

    def text_of(self, ticket: Ticket) -> str:
        """The combined, cleaned text the heads read for ``ticket``."""
        subject, body, metadata = _fields(ticket)
        return self.text_of_fields(subject, body, " ".join(metadata_tokens(metadata)))

    def text_of_fields(self, subject: str | None, body: str | None, tokens: str) -> str:
        """:meth:`text_of` from a ticket's fields and its joined metadata tokens
        (:func:`~ticket_triage.core.text.join_fields`): batch scoring reads columns, not
        mappings, and makes the tokens once per distinct metadata."""
        marked = self.features.subject_weight is not None
        text = join_fields(subject, body, tokens, mark_subject=marked)
        if not text.strip():
            raise InvalidTicket("ticket has no text: subject and body are both empty")
        return self._clean(text) if self._clean else text

    def texts_of(self, tickets: Iterable[Ticket], offset: int = 0) -> list[str]:
        """:meth:`text_of` of every ticket of a batch.

        Raises
        ------
        InvalidTicket
            For the first ticket that cannot be scored; its ``position`` is its index in the
            batch plus ``offset`` (the batch's first row in a file, say), and the message says it.
        """
        texts = []
        for position, ticket in enumerate(tickets, start=offset):
            try:
                texts.append(self.text_of(ticket))
            except InvalidTicket as exc:
                raise InvalidTicket(exc.reason, position) from exc
        return texts

    # -- steps two and three: features and scores --------------------------------------------

    def scores(self, rows: SparseRows) -> np.ndarray:
        """Raw linear scores of every head's columns, shape (n_rows, n_columns).

        The features are sublinear TF-IDF, L2-normalised per row and block; the idf sits in the
        table's last column and is already folded into the weights, with the block weights.
        """
        n_rows = len(rows.indptr) - 1
        if n_rows == 1:
            return (self._shares(rows).sum(axis=0) + self._intercept)[np.newaxis, :]
        tf = np.log(rows.counts) + 1.0 if self.features.sublinear_tf else rows.counts
        gathered = self._table[rows.indices]
        weighted = tf * gathered[:, -1]
        keys = self._block_keys(rows)
        norms = np.sqrt(
            np.bincount(
                keys, weights=weighted * weighted, minlength=n_rows * (len(self._starts) + 1)
            )
        )[keys]
        scale = np.divide(tf, norms, out=np.zeros_like(tf), where=norms > 0)
        out = np.zeros((n_rows, gathered.shape[1] - 1))
        # A row's values are contiguous, so one segmented sum per row: np.add.reduceat, about ten
        # times faster than np.add.at (measured on 1M tickets, benchmarks/scale.py). reduceat would
        # give an empty row the next row's first value, so it only sees the non-empty ones.
        filled = np.flatnonzero(np.diff(rows.indptr))
        if filled.size:
            weighted_columns = scale[:, np.newaxis] * gathered[:, :-1]
            out[filled] = np.add.reduceat(weighted_columns, rows.indptr[filled], axis=0)
        return out + self._intercept

    def _block_keys(self, rows: SparseRows) -> np.ndarray:
        """Per stored value, ``row * n_blocks + block``: what each L2 norm is summed over."""
        if not self._starts.size:
            return rows.row_ids
        blocks = np.searchsorted(self._starts, rows.indices, side="right")
        return rows.row_ids * (len(self._starts) + 1) + blocks

    def _shares(self, rows: SparseRows) -> np.ndarray:
        """Each feature's share of every column's score for one row (the scores minus the
        intercepts, summed over features): what explanations rank."""
        tf = np.log(rows.counts) + 1.0 if self.features.sublinear_tf else rows.counts
        gathered = self._table[rows.indices].astype(np.float64)
        keys = self._block_keys(rows)
        norms = np.sqrt(np.bincount(keys, weights=(tf * gathered[:, -1]) ** 2))[keys]
        scale = np.divide(tf, norms, out=np.zeros_like(tf), where=norms > 0)
        return gathered[:, :-1] * scale[:, np.newaxis]

    def _unseen(self, rows: SparseRows) -> np.ndarray:
        """Per row, the share of its distinct features that no training ticket had."""
        sizes = np.diff(rows.indptr)
        marked = np.signbit(self._table[rows.indices, -1])  # see Weights
        unseen = np.bincount(rows.row_ids, weights=marked, minlength=len(sizes))
        return np.divide(unseen, sizes, out=np.zeros(len(sizes)), where=sizes > 0)

    def _score_one(self, text: str) -> tuple[list[float], float]:
        """:meth:`scores` of one text and its unseen-feature share, from one featurisation; in C
        when the compiled featuriser serves this model (one call instead of a dozen numpy
        operations on tiny arrays, the bulk of a short ticket's latency). Agrees with
        :meth:`scores` to rounding (tested)."""
        if self.featurize.compiled:  # implies the extension (and compiled_score_text) loaded
            return compiled_score_text(
                text, *self._compiled_head, *self._layout, self.featurize.workspace
            )
        rows = self.featurize([text])
        return self.scores(rows)[0].tolist(), float(self._unseen(rows)[0])

    def _score_compiled(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_score_one` of every text in one compiled call, as (n, n_columns) scores and
        (n,) unseen shares: the same bits as text by text (the same C function scores each),
        with the GIL released meanwhile, so that threads scoring batches share this model."""
        scores = np.empty((len(texts), len(self._intercept)), dtype=np.float64)
        unseen = np.empty(len(texts), dtype=np.float64)
        compiled_score_batch(texts, *self._compiled_head, scores, unseen, *self._layout)
        return scores, unseen

    def unseen_share(self, texts: Sequence[str]) -> list[float]:
        """Per text (from :meth:`text_of`), the share of its distinct hashed features that no
        training ticket had: a direct measure of input drift (new products, new error codes,
        another language) that needs no labels. Scoring returns it too
        (:attr:`~ticket_triage.core.decisions.TriageResult.unseen_share`); this is for texts
        that are not being scored."""
        return self._unseen(self.featurize(list(texts))).tolist()

    def probabilities(self, scores: np.ndarray) -> dict[str, np.ndarray]:
        """Calibrated probabilities per head, each of shape (n_rows, n_classes)."""
        return {
            head.name: calibrate(scores[:, head.columns], head.calibration, len(head.classes))
            for head in self.heads
        }

    # -- step four: decisions ----------------------------------------------------------------

    def decide_texts(self, texts: Sequence[str]) -> BatchDecisions:
        """Every head's decisions for texts made by :meth:`text_of`, as arrays, with each text's
        unseen-feature share from the same featurisation: the answers of :meth:`triage_texts`
        without an object per ticket, for batch scoring.

        Scored :data:`BATCH_ROWS` texts at a time: the per-value arrays of :meth:`scores` take
        about 1 KB per ticket, 3 GB for the 200,000 held-out tickets of a million-row training.
        With the compiled featuriser a chunk is scored in one C call that featurises, weighs and
        sums every text exactly as the single-ticket call does, without the GIL: numpy's
        per-value arrays (a gather, a norm and a segmented sum over every stored value) cost
        more than the whole C call once char n-grams made a long ticket's features number in
        the thousands (``benchmarks/scale.py`` measures batch scoring end to end).
        """
        parts, unseen = [], []
        for start in range(0, len(texts), BATCH_ROWS):
            chunk = list(texts[start : start + BATCH_ROWS])
            if self.featurize.compiled:
                scores, shares = self._score_compiled(chunk)
                parts.append(self.probabilities(scores))
                unseen.append(shares)
                continue
            rows = self.featurize(chunk)
            parts.append(self.probabilities(self.scores(rows)))
            unseen.append(self._unseen(rows))
        heads = {
            head.name: decide_head(head, np.concatenate([part[head.name] for part in parts]))
            for head in self.heads
        }
        return BatchDecisions(heads, np.concatenate(unseen) if unseen else np.zeros(0))

    def triage_texts(self, texts: Sequence[str]) -> list[TriageResult]:
        """Decide every head for texts made by :meth:`text_of`; each result carries the text's
        unseen-feature share, counted in the same pass. A single text is scored in one compiled
        call; a batch is vectorised (:meth:`decide_texts`): the same answers (tested)."""
        if not texts:
            return []
        if len(texts) == 1:
            scores, unseen = self._score_one(texts[0])
            return [self._result(scores, unseen)]
        batch = self.decide_texts(texts)
        decided = {name: decision_objects(head) for name, head in batch.heads.items()}
        return [
            TriageResult(
                {name: objects[i] for name, objects in decided.items()}, self.version, share
            )
            for i, share in enumerate(batch.unseen_share.tolist())
        ]

    def _result(self, scores: list[float], unseen: float) -> TriageResult:
        heads = {head.name: decide_one(head, scores[head.columns]) for head in self.heads}
        return TriageResult(heads, self.version, unseen)

    def triage_many(self, tickets: Iterable[Ticket]) -> list[TriageResult]:
        """Decide every head for a batch of tickets; vectorised, same answers as :meth:`triage`.

        Raises
        ------
        InvalidTicket
            A ticket is not a mapping, has non-string fields, or has no text. The message gives
            its position in the batch.
        """
        return self.triage_texts(self.texts_of(tickets))

    def triage(self, ticket: Ticket) -> TriageResult:
        """Decide every head for one ticket."""
        return self.triage_many([ticket])[0]

    # -- why ---------------------------------------------------------------------------------

    def explained(self, text: str, top: int = 5) -> tuple[TriageResult, dict[str, Explanation]]:
        """The decision of a text made by :meth:`text_of` and, per head, the n-grams that pushed
        it most (:mod:`~ticket_triage.core.explain`): one featurisation for both, so the
        explanation is of exactly the scores that decided."""
        rows, names = self.featurize.named(text)
        shares = self._shares(rows)
        scores = (shares.sum(axis=0) + self._intercept).tolist()
        result = self._result(scores, float(self._unseen(rows)[0]))
        named = [tuple(names[index]) for index in rows.indices.tolist()]
        why = {
            head.name: explain(head, result[head.name], shares, self._intercept, named, top)
            for head in self.heads
        }
        return result, why

    def explain(self, ticket: Ticket, top: int = 5) -> dict[str, Explanation]:
        """Per head, the n-grams of this ticket that pushed its decision most."""
        return self.explained(self.text_of(ticket), top)[1]


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
