"""The model registry: immutable, checksum-verified versions and the pointers a service serves.

Layout (the same in a folder and under an S3 prefix)::

    <root>/pointers.json        {"revision", "live", "shadow", "canary", "canary_share",
                                 "history": [{"at", "by", "action", "version", "reason"}, ...]}
    <root>/versions/v0001/      the sealed artifact's files, byte for byte, + entry.json

Why this shape: a version is written once and never again (every file is created with a
create-only write, ``entry.json`` last, so a version without ``entry.json`` is unfinished and not
listed), so what was evaluated is what is served. Every pointer change is a compare-and-swap of
``pointers.json`` on its revision, retried on conflict, so two operators (or a guard rail and an
operator) acting at once never lose an update, and the history is the complete audit trail:
rollback is computed from it, no file is copied by hand.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ticket_triage.core.artifact import MANIFEST_FILE, read_artifact
from ticket_triage.core.errors import ArtifactError
from ticket_triage.registry.backends import Backend, LocalBackend, RegistryError
from ticket_triage.registry.records import MADE_BY, Entry, Event, Pointers, metrics_summary, now

__all__ = ["Registry"]

POINTERS = "pointers.json"
ENTRY = "entry.json"
_VERSION = re.compile(r"^v\d{4,}$")
_CLAIM = ".claim"  # the first key of a version: whoever creates it owns the number
_ATTEMPTS = 200


class Registry:
    """A model registry in a folder or under ``s3://bucket/prefix`` (see the module text).

    Examples
    --------
    >>> import tempfile
    >>> reg = Registry.open(tempfile.mkdtemp())
    >>> reg.entries(), reg.pointers().live
    ([], None)
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @property
    def location(self) -> str:
        """The folder or ``s3://`` URL this registry is in."""
        return self.backend.location

    @classmethod
    def open(cls, location: str | Path, *, s3_client: Any = None) -> Registry:
        """Open the registry at a folder path or ``s3://bucket/prefix`` (created on first add).

        ``s3_client`` replaces boto3's default client (a test server, another profile).
        """
        text = str(location)
        if text.startswith("s3://"):
            from ticket_triage.registry.s3 import S3Backend

            return cls(S3Backend(text, client=s3_client))
        return cls(LocalBackend(Path(text)))

    # -- versions ------------------------------------------------------------------------

    def _check_version(self, version: str) -> str:
        if not isinstance(version, str) or not _VERSION.match(version):
            raise RegistryError(f"{version!r}: not a registry version (expected v0001, v0002, ...)")
        return version

    def _numbers(self) -> list[int]:
        names = {key.split("/")[1] for key in self.backend.keys("versions/") if "/" in key}
        return sorted(int(name[1:]) for name in names if _VERSION.match(name))

    def entries(self) -> list[Entry]:
        """Every finished version, oldest first."""
        found = []
        for number in self._numbers():
            raw = self.backend.read(f"versions/v{number:04d}/{ENTRY}")
            if raw is not None:
                found.append(Entry(**json.loads(raw[0])))
        return found

    def entry(self, version: str) -> Entry:
        """The entry of ``version``; RegistryError naming the known versions if there is none."""
        raw = self.backend.read(f"versions/{self._check_version(version)}/{ENTRY}")
        if raw is None:
            known = ", ".join(entry.version for entry in self.entries()) or "none yet"
            raise RegistryError(
                f"{version}: no such version in {self.location} (versions: {known})"
            )
        return Entry(**json.loads(raw[0]))

    def add(
        self,
        model_dir: Path,
        made_by: str = "train",
        parent: str | None = None,
        by: str = "unknown",
        note: str | None = None,
    ) -> Entry:
        """Register the sealed artifact in ``model_dir`` as the next version; returns its entry.

        The artifact is verified first (a tampered model is never registered) and its files are
        copied unchanged. Nothing existing is overwritten: two adds at once get two numbers.

        Raises
        ------
        RegistryError
            ``model_dir`` is not an intact artifact, ``made_by`` is unknown, ``parent`` is not a
            registered version, or the store refuses the writes.
        """
        if made_by not in MADE_BY:
            raise RegistryError(f"made_by={made_by!r}: expected one of {', '.join(MADE_BY)}")
        if parent is not None:
            self.entry(parent)
        model_dir = Path(model_dir)
        try:
            artifact = read_artifact(model_dir)
        except ArtifactError as exc:
            raise RegistryError(f"cannot register {model_dir}: {exc}") from exc
        manifest_bytes = (model_dir / MANIFEST_FILE).read_bytes()
        files = {
            name: (model_dir / name).read_bytes() for name in json.loads(manifest_bytes)["files"]
        }
        files[MANIFEST_FILE] = manifest_bytes
        metrics: dict[str, Any] = {}
        if "metrics.json" in files:
            try:
                metrics = metrics_summary(json.loads(files["metrics.json"]))
            except ValueError:
                metrics = {}
        version = self._claim()
        for name, data in files.items():
            if not self.backend.create(f"versions/{version}/{name}", data):
                raise RegistryError(f"{self.location}/versions/{version}/{name}: already exists")
        entry = Entry(
            version=version,
            parent=parent,
            made_by=made_by,
            created_at=now(),
            created_by=by,
            note=note,
            manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(),
            metrics=metrics,
            model_version=artifact.meta.get("version"),
        )
        data = (json.dumps(entry.to_json(), indent=2, sort_keys=True) + "\n").encode()
        if not self.backend.create(f"versions/{version}/{ENTRY}", data):
            raise RegistryError(f"{self.location}/versions/{version}/{ENTRY}: already exists")
        return entry

    def _claim(self) -> str:
        """Take the next free version number with a create-only write (retried on a race)."""
        for _ in range(_ATTEMPTS):
            numbers = self._numbers()
            version = f"v{(numbers[-1] if numbers else 0) + 1:04d}"
            if self.backend.create(f"versions/{version}/{_CLAIM}", now().encode()):
                return version
        raise RegistryError(f"{self.location}: could not claim a version number (too many adds)")

    def fetch(self, version: str, cache_dir: Path) -> Path:
        """A verified local copy of ``version``: ``cache_dir/<version>``, downloaded if missing.

        A cached copy is reused only if it still verifies and has the registered manifest;
        otherwise it is downloaded again. The copy is checked with
        :func:`~ticket_triage.core.artifact.read_artifact` and against the manifest checksum in
        ``entry.json``, so a version edited in the store (one file, or all of them with a new
        manifest) is refused.

        Raises
        ------
        RegistryError
            Unknown version, or a stored file that fails verification (the message names it).
        """
        entry = self.entry(version)
        cache_dir = Path(cache_dir)
        target = cache_dir / version
        if target.is_dir() and self._verified(target, entry) is None:
            return target
        cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=cache_dir))
        try:
            prefix = f"versions/{version}/"
            for key in self.backend.keys(prefix):
                name = key[len(prefix) :]
                if name in {ENTRY, _CLAIM} or "/" in name:
                    continue
                raw = self.backend.read(key)
                if raw is not None:
                    (staging / name).write_bytes(raw[0])
            problem = self._verified(staging, entry)
            if problem is not None:
                raise RegistryError(
                    f"{version} in {self.location} fails verification, refusing it: "
                    + problem.replace(str(staging), f"{self.location}/versions/{version}")
                )
            staging.chmod(0o755)
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{version}-old-", dir=cache_dir))
                target.rename(old / version)
                staging.rename(target)
                shutil.rmtree(old)
            else:
                staging.rename(target)
        finally:
            if staging.exists():
                shutil.rmtree(staging)
        return target

    @staticmethod
    def _verified(directory: Path, entry: Entry) -> str | None:
        """None when ``directory`` holds ``entry``'s intact artifact, else what is wrong."""
        try:
            read_artifact(directory)
        except ArtifactError as exc:
            return str(exc)
        digest = hashlib.sha256((directory / MANIFEST_FILE).read_bytes()).hexdigest()
        if digest != entry.manifest_sha256:
            return (
                f"{directory / MANIFEST_FILE}: not the manifest registered in {ENTRY} "
                "(the version was replaced after it was added)"
            )
        return None

    # -- pointers ------------------------------------------------------------------------

    def pointers(self) -> Pointers:
        """The current pointers (all None, revision 0, before the first change)."""
        raw = self.backend.read(POINTERS)
        return Pointers() if raw is None else Pointers.from_json(json.loads(raw[0]))

    def _change(self, change: Callable[[Pointers], tuple[Pointers, Event] | None]) -> Pointers:
        """Compare-and-swap ``pointers.json``: apply ``change`` to the current pointers and
        write the result only if nobody wrote in between; read again and retry otherwise.

        ``change`` returns the new pointers and the event to append, or None for no change; it
        raises RegistryError when the change is not allowed on what it sees.
        """
        for attempt in range(_ATTEMPTS):
            raw = self.backend.read(POINTERS)
            current = Pointers() if raw is None else Pointers.from_json(json.loads(raw[0]))
            result = change(current)
            if result is None:
                return current
            updated, event = result
            updated = replace(
                updated, revision=current.revision + 1, history=(*current.history, event)
            )
            data = (json.dumps(updated.to_json(), indent=2) + "\n").encode()
            if self.backend.replace(POINTERS, data, raw[1] if raw else None):
                return updated
            time.sleep(min(0.05, 0.001 * (attempt + 1)))  # someone else won: read again
        raise RegistryError(f"{self.location}/{POINTERS}: too many concurrent changes, try again")

    def promote(self, version: str, by: str = "unknown", reason: str | None = None) -> Pointers:
        """Make ``version`` live. If it was the shadow or the canary, that pointer is cleared
        (it now answers everything)."""
        self.entry(version)

        def change(current: Pointers) -> tuple[Pointers, Event] | None:
            if current.live == version:
                raise RegistryError(f"{version} is already live")
            updated = replace(
                current,
                live=version,
                shadow=None if current.shadow == version else current.shadow,
                canary=None if current.canary == version else current.canary,
                canary_share=0.0 if current.canary == version else current.canary_share,
            )
            return updated, Event(now(), by, "promote", version, reason)

        return self._change(change)

    def rollback(self, by: str = "unknown", reason: str | None = None) -> str:
        """Make the previously promoted version live again; returns it.

        Repeated rollbacks walk back through the promotions (v3 -> v2 -> v1).

        Raises
        ------
        RegistryError
            There is no earlier promoted version.
        """
        target: list[str] = []

        def change(current: Pointers) -> tuple[Pointers, Event] | None:
            stack = current.live_stack()
            if len(stack) < 2:
                raise RegistryError(
                    f"{self.location}: nothing to roll back to "
                    f"(live: {current.live or 'none'}, no earlier promoted version)"
                )
            target[:] = [stack[-2]]
            updated = replace(
                current,
                live=stack[-2],
                shadow=None if current.shadow == stack[-2] else current.shadow,
                canary=None if current.canary == stack[-2] else current.canary,
            )
            return updated, Event(now(), by, "rollback", stack[-2], reason or f"from {stack[-1]}")

        self._change(change)
        return target[0]

    def set_shadow(self, version: str | None, by: str = "unknown") -> Pointers:
        """Score every ticket also with ``version`` off the request path (None: stop)."""
        if version is not None:
            self.entry(version)

        def change(current: Pointers) -> tuple[Pointers, Event] | None:
            if version is not None and version == current.live:
                raise RegistryError(f"{version} is live; a shadow must be another version")
            if current.shadow == version:
                return None
            return replace(current, shadow=version), Event(now(), by, "shadow", version)

        return self._change(change)

    def set_canary(self, version: str | None, share: float = 0.1, by: str = "unknown") -> Pointers:
        """Answer ``share`` of the tickets with ``version`` (None: stop, as an operator)."""
        if version is not None:
            self.entry(version)
            if not 0.0 < share <= 1.0:
                raise RegistryError(f"share={share}: expected a share in (0, 1]")

        def change(current: Pointers) -> tuple[Pointers, Event] | None:
            if version is not None and version == current.live:
                raise RegistryError(f"{version} is live; a canary must be another version")
            new_share = share if version is not None else 0.0
            if current.canary == version and current.canary_share == new_share:
                return None
            event = Event(now(), by, "canary", version, f"share={new_share:g}")
            return replace(current, canary=version, canary_share=new_share), event

        return self._change(change)

    def stop_canary(self, reason: str, by: str = "guard") -> Pointers:
        """Take the canary off traffic and record why (a guard rail's automatic rollback).

        No change (and no event) when there is no canary: two guards firing at once record one
        stop.
        """

        def change(current: Pointers) -> tuple[Pointers, Event] | None:
            if current.canary is None:
                return None
            event = Event(now(), by, "stop_canary", current.canary, reason)
            return replace(current, canary=None, canary_share=0.0), event

        return self._change(change)
