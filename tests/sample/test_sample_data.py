"""``ticket_triage.sample.generator``: the committed demo CSV is reproducible and realistic.

The demo model is trained on ``sample/tickets.csv``; these tests pin that the file is exactly
what the generator makes, and that it keeps the properties the demo relies on (imbalance, German
rows, URLs and error codes in the text, labels inside the taxonomy).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from pathlib import Path

import pytest

from ticket_triage.sample import SAMPLE_TICKETS
from ticket_triage.sample.generator import (
    CHANNELS,
    COLUMNS,
    PLANS,
    PRODUCTS,
    REGIONS,
    TOPICS,
    URGENCIES,
    generate_tickets,
    write_sample_csv,
)

# Common German function words; two different ones in a ticket mark it as German.
GERMAN_WORDS = re.compile(r"\b(ich|nicht|bitte|und|wir|das|ist|mit|der|die|unser|unsere)\b", re.I)
ERROR_CODE = re.compile(
    r"\b(?:E\d{4}|0x[0-9A-F]{8}|HTTP [45]\d\d|ERR_[A-Z_]+)\b"
    r"|\b(?:error|code|fehler|fehlermeldung|error:)\s*[45]\d\d\b"
    r"|\([45]\d\d\)",
    re.IGNORECASE,
)
TAXONOMY = {
    "product": set(PRODUCTS),
    "plan": set(PLANS),
    "region": set(REGIONS),
    "channel": set(CHANNELS),
    "urgency": set(URGENCIES),
    "topic": set(TOPICS),
}


def _committed_csv() -> bytes:
    return SAMPLE_TICKETS.read_bytes()


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    """The committed sample, parsed as the trainer would read it."""
    return list(csv.DictReader(io.StringIO(_committed_csv().decode("utf-8"), newline="")))


def _share(rows: list[dict[str, str]], column: str, value: str) -> float:
    return Counter(row[column] for row in rows)[value] / len(rows)


def _text(row: dict[str, str]) -> str:
    return f"{row['subject']} {row['body']}"


def test_default_regeneration_reproduces_committed_csv(tmp_path: Path) -> None:
    # GIVEN the committed sample file
    committed = hashlib.sha256(_committed_csv()).hexdigest()

    # WHEN the generator writes a fresh file with its default arguments
    fresh = tmp_path / "sample_tickets.csv"
    write_sample_csv(fresh)

    # THEN both files are byte-for-byte identical
    assert hashlib.sha256(fresh.read_bytes()).hexdigest() == committed


def test_committed_csv_has_header_and_enough_rows(rows: list[dict[str, str]]) -> None:
    # GIVEN the committed sample
    # WHEN its header and size are read
    header = _committed_csv().split(b"\n", 1)[0].decode("utf-8")

    # THEN the header is the documented column order and there are at least 3,000 tickets
    assert header == ",".join(COLUMNS)
    assert len(rows) >= 3000


@pytest.mark.parametrize(
    ("column", "value", "low", "high"),
    [
        ("urgency", "high", 0.10, 0.15),
        ("urgency", "normal", 0.50, 0.65),
        ("urgency", "low", 0.25, 0.36),
        ("topic", "bug", 0.35, 0.45),
        ("topic", "billing", 0.20, 0.30),
        ("topic", "feature_request", 0.20, 0.30),
        ("topic", "account", 0.07, 0.13),
    ],
)
def test_class_shares_are_imbalanced_like_a_help_desk(
    rows: list[dict[str, str]], column: str, value: str, low: float, high: float
) -> None:
    # GIVEN the committed sample
    # WHEN the share of one label is counted
    share = _share(rows, column, value)

    # THEN it lies in the documented range (high urgency and account topic stay rare)
    assert low <= share <= high


def test_feature_requests_are_almost_never_high(rows: list[dict[str, str]]) -> None:
    # GIVEN the feature requests and the bugs in the sample
    features = [row for row in rows if row["topic"] == "feature_request"]
    bugs = [row for row in rows if row["topic"] == "bug"]

    # WHEN the share of high urgency is counted per topic
    features_high = _share(features, "urgency", "high")
    bugs_high = _share(bugs, "urgency", "high")

    # THEN feature requests are rarely high (label noise only) and bugs are high far more often
    assert features_high < 0.05
    assert bugs_high > 3 * features_high


def test_about_a_fifth_of_tickets_are_german(rows: list[dict[str, str]]) -> None:
    # GIVEN the committed sample
    # WHEN tickets with at least two different German function words are counted
    german = [
        row for row in rows if len({w.lower() for w in GERMAN_WORDS.findall(_text(row))}) >= 2
    ]

    # THEN at least 15 % of tickets are German
    assert len(german) / len(rows) >= 0.15


def test_text_carries_urls_and_error_codes(rows: list[dict[str, str]]) -> None:
    # GIVEN the committed sample
    # WHEN tickets with a URL and with an error code are counted
    with_url = sum("https://" in _text(row) or "http://" in _text(row) for row in rows)
    with_code = sum(ERROR_CODE.search(_text(row)) is not None for row in rows)

    # THEN enough of them carry each, so the cleaner's URL and code handling gets exercised
    assert with_url / len(rows) >= 0.05
    assert with_code / len(rows) >= 0.10


def test_no_ticket_is_empty_and_labels_are_in_the_taxonomy(rows: list[dict[str, str]]) -> None:
    # GIVEN the committed sample
    # WHEN each row's text and labels are checked
    empty = [row for row in rows if not _text(row).strip()]
    outside = [
        (column, row[column])
        for row in rows
        for column, allowed in TAXONOMY.items()
        if row[column] not in allowed
    ]

    # THEN no ticket lacks text and every label and metadata value is known
    assert empty == []
    assert outside == []


def test_same_seed_gives_same_rows_and_other_seed_other_rows() -> None:
    # GIVEN two generations with the same seed and one with a different seed
    first = generate_tickets(200, seed=11)
    again = generate_tickets(200, seed=11)
    other = generate_tickets(200, seed=12)

    # WHEN they are compared
    # THEN the same seed repeats every row and another seed changes them
    assert first == again
    assert first != other
    assert sum(a == b for a, b in zip(first, other, strict=True)) < 10


def test_rows_have_the_documented_columns() -> None:
    # GIVEN a small generation
    # WHEN its rows are inspected
    generated = generate_tickets(20, seed=3)

    # THEN every row has exactly the CSV columns, in order, with string values
    assert all(tuple(row) == COLUMNS for row in generated)
    assert all(isinstance(value, str) for row in generated for value in row.values())


def test_negative_count_is_rejected() -> None:
    # GIVEN a negative number of tickets
    # WHEN the generator is asked for them
    # THEN it refuses with a message naming the parameter
    with pytest.raises(ValueError, match="n must be >= 0"):
        generate_tickets(-1)
