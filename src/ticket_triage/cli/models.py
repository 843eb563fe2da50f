"""``triage models``: the model registry from the command line.

``list`` and ``show`` (versions, their lineage and metrics, which role each holds, who changed
the pointers and why), ``add`` (register a trained, retuned or retrained artifact), and the
pointer changes a service picks up without a restart: ``promote``, ``rollback``, ``shadow`` and
``canary``. Every command takes ``--registry`` (a folder or ``s3://bucket/prefix``, default
``TRIAGE_REGISTRY``, the variable the service reads) and the pointer changes record ``--by``
(default: the OS user), so the history answers "who did this, when, why".
"""

from __future__ import annotations

import getpass
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ticket_triage.cli.common import app, err, fail, out

if TYPE_CHECKING:
    from ticket_triage.registry import Entry, Event, Pointers, Registry

__all__ = ["RegistryOption", "models", "open_registry", "operator"]

models = typer.Typer(
    name="models",
    help="The model registry: versions, lineage, and which is live, shadow or canary.",
    no_args_is_help=True,
)
app.add_typer(models)

RegistryOption = Annotated[
    str,
    typer.Option(
        "--registry",
        envvar="TRIAGE_REGISTRY",
        help="The registry: a folder or s3://bucket/prefix (the service's TRIAGE_REGISTRY).",
    ),
]
ByOption = Annotated[
    str | None, typer.Option("--by", help="Who makes the change, for the history (default: you).")
]
ReasonOption = Annotated[
    str | None, typer.Option("--reason", help="Why, for the history (shown by `models show`).")
]
VersionArgument = Annotated[str, typer.Argument(help="A registry version: v0001, v0002, ...")]


def open_registry(location: str) -> Registry:
    """The registry at ``location`` (RegistryError, a one-line failure, if it cannot be used)."""
    from ticket_triage.registry import Registry

    if location.lower().startswith("s3:") and not location.startswith("s3://"):
        raise fail(f"--registry {location}: an S3 registry is s3://bucket/prefix")
    return Registry.open(location)


def operator(by: str | None) -> str:
    """``--by``, else the OS user: a pointer change is never anonymous when it can be named."""
    if by:
        return by
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no USER/LOGNAME variable (a bare container)
        return "unknown"


def _roles(pointers: Pointers) -> dict[str, str]:
    """Version -> the role it holds now (live, shadow, canary with its share)."""
    roles: dict[str, str] = {}
    if pointers.live:
        roles[pointers.live] = "live"
    if pointers.shadow:
        roles[pointers.shadow] = "shadow"
    if pointers.canary:
        roles[pointers.canary] = f"canary {pointers.canary_share:.0%}"
    return roles


def _history_of(pointers: Pointers, version: str) -> list[Event]:
    """The pointer events that gave ``version`` a role or took one from it.

    The history is replayed, because an event names the version it points *to*: a rollback
    away from ``version``, or a ``--clear`` of its canary, names another version or none.
    """
    found: list[Event] = []
    stack: list[str] = []
    shadow = canary = None
    for event in pointers.history:
        before = {stack[-1] if stack else None, shadow, canary}
        if event.action == "promote" and event.version:
            stack.append(event.version)
        elif event.action == "rollback" and stack:
            stack.pop()
        elif event.action == "shadow":
            shadow = event.version
        elif event.action in ("canary", "stop_canary"):
            canary = event.version if event.action == "canary" else None
        live = stack[-1] if stack else None
        shadow, canary = (None if other == live else other for other in (shadow, canary))
        after = {live, shadow, canary}
        if event.version == version or (version in before) != (version in after):
            found.append(event)
    return found


def _verify(registry: Registry, version: str) -> None:
    """Download ``version`` and check it as a service would, before a pointer names it: a
    tampered version is refused here rather than by every service that polls the pointers."""
    with tempfile.TemporaryDirectory(prefix="triage-verify-") as cache:
        registry.fetch(version, Path(cache))


@models.command(name="list")
def list_(
    registry: RegistryOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print entries and pointers as JSON.")] = (
        False
    ),
) -> None:
    """Every version, oldest first: parent, how it was made, when, macro-F1 per head, role."""
    store = open_registry(registry)
    entries, pointers = store.entries(), store.pointers()
    if as_json:
        document = {
            "entries": [entry.to_json() for entry in entries],
            "pointers": pointers.to_json(),
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    if not entries:
        raise fail(f"{store.location}: no versions yet (add one: triage models add MODEL_DIR)")
    heads = sorted({head for entry in entries for head in entry.metrics})
    roles = _roles(pointers)
    table = Table(title=f"model registry {store.location}")
    columns = ("version", "parent", "made by", "created (UTC)", *(f"{h} macro-F1" for h in heads))
    for column in columns:
        table.add_column(column, justify="right" if column.endswith("F1") else "left")
    table.add_column("role")
    for entry in entries:
        scores = [entry.metrics.get(head, {}).get("macro_f1") for head in heads]
        table.add_row(
            entry.version,
            entry.parent or "",
            entry.made_by,
            entry.created_at[:16].replace("T", " "),
            *("" if score is None else f"{score:.3f}" for score in scores),
            roles.get(entry.version, ""),
        )
    out.print(table)
    if pointers.live is None:
        out.print("No version is live yet: triage models promote VERSION", highlight=False)


@models.command()
def show(
    version: VersionArgument,
    registry: RegistryOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print the entry as JSON.")] = False,
) -> None:
    """One version's entry (lineage, note, checksum, metrics) and its pointer history."""
    store = open_registry(registry)
    entry, pointers = store.entry(version), store.pointers()
    history = _history_of(pointers, version)
    if as_json:
        document = {
            "entry": entry.to_json(),
            "role": _roles(pointers).get(version),
            "history": [event.__dict__ for event in history],
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    _print_entry(entry, _roles(pointers).get(version))
    if not history:
        out.print("history: never promoted, shadowed or canaried", highlight=False)
        return
    table = Table(title=f"{version}: pointer history")
    for column in ("at", "by", "action", "to", "reason"):
        table.add_column(column)
    for event in history:
        table.add_row(event.at, event.by, event.action, event.version or "-", event.reason or "")
    out.print(table)


def _print_entry(entry: Entry, role: str | None) -> None:
    """The entry's fields, one a line, and its metrics summary as a table."""
    lines = {
        "version": entry.version,
        "role": role or "none",
        "parent": entry.parent or "none",
        "made by": entry.made_by,
        "created": f"{entry.created_at} by {entry.created_by}",
        "model version": entry.model_version or "unknown",
        "manifest sha256": entry.manifest_sha256,
        "note": entry.note or "",
    }
    for key, value in lines.items():
        out.print(f"{key + ':':<16} {value}", highlight=False, soft_wrap=True)
    if entry.metrics:
        table = Table(title="held-out metrics (metrics.json)")
        keys = ("n", "accuracy", "macro_f1", "coverage", "ece")
        for column in ("head", *keys):
            table.add_column(column, justify="left" if column == "head" else "right")
        for head, figures in sorted(entry.metrics.items()):
            cells = [figures.get(key) for key in keys]
            table.add_row(
                head, *("" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)
                        for v in cells),
            )  # fmt: skip
        out.print(table)


@models.command()
def add(
    model_dir: Annotated[Path, typer.Argument(help="A sealed artifact (triage train --out DIR).")],
    registry: RegistryOption,
    made_by: Annotated[
        str, typer.Option("--made-by", help="How it was made: train, retune or retrain.")
    ] = "train",
    parent: Annotated[
        str | None, typer.Option("--parent", help="The version it was made from.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Free text kept in the entry.")] = None,
    by: ByOption = None,
) -> None:
    """Register an artifact as the next version (verified, copied unchanged; never live yet)."""
    entry = open_registry(registry).add(
        model_dir, made_by=made_by, parent=parent, by=operator(by), note=note
    )
    out.print(
        f"{entry.version} added ({entry.made_by}"
        + (f" from {entry.parent}" if entry.parent else "")
        + f", model {entry.model_version}). Next: triage models promote {entry.version}",
        highlight=False,
    )


@models.command()
def promote(
    version: VersionArgument,
    registry: RegistryOption,
    by: ByOption = None,
    reason: ReasonOption = None,
) -> None:
    """Make VERSION live (after verifying its files); services swap it in without a restart."""
    store = open_registry(registry)
    before = store.pointers().live
    _verify(store, version)
    store.promote(version, by=operator(by), reason=reason)
    out.print(
        f"{version} is live" + (f" (was {before}; undo: triage models rollback)" if before else ""),
        highlight=False,
    )


@models.command()
def rollback(registry: RegistryOption, by: ByOption = None, reason: ReasonOption = None) -> None:
    """Make the previously promoted version live again (repeat to walk further back)."""
    store = open_registry(registry)
    before = store.pointers().live
    target = store.rollback(by=operator(by), reason=reason)
    out.print(f"{target} is live again (was {before})", highlight=False)


@models.command()
def shadow(
    registry: RegistryOption,
    version: Annotated[
        str | None, typer.Argument(help="The version to score every ticket with, off the path.")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Stop shadow scoring.")] = False,
    by: ByOption = None,
) -> None:
    """Score every ticket also with VERSION, logged beside the live decision, never returned."""
    store = open_registry(registry)
    if clear == (version is not None):
        raise fail("give a VERSION to shadow, or --clear to stop (not both)")
    if version is not None:
        _verify(store, version)
    pointers = store.set_shadow(version, by=operator(by))
    out.print(
        f"shadow: {pointers.shadow}" if pointers.shadow else "no shadow version", highlight=False
    )


@models.command()
def canary(
    registry: RegistryOption,
    version: Annotated[
        str | None, typer.Argument(help="The version to answer a share of tickets with.")
    ] = None,
    share: Annotated[
        float | None,
        typer.Option("--share", help="Share of requesters it answers, in (0, 1], e.g. 0.05."),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Take the canary off traffic.")] = False,
    by: ByOption = None,
) -> None:
    """Answer --share of the tickets (sticky per requester) with VERSION; --clear stops it."""
    store = open_registry(registry)
    if clear == (version is not None):
        raise fail("give a VERSION and --share, or --clear to stop (not both)")
    if version is not None:
        if share is None:
            raise fail(f"--share is required with a canary version, e.g. --share 0.05 {version}")
        _verify(store, version)
        pointers = store.set_canary(version, share=share, by=operator(by))
    else:
        pointers = store.set_canary(None, by=operator(by))
    out.print(
        f"canary: {pointers.canary} on {pointers.canary_share:.1%} of requesters"
        if pointers.canary
        else "no canary version",
        highlight=False,
    )
    if pointers.canary and pointers.live:
        versions = (store.entry(pointers.live), store.entry(pointers.canary))
        live_id, canary_id = (entry.model_version or entry.version for entry in versions)
        err.print(
            f"Watch it: triage compare --db ... --live {live_id} --candidate {canary_id}",
            highlight=False,
        )
