"""Issue 13's static-embedding direction, measured: a frozen token table as an extra dense block.

The one table on PyPI that fits the issue's terms is WordLlama's (``wordllama`` 0.4, MIT, the
weights inside the wheel: 32,000 LLaMA-2 tokens x 256 dimensions, float16, Matryoshka-trained
so that the first 64 or 128 dimensions stand on their own). Serving cannot run its tokenizer
without the ``tokenizers`` package, so the block is built the way it would have to ship:

- at training time, every distinct word of the training texts (the core's token pattern,
  metadata tokens left out) gets the mean of its WordLlama token vectors, truncated to ``dims``:
  a word -> vector table of float16 that the artifact would carry and numpy could load;
- a ticket's block is the mean of its known words' vectors, L2-normalised, times ``weight``,
  beside the default hashed blocks (word, char, subject, each with its TF-IDF and norm);
- the head is the default one (naive-Bayes-scaled LinearSVC, ``C=1``) on all blocks.

Weight 0 is the default model on the same rows, fitted by the same code in the same run. Also
reported: the table's size and what pooling costs per ticket in numpy (the lookups and the mean;
a compiled version would be cheaper, this is the order of magnitude).

Runs in the bench environment (``make bench-env``); banking77 is used where it exists
(``benchmarks/get_banking77.py``; ``TRIAGE_EXTRA_DATASETS``).

Usage::

    python benchmarks/static_embeddings.py [--dims 64,256] [--weights 0.3,0.5,0.7]
        [--results DIR]
"""

from __future__ import annotations

import argparse
import re
import time
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from safetensors.numpy import load_file
from sklearn.metrics import f1_score
from tokenizers import Tokenizer

from _report import machine, publish, versions
from quality import _splits
from ticket_triage.core.text import TOKEN_PATTERN
from ticket_triage.training.blocks import BlockWeighting
from ticket_triage.training.config import TrainConfig
from ticket_triage.training.data import Tickets
from ticket_triage.training.fitting import combined_texts, feature_config, hasher_of
from ticket_triage.training.nbsvm import NBLinearSVC

#: (dataset, head) pairs measured, in table order; banking77 only where it exists.
CASES = (
    ("support_tickets_sample", "urgency"),
    ("support_tickets_sample", "topic"),
    ("github_issues_nlbse24", "topic"),
    ("banking77", "topic"),
)
#: Words of a ticket pooled: the same bound as the char block's, for the same reason.
MAX_WORDS = 128
_TOKENS = re.compile(TOKEN_PATTERN)


class WordTable:
    """Word -> mean WordLlama token vector, for the words of the training texts only."""

    def __init__(self, texts: list[str], dims: int) -> None:
        package = files("wordllama")
        weights = load_file(str(package / "weights" / "l2_supercat_256.safetensors"))
        tokens = weights["embedding.weight"][:, :dims].astype(np.float32)
        tokenizer = Tokenizer.from_file(
            str(package / "tokenizers" / "l2_supercat_tokenizer_config.json")
        )
        words = sorted({w for text in texts for w in _words(text)})
        encoded = tokenizer.encode_batch(words, add_special_tokens=False)
        vectors = np.zeros((len(words), dims), dtype=np.float16)
        for row, encoding in enumerate(encoded):
            if encoding.ids:
                vectors[row] = tokens[encoding.ids].mean(axis=0)
        self.index = {word: row for row, word in enumerate(words)}
        self.vectors = vectors.astype(np.float32)  # stored as float16, pooled in float32
        self.n_bytes = vectors.nbytes + sum(len(w.encode()) + 1 for w in words)

    def pool(self, texts: list[str]) -> np.ndarray:
        """Each text's mean known-word vector, L2-normalised (zeros without a known word)."""
        out = np.zeros((len(texts), self.vectors.shape[1]), dtype=np.float32)
        for i, text in enumerate(texts):
            rows = [self.index[w] for w in _words(text) if w in self.index]
            if rows:
                mean = self.vectors[rows].mean(axis=0)
                norm = float(np.linalg.norm(mean))
                out[i] = mean / norm if norm > 0 else mean
        return out


def _words(text: str) -> list[str]:
    """The text's first :data:`MAX_WORDS` tokens, metadata tokens (``key:value``) left out."""
    return [t for t in _TOKENS.findall(text) if ":" not in t][:MAX_WORDS]


def measure(
    train: Tickets, test: Tickets, head: str, dims_list: list[int], weights: list[float]
) -> dict[str, Any]:
    """Macro-F1 of the default blocks alone (weight 0) and with each dense block added."""
    config = TrainConfig()
    features = feature_config(config)
    train_texts, test_texts = (combined_texts(t.tickets, features) for t in (train, test))
    hasher, weighting = hasher_of(features), BlockWeighting(features)
    x_train = weighting.fit_transform(hasher.transform(train_texts))
    x_test = weighting.transform(hasher.transform(test_texts))
    y_train, y_test = np.array(train.labels[head]), np.array(test.labels[head])

    def score(extra_train: Any = None, extra_test: Any = None) -> float:
        a = x_train if extra_train is None else sp.hstack([x_train, extra_train], format="csr")
        b = x_test if extra_test is None else sp.hstack([x_test, extra_test], format="csr")
        model = NBLinearSVC(C=config.C, random_state=config.seed).fit(a, y_train)
        return float(f1_score(y_test, model.predict(b), average="macro"))

    out: dict[str, Any] = {"baseline": score(), "dims": {}}
    for dims in dims_list:
        table = WordTable(train_texts, dims)
        dense_train = table.pool(train_texts)
        started = time.perf_counter()
        dense_test = table.pool(test_texts)
        pool_us = (time.perf_counter() - started) / len(test_texts) * 1e6
        scores = {
            w: score(sp.csr_matrix(dense_train * w), sp.csr_matrix(dense_test * w)) for w in weights
        }
        out["dims"][dims] = {"scores": scores, "bytes": table.n_bytes, "pool_us": pool_us}
    return out


def report(results: dict[tuple[str, str], dict[str, Any]], weights: list[float]) -> list[str]:
    """One row per case and table width: macro-F1 at each weight, size and pooling cost."""
    header = " | ".join(f"+ table, weight {w}" for w in weights)
    lines = [
        f"| dataset | head | dims | default blocks (weight 0) | {header} | table | pooling |",
        "|---|---|---:|---:|" + "---:|" * len(weights) + "---:|---:|",
    ]
    for (name, head), measured in results.items():
        for dims, row in measured["dims"].items():
            cells = " | ".join(f"{row['scores'][w]:.3f}" for w in weights)
            lines.append(
                f"| {name} | {head} | {dims} | {measured['baseline']:.3f} | {cells} | "
                f"{row['bytes'] / 1e6:.1f} MB | {row['pool_us']:.0f} us |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", default="64,256", help="table widths (Matryoshka prefixes)")
    parser.add_argument("--weights", default="0.3,0.5,0.7", help="dense block weights")
    parser.add_argument("--results", type=Path, help="keep the section here for assemble.py")
    args = parser.parse_args()
    dims_list = [int(d) for d in args.dims.split(",")]
    weights = [float(w) for w in args.weights.split(",")]
    started = time.perf_counter()
    splits = _splits()
    results = {
        (name, head): measure(*splits[name], head, dims_list, weights)
        for name, head in CASES
        if name in splits
    }
    minutes = (time.perf_counter() - started) / 60
    text = "\n".join(
        [
            f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}; "
            f"{versions(['numpy', 'scikit-learn', 'wordllama'])}: `python "
            f"benchmarks/static_embeddings.py --dims {args.dims} --weights {args.weights}` "
            f"(whole run {minutes:.1f} min). Argmax macro-F1 on the held-out rows of "
            "`quality.py`'s splits; table: float16 vectors plus the words; pooling: numpy, "
            "per held-out ticket.",
            "",
            *report(results, weights),
        ]
    )
    publish(args.results, "static_embeddings", text)
    print(text)


if __name__ == "__main__":
    main()
