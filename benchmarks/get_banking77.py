"""Build banking77 (short, many-intent requests) in the project's data contract, with provenance.

banking77 (Casanueva et al., 2020, "Efficient Intent Detection with Dual Sentence Encoders"):
13,083 online-banking requests of a few words each, 77 intents, an official train/test split;
CC BY 4.0. It is the short many-class intent text that issue 13 measures against a frozen
sentence-embedding baseline. It is not in every copy of ``../shared/datasets``, and it must not
be copied into this repository, so this script builds it where the benchmarks look for it:
``../shared/datasets/banking77`` by default, or any folder named by ``--dest`` and then given to
the benchmarks as ``TRIAGE_EXTRA_DATASETS``.

The source is pinned: PolyAI-LDN/task-specific-datasets at commit 57ec275, files
``banking_data/{train,test}.csv``, checked against their sha256 before anything is written.
``--source DIR`` reads them from a local copy of that repository (a machine without GitHub);
otherwise they are downloaded from raw.githubusercontent.com.

Mapping: ``text`` -> ``body`` (``subject`` empty), ``category`` -> ``topic``.

Usage::

    python benchmarks/get_banking77.py [--dest DIR] [--source DIR]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMIT = "57ec275d8078af65b7731c2a98be812d844a6d6b"
URL = f"https://raw.githubusercontent.com/PolyAI-LDN/task-specific-datasets/{COMMIT}/banking_data"
SHA256 = {
    "train.csv": "b06e26ac675513959a63135f11b94ea7786ed02da65db93a5650d8838cbc664b",
    "test.csv": "d12d6e3bc4c3103966ae786dc435913c0c563dfa328f5a3646d0e62cfeeb474d",
}
ROWS = {"train.csv": 10_003, "test.csv": 3_080}

PROVENANCE = f"""# banking77

Built by ticket-triage's `benchmarks/get_banking77.py`; do not copy into a project.

| file | rows | labels |
|---|---:|---|
| `train.csv` | {ROWS["train.csv"]:,} | topic: 77 intents (card_arrival, lost_or_stolen_card, ...) |
| `test.csv` | {ROWS["test.csv"]:,} | the same 77 intents (the official test split) |

## Provenance and licence
- banking77: Casanueva, Temcinas, Gerz, Henderson and Vulic, "Efficient Intent Detection with
  Dual Sentence Encoders" (NLP4ConvAI 2020). Online-banking customer requests, each labelled
  with one of 77 intents.
- Source: GitHub PolyAI-LDN/task-specific-datasets, commit {COMMIT[:7]},
  `banking_data/train.csv` (sha256 {SHA256["train.csv"][:12]}...) and `banking_data/test.csv`
  (sha256 {SHA256["test.csv"][:12]}...).
- Licence: Creative Commons Attribution 4.0 International (the repository's LICENSE).
- Mapping: `text` -> `body` (`subject` empty), `category` -> `topic`.
"""


def _source_bytes(name: str, source: Path | None) -> bytes:
    """The pinned file's bytes, from the local copy or GitHub; refuses any other content."""
    if source is not None:
        data = (source / "banking_data" / name).read_bytes()
    else:
        with urllib.request.urlopen(f"{URL}/{name}", timeout=60) as response:  # noqa: S310 - https, pinned
            data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256[name]:
        raise SystemExit(f"{name}: sha256 {digest} is not the pinned {SHA256[name]}")
    return data


def contract_rows(data: bytes) -> list[list[str]]:
    """``text,category`` rows -> ``subject,body,topic`` rows of the data contract."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8")))
    return [["", row["text"], row["category"]] for row in reader]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dest", type=Path, default=ROOT.parent / "shared" / "datasets" / "banking77"
    )
    parser.add_argument(
        "--source", type=Path, default=None, help="a local copy of task-specific-datasets"
    )
    args = parser.parse_args()
    try:
        files = {name: contract_rows(_source_bytes(name, args.source)) for name in SHA256}
    except OSError as exc:
        raise SystemExit(f"cannot read the source: {exc}") from exc
    for name, rows in files.items():
        if len(rows) != ROWS[name]:
            raise SystemExit(f"{name}: {len(rows)} rows, expected {ROWS[name]}")
    try:
        args.dest.mkdir(parents=True, exist_ok=True)
        for name, rows in files.items():
            with (args.dest / name).open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(["subject", "body", "topic"])
                writer.writerows(rows)
        (args.dest / "README.md").write_text(PROVENANCE)
    except OSError as exc:
        raise SystemExit(
            f"cannot write {args.dest}: {exc} (name another folder with --dest, then set "
            "TRIAGE_EXTRA_DATASETS to it)"
        ) from exc
    print(f"wrote {args.dest}: " + ", ".join(f"{n} {len(r):,} rows" for n, r in files.items()))


if __name__ == "__main__":
    sys.exit(main())
