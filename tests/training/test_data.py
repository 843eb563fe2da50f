"""Reading files in the data contract: formats, encodings, and what is ignored."""

from __future__ import annotations

import pandas as pd
import pytest

from ticket_triage.core.errors import DataError
from ticket_triage.training.data import read_tickets


def test_utf8_with_byte_order_mark_reads_its_first_column(tmp_path):
    # GIVEN a CSV as Excel saves it: UTF-8 with a byte-order mark before the header
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "subject,body,topic\nRechnung,Zahlung fehlgeschlagen,billing\n".encode("utf-8-sig")
    )
    # WHEN it is read THEN 'subject' is found, not '\ufeffsubject'
    tickets = read_tickets(path)
    assert tickets.tickets[0]["subject"] == "Rechnung"


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_jsonl_and_parquet_carry_the_same_tickets(tmp_path, suffix):
    frame = pd.DataFrame(
        {
            "subject": ["Login", ""],
            "body": ["cannot sign in", "refund please"],
            "plan": ["pro", None],
            "urgency": ["high", ""],
            "notes": ["ignored", "ignored"],
        }
    )
    path = tmp_path / f"tickets{suffix}"
    if suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)
    tickets = read_tickets(path)
    assert [t["body"] for t in tickets.tickets] == ["cannot sign in", "refund please"]
    assert tickets.tickets[0]["metadata"] == {"plan": "pro"}
    assert tickets.tickets[1]["metadata"] == {"plan": ""}  # missing metadata is empty
    assert tickets.labels == {"urgency": ["high", ""]}  # unlabelled rows kept, label empty
    assert tickets.metadata_columns == ["plan"]


def test_named_metadata_column_must_exist_unless_optional(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("subject,body,topic\na,b,bug\n")
    with pytest.raises(DataError, match="metadata column 'plan'"):
        read_tickets(path, ["plan"])
    assert read_tickets(path, ["plan"], optional_metadata=True).missing_metadata == ["plan"]
