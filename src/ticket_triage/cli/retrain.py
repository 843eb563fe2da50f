"""``triage retrain``: a candidate from the training data plus agents' feedback, registered with
its lineage beside the live version and compared with it on the most recent feedback.

The rules of what may be learnt (agents' labels only, corrections over older labels) are in
:mod:`ticket_triage.production.feedback_examples` and :mod:`ticket_triage.training.retrain`;
this command reads the log and the registry, runs them, and never promotes.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ticket_triage.cli.common import DatabaseOption, app, err, fail, open_store, out, steps
from ticket_triage.cli.models import RegistryOption, open_registry, operator

__all__ = ["retrain"]


@app.command()
def retrain(
    database: DatabaseOption,
    base_data: Annotated[
        Path, typer.Option("--base-data", help="The training data the live model learnt from.")
    ],
    registry: RegistryOption,
    holdout_days: Annotated[
        float | None,
        typer.Option(
            "--holdout-days",
            min=0.0,
            help="Hold out the feedback of the N days before the newest feedback.",
        ),
    ] = None,
    holdout_share: Annotated[
        float | None,
        typer.Option(
            "--holdout-share",
            min=0.0,
            max=0.9,
            help="Hold out the newest share of the feedback (default 0.2).",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Also keep the candidate's folder here (default: none)."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write lineage and comparison as JSON here.")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who retrains (default: you).")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress display.")] = False,
) -> None:
    """Train a candidate on --base-data plus agents' corrections and confirmations, register it
    (made_by retrain, parent the live version) and compare both on held-out recent feedback."""
    if holdout_days is not None and holdout_share is not None:
        raise fail("give --holdout-days or --holdout-share, not both")
    store = open_registry(registry)
    live = store.pointers().live
    if live is None:
        raise fail(f"{store.location}: no live version to retrain (triage models promote VERSION)")
    # the training libraries load only once the options and the registry are known to be good
    from ticket_triage.production.feedback_examples import feedback_examples, ticket_key
    from ticket_triage.training.retrain import Holdout
    from ticket_triage.training.retrain import retrain as run_retrain

    holdout = Holdout(days=holdout_days, share=0.2 if holdout_share is None else holdout_share)
    found = feedback_examples(open_store(database))
    skipped = {
        "without stored text": found.no_text,
        "queue only": found.no_label,
        "superseded by newer feedback": found.superseded,
    }
    with tempfile.TemporaryDirectory(prefix="triage-retrain-") as work:
        live_dir = store.fetch(live, Path(work) / "live")
        target = out_dir or Path(work) / "candidate"
        with steps(not quiet) as step:
            result = run_retrain(
                base_data, found.examples, ticket_key, live_dir, target, holdout, skipped, step
            )
        entry = store.add(
            result.out,
            made_by="retrain",
            parent=live,
            by=operator(by),
            note=result.lineage.note(live),
        )
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    _print(result.lineage.note(live), result.comparison, live, entry.version)
    if json_out is not None:
        document: dict[str, Any] = {
            "version": entry.version,
            "parent": live,
            "lineage": result.lineage.__dict__ | {"training_rows": result.lineage.training_rows},
            "comparison": result.comparison,
        }
        json_out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _print(note: str, comparison: dict[str, Any], live: str, candidate: str) -> None:
    """The lineage, then live against candidate per head, then what to do next."""
    out.print(f"{candidate} registered: {note}", highlight=False, soft_wrap=True)
    table = Table(
        title=f"on {comparison['n_held_out']} held-out feedback tickets "
        "(feedback only: reviewed and corrected tickets are over-represented)"
    )
    for column in ("head", "n", f"{live} (live) macro-F1", f"{candidate} macro-F1", "difference"):
        table.add_column(column, justify="left" if column == "head" else "right")
    for head, scores in comparison["heads"].items():
        table.add_row(
            head,
            str(scores["n"]),
            f"{scores['live']['macro_f1']:.3f}",
            f"{scores['candidate']['macro_f1']:.3f}",
            f"{scores['difference']:+.3f}",
        )
    out.print(table)
    out.print(
        f"Not promoted. Next: triage models shadow {candidate} (or canary {candidate} "
        f"--share 0.05), then triage compare --db ... --live {comparison['live']} --candidate "
        f"{comparison['candidate']}; triage models promote {candidate} when it is better.",
        highlight=False,
        soft_wrap=True,
    )
