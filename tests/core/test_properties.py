"""Property tests (Hypothesis) for the text path and the scorer, on input built to be awkward.

What ``tests/core`` already covers is not repeated: ``test_text.py`` checks that ``clean_text``
is idempotent on ``st.text()`` (whose default alphabet has no surrogates and rarely hits an
escape, a URL or a compatibility character) and that ``combine_fields`` does not raise;
``test_compiled_features.py`` already checks compiled and pure-Python *features* agree on any
cleaned text. Added here:

* the text functions on surrogates, controls, NUL, RTL marks, emoji sequences, escapes, URLs,
  case and NFKC edge cases and long runs: clean output, idempotence, and ``combine_fields``
  equal to cleaning each field apart, as its comment says;
* metadata tokens: each ``key:value`` stays one token, whatever the dictionary's order;
* the numpy scorer against the scikit-learn pipeline it was fitted as, to 1e-6, on tickets of
  real ticket words and random Unicode (the batch path and the one-ticket path);
* the compiled scorer (``_featurize.score_text``) against numpy scores, which the unit tests
  compare only on the shared datasets.

Two bugs found here are fixed, and their cases stay as plain regression tests:
:func:`test_clean_text_is_idempotent_after_nfkc_case_folds` and
:func:`test_metadata_keys_with_dots_or_dashes_stay_one_token`.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticket_triage.core.features import COMPILED, FeatureConfig, Featurizer
from ticket_triage.core.model import TriageModel
from ticket_triage.core.text import clean_text, combine_fields, metadata_tokens, tokenize
from ticket_triage.sample import SAMPLE_TICKETS
from ticket_triage.training.config import TrainConfig
from ticket_triage.training.fitting import FittedModel, combined_texts
from ticket_triage.training.in_memory import fit
from ticket_triage.training.train import build_artifact

# -- awkward text ---------------------------------------------------------------------------------

#: Fragments at the edges of clean_text: controls and exotic white space, lone surrogates (legal
#: in JSON, fatal to mmh3), bidi controls and RTL scripts, zero-width characters, emoji with ZWJ,
#: flags and keycaps, escaped newlines and URLs, case and NFKC edge cases, signal punctuation.
AWKWARD = [
    *"\x00\x07\x1b\x7f\x85\x9f\t\n\r\x0b\x0c\x1c\u2028\u00a0\u3000",
    "\ud800",
    "\udfff",
    "\ud83d\ude00",  # a surrogate *pair* as two code points, as json.loads gives it
    *"\u200f\u202e\u2066\u061c\u200b\u200d\ufeff",
    "שלום",
    "مرحبا",
    "🔥",
    "👩‍💻",
    "🇩🇪",
    "1️⃣",
    "\U0001faff",
    "\u2600",
    "\u2780",
    "\\n",
    "\\t",
    "\\",
    "://",
    "http://x.io/a?b=c",
    "HTTPS://",
    "www.",
    "www.acme.com/x",
    *"İẞßΣςﬁⅫＡＢＣ①㎏Kǅ",
    "\u0301",
    "e\u0301",
    "!!!",
    "?!",
    *":-._'\"",
]


_CHARACTER = st.characters() | st.characters(categories=["Cs"])  # the default has no Cs
_LONG_RUN = st.builds(lambda piece, n: piece * n, st.sampled_from(AWKWARD), st.integers(500, 5000))
#: Text made of awkward fragments, random code points (surrogates included) and long runs.
awkward_text = st.lists(
    st.sampled_from(AWKWARD) | st.text(_CHARACTER, min_size=1, max_size=8) | _LONG_RUN,
    max_size=12,
).map("".join)
#: Metadata as a JSON body or a CSV row gives it: odd keys, any values, numbers, nulls.
awkward_metadata = st.dictionaries(
    awkward_text | st.sampled_from(["product", "plan", "Region", "CHANNEL"]),
    awkward_text | st.none() | st.integers() | st.floats(allow_nan=False) | st.booleans(),
    max_size=5,
)


def _is_clean(text: str) -> bool:
    categories = {unicodedata.category(c) for c in text}
    return not categories & {"Cc", "Cs"} and text == " ".join(text.split())


@given(awkward_text)
@settings(max_examples=300)
def test_clean_text_output_is_clean_and_stable(text: str) -> None:
    """Whatever comes in, what comes out can be hashed (no surrogates), has no controls, single
    spaces only, and is a fixed point: cleaning twice equals cleaning once."""
    # WHEN awkward text is cleaned
    once = clean_text(text)
    # THEN it is clean, UTF-8 encodable and stable
    assert _is_clean(once), ascii(once)
    once.encode("utf-8")
    assert clean_text(once) == once, ascii(text)


@given(awkward_text | st.none(), awkward_text | st.none(), awkward_metadata | st.none())
@settings(max_examples=300)
def test_combine_fields_is_clean_fields_then_tokens(
    subject: str | None, body: str | None, metadata: dict[str, Any] | None
) -> None:
    """``combine_fields`` cleans subject and body in one pass; its comment says that equals
    cleaning each apart (the joining newline stops escapes and URLs running across). The
    result has no controls and single spaces, with the metadata tokens last. (It is not always
    a fixed point of clean_text: a slug can spell a URL, e.g. value ``www. x`` gives the token
    ``k:www._x``; nothing cleans combined text again, so that is not asserted.)"""
    combined = combine_fields(subject, body, metadata)
    separately = " ".join(
        part for part in (clean_text(subject or ""), clean_text(body or "")) if part
    )
    tokens = " ".join(metadata_tokens(metadata))
    assert combined == f"{separately} {tokens}".strip()
    assert _is_clean(combined), ascii(combined)


_KEY = st.text(_CHARACTER | st.sampled_from(".-:"), min_size=1, max_size=12)


@given(st.dictionaries(_KEY | awkward_text, awkward_text | st.none(), max_size=6))
def test_metadata_tokens_are_single_order_free_tokens(metadata: dict[str, Any]) -> None:
    """Each pair is one ``key:value`` token, so the heads see ``plan:pro`` and not ``plan`` and
    ``pro``; the dictionary's order does not matter."""
    tokens = metadata_tokens(metadata)
    assert tokenize(" ".join(tokens)) == tokens
    assert metadata_tokens(dict(reversed(metadata.items()))) == tokens


@pytest.mark.parametrize("text", ["\u210c\u0331", "\u1d34\u0331", "\u03d2\u0313", "\u03d4\u0301"])
def test_clean_text_is_idempotent_after_nfkc_case_folds(text: str) -> None:
    """Found by Hypothesis: NFKC can give an upper-case letter whose lower-case form composes
    with the next combining mark (ℌ̱ -> 'h' + U+0331 -> ẖ, ϒ̓ -> 'υ' + U+0313 -> ὐ), so one
    NFKC-and-lower-case pass was not a fixed point."""
    once = clean_text(text)
    assert clean_text(once) == once
    assert unicodedata.is_normalized("NFKC", once)


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"product-line": "x"}, ["product_line:x"]),
        ({"app.version": "2.1"}, ["app_version:2.1"]),
        ({".a": "b"}, ["a:b"]),
    ],
)
def test_metadata_keys_with_dots_or_dashes_stay_one_token(
    metadata: dict[str, str], expected: list[str]
) -> None:
    """Found by Hypothesis: keys kept '.' and '-', which TOKEN_PATTERN allows only after the
    colon, so 'product-line:x' tokenized as 'product' and 'line:x'."""
    tokens = metadata_tokens(metadata)
    assert tokens == expected
    assert tokenize(" ".join(tokens)) == tokens


# -- the numpy scorer against scikit-learn --------------------------------------------------------

FIT_ROWS = 400  # ~0.7 s to fit per calibration on 2 cores
HEADS = ("urgency", "topic", "is_bug")  # is_bug: a binary head, one score column in sklearn
META_FIELDS = ("product", "plan", "region", "channel")


def _sample_rows() -> list[dict[str, str]]:
    path = Path(str(SAMPLE_TICKETS))
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))[: 2 * FIT_ROWS]


SAMPLE = _sample_rows()
#: Real ticket words: those of the fitted rows, and of as many rows the model never saw.
WORDS = sorted(
    {t for row in SAMPLE for t in tokenize(clean_text(f"{row['subject']} {row['body']}"))}
)
META_VALUES = sorted({row[field] for row in SAMPLE for field in META_FIELDS})


def _ticket(row: dict[str, str]) -> dict[str, Any]:
    metadata = {field: row[field] for field in META_FIELDS}
    return {"subject": row["subject"], "body": row["body"], "metadata": metadata}


_FIELD = st.lists(st.sampled_from(WORDS) | st.sampled_from(WORDS) | awkward_text, max_size=30).map(
    " ".join
)
tickets = st.fixed_dictionaries(
    {
        "subject": _FIELD,
        "body": _FIELD,
        "metadata": st.dictionaries(
            st.sampled_from(META_FIELDS) | awkward_text,
            st.sampled_from(META_VALUES) | awkward_text,
            max_size=4,
        ),
    }
)


@pytest.fixture(scope="module", params=["temperature", "sigmoid"])
def reference(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[FittedModel, TriageModel]:
    """Heads fitted with scikit-learn on the first bundled sample tickets, and the numpy model
    loaded from the artifact written from them (once per calibration method)."""
    config = TrainConfig(cv_folds=3, calibration=request.param)
    rows = SAMPLE[:FIT_ROWS]
    labels = {
        "urgency": np.array([row["urgency"] for row in rows], dtype=object),
        "topic": np.array([row["topic"] for row in rows], dtype=object),
        "is_bug": np.array(["yes" if r["topic"] == "bug" else "no" for r in rows], dtype=object),
    }
    texts = combined_texts([_ticket(row) for row in rows], FeatureConfig())
    fitted = fit(texts, labels, config)
    directory = tmp_path_factory.mktemp(f"parity_{request.param}") / "model"
    build_artifact(fitted, config, {"n_train": FIT_ROWS}, directory)
    return fitted, TriageModel.load(directory)


@given(st.lists(tickets, min_size=1, max_size=6))
@settings(max_examples=50, deadline=None)
def test_numpy_scorer_matches_scikit_learn(
    reference: tuple[FittedModel, TriageModel],
    scikit_learn_parity: Callable[..., None],
    batch: list[dict[str, Any]],
) -> None:
    """The serving core never imports scikit-learn; it must still give the probabilities of the
    pipeline it was fitted as, on words it knows, words it never saw and any Unicode."""
    fitted, model = reference
    # GIVEN generated tickets, combined exactly as training and serving combine them
    texts = combined_texts(batch, model.features)
    # WHEN the numpy core featurises and scores them as a batch, THEN its features and every
    # head's probabilities are scikit-learn's
    scikit_learn_parity(fitted, model, texts, HEADS)
    # AND so are the one-ticket path's (the compiled scorer and plain-Python calibration)
    for ticket, text in zip(batch, texts, strict=True):
        if not text.strip():
            continue  # triage refuses a ticket without text
        one = model.triage(ticket)
        for head in HEADS:
            pipeline = fitted.pipeline(head)
            got = [one[head].probabilities[c] for c in pipeline.classes_]
            np.testing.assert_allclose(got, pipeline.predict_proba([text])[0], rtol=0, atol=1e-6)


@pytest.mark.skipif(not COMPILED, reason="the C extension is not built in this environment")
@given(tickets)
@settings(max_examples=100, deadline=None)
def test_compiled_scorer_matches_numpy(
    reference: tuple[FittedModel, TriageModel], ticket: dict[str, Any]
) -> None:
    """The C scorer (one call per ticket: features, TF-IDF, L2 norm, the dot products) gives
    the raw scores of numpy on the pure-Python features, to rounding."""
    _, model = reference
    text = combine_fields(ticket["subject"], ticket["body"], ticket["metadata"])
    python = Featurizer(model.features, compiled=False)
    expected = model.scores(python([text]))[0]
    np.testing.assert_allclose(model._score_one(text)[0], expected, rtol=0, atol=1e-12)
