"""Rebuild BENCHMARKS.md from its prose and what each benchmark last measured.

``benchmarks/BENCHMARKS.md.in`` holds the prose, with ``{{name}}`` where the measured part of a
section goes: ``benchmarks/results/<name>.md``, written by that script's ``--results`` option.
``{{targets}}`` becomes one table of every target the scripts checked
(``benchmarks/results/<name>.json``), in the order the sections appear. So a number in
BENCHMARKS.md is always one a script printed, with the date and command it printed beside it.

Usage::

    python benchmarks/assemble.py [--check]

``--check`` changes nothing and fails when BENCHMARKS.md is not what the results give (a test
runs it, so a hand edit of BENCHMARKS.md or a result left out of a commit is caught).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "benchmarks" / "BENCHMARKS.md.in"
RESULTS = ROOT / "benchmarks" / "results"
OUTPUT = ROOT / "BENCHMARKS.md"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


class MissingResult(Exception):
    """A section of the template has no result file yet."""


def _targets(names: list[str], results: Path) -> str:
    rows = ["| target | measured | status | measured on |", "|---|---|:---:|---|"]
    for name in names:
        path = results / f"{name}.json"
        if not path.is_file():
            continue
        record = json.loads(path.read_text())
        for target in record["targets"]:
            status = "met" if target["met"] else "**NOT met**"
            rows.append(
                f"| {target['target']} | {target['measured']} | {status} | "
                f"{record['date']} ({name}) |"
            )
    return "\n".join(rows)


def assemble(template: str, results: Path) -> str:
    """The document: every ``{{name}}`` replaced by ``results/<name>.md`` or the targets table.

    Raises
    ------
    MissingResult
        A section's result file does not exist; the message names the command that writes it.
    """
    names = [name for name in _PLACEHOLDER.findall(template) if name != "targets"]
    missing = [name for name in names if not (results / f"{name}.md").is_file()]
    if missing:
        raise MissingResult(
            "no results for: " + ", ".join(missing) + " (run `make bench` or the section's "
            f"`make bench-<name>`; they write {results}/<name>.md)"
        )

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "targets":
            return _targets(names, results)
        return (results / f"{name}.md").read_text().rstrip()

    return _PLACEHOLDER.sub(fill, template)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if BENCHMARKS.md is stale")
    args = parser.parse_args()
    try:
        text = assemble(TEMPLATE.read_text(), RESULTS)
    except MissingResult as exc:
        sys.exit(f"assemble: {exc}")
    if args.check:
        if not OUTPUT.is_file() or OUTPUT.read_text() != text:
            sys.exit(
                "assemble: BENCHMARKS.md is not what benchmarks/results gives; run "
                "`python benchmarks/assemble.py`"
            )
        return
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
