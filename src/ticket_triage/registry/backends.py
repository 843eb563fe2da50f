"""Where a registry keeps its bytes: a folder, or an S3 bucket and prefix, behind one small API.

The registry (:mod:`ticket_triage.registry.registry`) needs only four things from storage, and
both backends give them with the same guarantees, so the layout and the behaviour are identical
on disk and on S3:

- ``read(key)``: the bytes and a *tag* (an opaque token of that exact content), or None.
- ``create(key, data)``: write a key that must not exist yet; False (nothing written) when it
  does. Versions are immutable because every file of a version is written this way.
- ``replace(key, data, expected)``: compare-and-swap; write only if the key's tag is still
  ``expected`` (None: the key must not exist); False (nothing written) otherwise.
- ``keys(prefix)``: every key under a prefix.

On disk, ``create`` links a finished temporary file into place (``os.link`` fails if the name
exists, so a reader never sees half a file and nothing is overwritten) and ``replace`` holds an
``fcntl.flock`` on a lock file while it compares and ``os.replace``-s. On S3 the same two are
conditional writes: ``If-None-Match: *`` and ``If-Match: <ETag>`` (S3 answers 412 or 409 when the
condition fails); :mod:`ticket_triage.registry.s3` holds that backend.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from ticket_triage.core.errors import TriageError

__all__ = ["Backend", "LocalBackend", "RegistryError"]


class RegistryError(TriageError):
    """A registry operation that cannot be done: unknown or tampered version, nothing to roll
    back to, an unreachable store. The message names the version, file or location at fault."""


class Backend(Protocol):
    """The storage a :class:`~ticket_triage.registry.Registry` runs on (see the module text)."""

    location: str

    def read(self, key: str) -> tuple[bytes, str] | None:
        """The bytes under ``key`` and their tag, or None when there is no such key."""
        ...

    def create(self, key: str, data: bytes) -> bool:
        """Write ``key`` only if it does not exist; True when written."""
        ...

    def replace(self, key: str, data: bytes, expected: str | None) -> bool:
        """Write ``key`` only if its tag is ``expected`` (None: absent); True when written."""
        ...

    def keys(self, prefix: str) -> list[str]:
        """Every key that starts with ``prefix``, sorted."""
        ...


class LocalBackend:
    """A registry in a folder (local disk or a shared file system with working ``flock``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.location = str(self.root)
        if self.root.exists() and not self.root.is_dir():
            raise RegistryError(f"{self.root}: exists and is not a directory")

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def read(self, key: str) -> tuple[bytes, str] | None:
        """See :class:`Backend`; the tag is the content's sha256."""
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        return data, hashlib.sha256(data).hexdigest()

    def _temporary(self, path: Path, data: bytes) -> Path:
        """A finished file beside ``path`` holding ``data`` (flushed to disk)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(name, 0o644)  # mkstemp makes it 0600; a registry is read by other users
        return Path(name)

    def create(self, key: str, data: bytes) -> bool:
        """See :class:`Backend`: a hard link of a finished file, refused if the name exists."""
        path = self._path(key)
        temporary = self._temporary(path, data)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        finally:
            temporary.unlink()
        return True

    def replace(self, key: str, data: bytes, expected: str | None) -> bool:
        """See :class:`Backend`: compare and ``os.replace`` under an exclusive ``flock``."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.parent / f".{path.name}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = self.read(key)
                if (current[1] if current else None) != expected:
                    return False
                os.replace(self._temporary(path, data), path)
                return True
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def keys(self, prefix: str) -> list[str]:
        """See :class:`Backend`; hidden files (temporaries, locks) are not keys."""
        start = self._path(prefix.rpartition("/")[0]) if "/" in prefix else self.root
        if not start.is_dir():
            return []
        found = []
        for path in start.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(key)
        return sorted(found)
