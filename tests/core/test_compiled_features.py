"""The compiled featuriser (_featurize.c) against the pure-Python path it replaces."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticket_triage.core.features import (
    COMPILED,
    FeatureConfig,
    Featurizer,
    compiled_score_batch,
    compiled_score_text,
)
from ticket_triage.core.text import SUBJECT_MARK, clean_python, clean_text, combine_fields

pytestmark = pytest.mark.skipif(
    not COMPILED and not os.environ.get("CI"),
    reason="the C extension is not built in this environment",
)

# Characters at the edges of the token pattern: word, value and mark characters, emoji at and
# outside the range boundaries, dingbat digits (\w inside the emoji range), superscripts and
# fractions (\w via isnumeric), combining marks (not \w), CJK, astral letters.
EDGES = [
    *":.-_!? \t\n",
    "\u2600",
    "\u27bf",
    "\u27c0",
    "\u25ff",
    "\U0001f300",
    "\U0001faff",
    "\U0001fb00",
    "\u2780",
    "²",
    "½",
    "\u0301",
    "ä",
    "ß",
    "字",
    "\U0001d400",
    "٣",
    "x",
    "7",
    SUBJECT_MARK,  # where a subject block ends (clean_text never lets one through)
    "\u00a0",  # white space to str.split (char n-grams), not to the token pattern
    "\u2003",
    "\x1c",
]

#: Word-only (as before issue 13), every block at odd widths (the division path of the bucket
#: rule), and the training defaults' blocks.
CONFIGS = [
    FeatureConfig(),
    FeatureConfig(
        n_features=12345,
        char_ngram_range=(1, 3),
        char_n_features=3001,
        char_max_words=3,
        subject_weight=2.0,
        subject_n_features=1031,
    ),
    FeatureConfig(char_ngram_range=(2, 5), char_weight=0.7, subject_weight=0.5),
    FeatureConfig(char_ngram_range=(2, 5), char_weight=0.7, char_max_words=128, subject_weight=0.5),
]


def _assert_same(texts: list[str], config: FeatureConfig) -> None:
    fast = Featurizer(config)(texts)
    slow = Featurizer(config, compiled=False)(texts)
    assert fast.indptr.tolist() == slow.indptr.tolist()
    assert fast.indices.tolist() == slow.indices.tolist()
    assert np.array_equal(fast.counts, slow.counts)


def test_the_extension_is_built_in_ci():
    # A silently missing extension would only show as slower scoring: fail loudly instead.
    assert COMPILED


@given(
    st.lists(st.text(st.sampled_from(EDGES), max_size=40), min_size=1, max_size=4),
    st.sampled_from(CONFIGS),
)
@settings(max_examples=400)
def test_compiled_matches_python_on_edge_characters(texts, config):
    _assert_same(texts, config)


@given(
    st.text(max_size=200),
    st.text(max_size=60),
    st.sampled_from([(1, 1), (1, 2), (1, 3), (2, 3)]),
    st.sampled_from([None, (1, 1), (2, 5), (3, 8)]),
    st.sampled_from([None, 1, 4]),
)
@settings(max_examples=200)
def test_compiled_matches_python_on_any_text(body, subject, ngram_range, char_range, words):
    config = FeatureConfig(
        ngram_range=ngram_range,
        n_features=12345,
        char_ngram_range=char_range,
        char_max_words=words,
        subject_weight=0.5,
    )
    _assert_same([clean_text(body), combine_fields(subject, body, mark_subject=True)], config)


@pytest.mark.parametrize(
    "path",
    [
        "support_tickets_sample/tickets.csv",
        "github_issues_nlbse24/train.csv",
        "github_issues_nlbse24/test.csv",
        "bitext_customer_support/tickets.csv",
        "banking77/train.csv",
        "banking77/test.csv",
    ],
)
def test_compiled_matches_python_on_every_shared_ticket(shared_datasets, path):
    import pandas as pd

    folder = shared_datasets
    if not (folder / path).is_file() and path.startswith("banking77"):
        # Not in every copy of the shared data: benchmarks/get_banking77.py builds it, here or
        # in the folder TRIAGE_EXTRA_DATASETS names.
        folder = Path(os.environ.get("TRIAGE_EXTRA_DATASETS", shared_datasets))
        if not (folder / path).is_file():
            pytest.skip("banking77 (issue 13) is not built here (benchmarks/get_banking77.py)")

    frame = pd.read_csv(folder / path, dtype=str, keep_default_na=False)
    pairs = list(zip(frame.subject, frame.body, strict=True))
    for field in (*frame.subject, *frame.body, *(f"{s}\n{b}" for s, b in pairs)):
        assert clean_text(field) == clean_python(field)  # the compiled ASCII path where ASCII
    plain = [clean_text(f"{s}\n{b}") for s, b in pairs]
    _assert_same(plain, CONFIGS[0])
    _assert_batch_scores_same(plain, CONFIGS[0])
    marked = [combine_fields(s, b, mark_subject=True) for s, b in pairs]
    for config in CONFIGS[1:]:
        _assert_same(marked, config)
    _assert_batch_scores_same(marked, CONFIGS[-1])


def _table(config: FeatureConfig, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """A random weight table as Weights lays it out, a third of the rows marked unseen."""
    rng = np.random.default_rng(0)
    table = rng.normal(size=(config.width, columns + 1)).astype(np.float32)
    table[:, columns] = np.abs(table[:, columns]) + 0.1
    table[rng.random(config.width) < 0.3, columns] *= -1
    return table, rng.normal(size=columns)


def _assert_batch_scores_same(texts: list[str], config: FeatureConfig) -> None:
    """score_batch over all texts gives exactly (every bit) what score_text gives one by one."""
    table, intercept = _table(config, columns=4)
    low, high = config.ngram_range
    head = (config.n_features, low, high, table, intercept, True)
    scores, unseen = np.empty((len(texts), 4)), np.empty(len(texts))
    compiled_score_batch(texts, *head, scores, unseen, *config.layout)
    single = [compiled_score_text(text, *head, *config.layout) for text in texts]
    assert np.array_equal(scores, np.array([row for row, _ in single]))
    assert np.array_equal(unseen, np.array([share for _, share in single]))


def test_a_custom_token_pattern_uses_the_python_path():
    featurizer = Featurizer(FeatureConfig(token_pattern=r"(?u)\b\w\w+\b"))
    assert not featurizer.compiled


@pytest.mark.parametrize("blocks", [True, False], ids=["blocks", "word-only"])
@pytest.mark.parametrize("sublinear", [True, False])
def test_compiled_scores_match_numpy_scores(shared_datasets, tmp_path, sublinear, blocks):
    import pandas as pd

    from ticket_triage.training.config import TrainConfig
    from ticket_triage.training.fitting import combined_texts, feature_config
    from ticket_triage.training.in_memory import fit
    from ticket_triage.training.train import build_artifact

    # GIVEN a model trained on real tickets, with or without sublinear TF, with the char and
    # subject blocks of the defaults or with word n-grams only
    frame = pd.read_csv(
        shared_datasets / "support_tickets_sample" / "tickets.csv", dtype=str, keep_default_na=False
    ).iloc[:700]
    tickets = [{"subject": s, "body": b} for s, b in zip(frame.subject, frame.body, strict=True)]
    only_words = {} if blocks else {"char_ngram_range": None, "subject_weight": None}
    config = TrainConfig(cv_folds=3, sublinear_tf=sublinear, use_idf=sublinear, **only_words)
    texts = combined_texts(tickets, feature_config(config))
    labels = {"topic": frame.topic.to_numpy(object)[:500]}
    model = build_artifact(fit(texts[:500], labels, config), config, {}, tmp_path / "m")
    python = Featurizer(model.features, compiled=False)
    # WHEN held-out tickets are scored one by one in C and as a batch with numpy
    for text in [*texts[500:], "", "!!!"]:
        expected = model.scores(python([text]))[0]
        scores, unseen = model._score_one(text)
        # THEN the raw scores agree to rounding, and so does the unseen-feature share that the
        # same compiled pass counts for the prediction log
        np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-12)
        assert unseen == pytest.approx(model.unseen_share([text])[0], abs=1e-12)


def test_compiled_scores_refuse_a_table_of_the_wrong_size():
    from ticket_triage.core.features import compiled_score_text

    table = np.zeros((16, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="table must be float32"):
        compiled_score_text("text", 32, 1, 2, table, np.zeros(2), True)
    with pytest.raises(ValueError, match="table must be float32"):  # the char block is missing
        compiled_score_text("text", 16, 1, 2, table, np.zeros(2), True, 16, 2, 5, 0)
    with pytest.raises(ValueError, match="char_min"):
        compiled_score_text("text", 16, 1, 2, table, np.zeros(2), True, 16, 3, 2, 0)


def test_batch_scores_match_single_scores_on_edge_texts():
    # GIVEN texts at the edges: empty, marks only, a subject mark, astral and combining
    # characters, and one long enough for a large hash table
    texts = ["", "!!!", f"subject{SUBJECT_MARK}body", "\U0001d400\u0301 字 ä", "word " * 3000]
    # WHEN they are scored as one batch and one by one, THEN every bit agrees
    for config in CONFIGS:
        _assert_batch_scores_same(texts, config)


def test_batch_scores_refuse_bad_buffers_and_texts():
    config = CONFIGS[1]
    table, intercept = _table(config, columns=2)
    head = (config.n_features, 1, 2, table, intercept, True)
    # GIVEN output buffers of the wrong size, THEN a ValueError names them
    with pytest.raises(ValueError, match="scores must be float64"):
        compiled_score_batch(["a", "b"], *head, np.empty((1, 2)), np.empty(2), *config.layout)
    # GIVEN a text that is not a str, THEN a TypeError says which
    with pytest.raises(TypeError, match=r"texts\[1\] must be str"):
        compiled_score_batch(["a", b"b"], *head, np.empty((2, 2)), np.empty(2), *config.layout)
    # GIVEN a read-only output buffer, THEN it is refused
    with pytest.raises(TypeError):
        compiled_score_batch(["a"], *head, bytes(16), np.empty(1), *config.layout)


# ASCII at the edges of clean_text's steps: escaped white space (and its upper case), URL
# schemes, "www." and word boundaries before them, every white space and control character.
ASCII_EDGES = [
    *"\\nrtNRT:/w.W_-+0a!? ",
    "http",
    "HTTPS",
    "www.",
    "://",
    *"\t\n\x0b\x0c\r\x1c\x1f\x00\x07\x0e\x1b\x7f",
]


@given(st.lists(st.sampled_from(ASCII_EDGES), max_size=60).map("".join))
@settings(max_examples=1500)
def test_compiled_cleaning_matches_python_at_its_edges(text):
    assert clean_text(text) == clean_python(text)


@given(st.text(st.characters(max_codepoint=127), max_size=300))
@settings(max_examples=500)
def test_compiled_cleaning_matches_python_on_any_ascii(text):
    assert clean_text(text) == clean_python(text)


@given(st.text(st.characters(max_codepoint=0xFF), max_size=300))
@settings(max_examples=500)
def test_compiled_cleaning_matches_python_below_u0100(text):
    assert clean_text(text) == clean_python(text)


@pytest.mark.parametrize("code_point", range(256))
def test_compiled_cleaning_of_each_code_point_below_u0100(code_point):
    # Between letters, after a URL and at either end, in upper and lower case.
    char = chr(code_point)
    for text in (f"A{char}b", f"see http://x{char}y ok", f"{char}www.{char}", char, char * 3):
        assert clean_text(text) == clean_python(text)


def test_the_compiled_cleaning_leaves_to_python_what_nfkc_changes():
    import unicodedata

    from ticket_triage.core._featurize import clean_latin1

    # GIVEN the code points below U+0100 whose lower-case form NFKC changes (ª, ², µ, ¼, ...)
    changed = [
        c
        for c in range(256)
        if unicodedata.normalize("NFKC", chr(c).lower()) != chr(c).lower() and c != 0xA0
    ]
    # THEN the C path declines exactly those (and anything from U+0100 on); NO-BREAK SPACE,
    # which NFKC makes a space, it cleans as white space
    assert [c for c in range(256) if clean_latin1(f"x{chr(c)}") is None] == changed
    assert clean_latin1("Caf\u00e9 \u0100") is None
    assert clean_latin1("Caf\u00e9\u00a0OK") == "caf\u00e9 ok"


def _texts_of_support(shared_datasets: Path, n: int) -> list[str]:
    import pandas as pd

    frame = pd.read_csv(
        shared_datasets / "support_tickets_sample" / "tickets.csv", dtype=str, keep_default_na=False
    ).iloc[:n]
    return [
        combine_fields(s, b, mark_subject=True)
        for s, b in zip(frame.subject, frame.body, strict=True)
    ]


@pytest.mark.parametrize("columns", [4, 7, 20], ids=["few", "two-heads", "wide"])
def test_a_warm_word_cache_gives_the_bits_of_a_fresh_call(shared_datasets, columns):
    # GIVEN real tickets, a model table of 4 columns (the generic sum), 7 (the two default heads,
    # specialised) or 20 (more than the locals: summed in memory)
    from ticket_triage.core._featurize import new_workspace

    config = CONFIGS[-1]
    texts = _texts_of_support(shared_datasets, 1500)
    table, intercept = _table(config, columns)
    low, high = config.ngram_range
    head = (config.n_features, low, high, table, intercept, True)
    # WHEN they are scored by fresh calls, then twice through one workspace (the second time
    # every word's char n-grams come from its cache), then as one batch
    fresh = [compiled_score_text(text, *head, *config.layout) for text in texts]
    work = new_workspace()
    warm = [compiled_score_text(text, *head, *config.layout, work) for text in texts * 2]
    scores, unseen = np.empty((len(texts), columns)), np.empty(len(texts))
    compiled_score_batch(texts, *head, scores, unseen, *config.layout)
    # THEN every score and unseen share is the same, bit for bit
    assert warm == fresh * 2
    assert np.array_equal(scores, np.array([row for row, _ in fresh]))
    assert np.array_equal(unseen, np.array([share for _, share in fresh]))


def test_a_full_word_cache_starts_again_and_features_stay_exact():
    # GIVEN more distinct words than the cache holds (32,768), with everyday words between them
    rng = np.random.default_rng(1)
    words = [f"w{number:x}" for number in rng.permutation(10**6)[:40_000]]
    texts = [
        " ".join([*words[start : start + 50], "payment", "failed", "please"])
        for start in range(0, len(words), 50)
    ]
    config = CONFIGS[-1]
    featurizer = Featurizer(config)
    # WHEN one featuriser (one workspace) featurises them twice, THEN the features are the
    # Python reference's both times
    for _ in range(2):
        fast, slow = featurizer(texts), Featurizer(config, compiled=False)(texts)
        assert fast.indices.tolist() == slow.indices.tolist()
        assert np.array_equal(fast.counts, slow.counts)


def test_one_workspace_serves_models_of_different_blocks(shared_datasets):
    # GIVEN one workspace used for features of every config in turn, text by text (its cache is
    # for one char block at a time)
    from ticket_triage.core._featurize import hash_ngrams, new_workspace

    work = new_workspace()
    for text in _texts_of_support(shared_datasets, 60):
        for config in CONFIGS:
            low, high = config.ngram_range
            args = (text, config.n_features, low, high, *config.layout)
            # THEN each is what a call without it gives
            assert hash_ngrams(*args, work) == hash_ngrams(*args)


def test_a_workspace_must_be_one():
    from ticket_triage.core._featurize import hash_ngrams

    with pytest.raises(TypeError):
        hash_ngrams("payment failed", 1024, 1, 2, 0, 0, 0, 0, 0, "not a workspace")
