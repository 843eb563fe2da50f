"""Write and read the model artifact: JSON plus one ``.npz``, sealed by a sha256 manifest.

An artifact is a directory::

    model.json      schema version, version id, feature config, heads (classes, calibration,
                    thresholds), training data sha256, library versions
    weights.npz     float32 weights of the hashed features that have any (no pickle inside)
    metrics.json    held-out evaluation written by training (optional)
    report.html     the same, with plots (optional)
    manifest.json   sha256 and size of every file above

Why not pickle: unpickling runs code chosen by whoever wrote the file, and ties the artifact to
the exact classes that pickled it. Why a manifest: a half-copied or edited model must fail loudly
at start, not route tickets with wrong weights. :func:`read_artifact` checks every listed file
before parsing any of them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ticket_triage.core.errors import ArtifactError

__all__ = [
    "MANIFEST_FILE",
    "MODEL_FILE",
    "SCHEMA_VERSION",
    "WEIGHTS_FILE",
    "Artifact",
    "check_target",
    "publish",
    "read_artifact",
    "seal",
    "staged",
    "write_artifact",
]

#: Bumped whenever model.json or weights.npz change meaning; loading refuses other versions.
SCHEMA_VERSION = 1
MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.npz"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class Artifact:
    """A verified artifact in memory.

    Attributes
    ----------
    path : Path
        The directory it was read from.
    meta : dict
        The parsed ``model.json``.
    arrays : dict of str to ndarray
        The arrays of ``weights.npz``.
    """

    path: Path
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_artifact(path: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``model.json`` and ``weights.npz`` into ``path`` (created if missing); unsealed.

    Call :func:`seal` once every file of the artifact is in place.
    """
    path.mkdir(parents=True, exist_ok=True)
    meta = {"schema_version": SCHEMA_VERSION, **meta}
    (path / MODEL_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    (path / WEIGHTS_FILE).write_bytes(buffer.getvalue())


def seal(path: Path) -> dict[str, Any]:
    """Write ``manifest.json`` listing the sha256 and size of every other file in ``path``."""
    files = {
        item.name: {"sha256": _sha256(item.read_bytes()), "size": item.stat().st_size}
        for item in sorted(path.iterdir())
        if item.is_file() and item.name != MANIFEST_FILE
    }
    manifest = {"schema_version": SCHEMA_VERSION, "files": files}
    (path / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def check_target(target: Path) -> None:
    """Refuse early a ``--out`` that :func:`publish` would refuse after training."""
    if target.exists():
        if not target.is_dir():
            raise ArtifactError(f"{target}: exists and is not a directory")
        if any(target.iterdir()) and not (target / MANIFEST_FILE).exists():
            raise ArtifactError(
                f"{target}: directory is not empty and is not a ticket-triage artifact; "
                "choose another --out"
            )


def publish(staging: Path, target: Path) -> None:
    """Move a finished artifact from ``staging`` to ``target``, replacing an older artifact.

    Refuses to overwrite a non-empty directory that is not an artifact: ``--out`` pointing at the
    wrong folder must not delete someone's files.
    """
    check_target(target)
    staging.chmod(0o755)  # mkdtemp made it 0700; a published model is read by other users
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
        os.replace(target, old / "artifact")
        os.replace(staging, target)
        shutil.rmtree(old)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, target)


@contextmanager
def staged(target: Path) -> Iterator[Path]:
    """A staging directory beside ``target`` for a new artifact; on a clean exit it is sealed
    and published to ``target`` (:func:`publish`), on an error removed with ``target`` untouched.

    Training and re-tuning both build a model this way, so a reader of ``target`` only ever sees
    a whole, sealed artifact. The caller may :func:`seal` inside the block already (to load the
    staged model back, say); the files it adds after that are sealed on the way out.

    Raises
    ------
    ArtifactError
        ``target`` is a file, or a non-empty directory that is not an artifact (checked before
        anything is written).
    """
    check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield staging
        seal(staging)
        publish(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _read_verified(path: Path) -> dict[str, bytes]:
    """Read every file the manifest lists and check its checksum; return their bytes."""
    if not path.exists():
        raise ArtifactError(f"{path}: no such model directory")
    if not path.is_dir():
        raise ArtifactError(f"{path}: not a directory (a model is a directory with manifest.json)")
    manifest_path = path / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ArtifactError(f"{path}: not a ticket-triage model (no {MANIFEST_FILE})")
    try:
        manifest = json.loads(manifest_path.read_bytes())
    except ValueError as exc:
        raise ArtifactError(f"{manifest_path}: unreadable manifest ({exc})") from exc
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(isinstance(e, dict) for e in files.values()):
        raise ArtifactError(
            f"{manifest_path}: unreadable manifest (expected files -> {{sha256, size}})"
        )
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise ArtifactError(
            f"{manifest_path}: schema version {manifest.get('schema_version')!r} is not supported "
            f"by this ticket-triage (reads {SCHEMA_VERSION}); retrain or upgrade"
        )
    contents: dict[str, bytes] = {}
    for name in (MODEL_FILE, WEIGHTS_FILE):
        if name not in files:
            raise ArtifactError(f"{manifest_path}: does not list {name}")
    for name, entry in files.items():
        file_path = path / name
        if Path(name).name != name:
            raise ArtifactError(f"{manifest_path}: lists a path outside the model: {name!r}")
        if not file_path.is_file():
            raise ArtifactError(f"{file_path}: missing (listed in {MANIFEST_FILE})")
        data = file_path.read_bytes()
        if len(data) != entry.get("size") or _sha256(data) != entry.get("sha256"):
            raise ArtifactError(
                f"{file_path}: checksum mismatch: the file was modified or truncated "
                "after training; refusing to load it"
            )
        contents[name] = data
    return contents


def read_artifact(path: Path) -> Artifact:
    """Read and verify an artifact.

    Raises
    ------
    ArtifactError
        When the directory is missing, is not an artifact, a file is missing, modified or
        truncated, or the schema version is not this version's. The message names the file.
    """
    path = Path(path)
    contents = _read_verified(path)
    try:
        meta = json.loads(contents[MODEL_FILE])
    except ValueError as exc:
        raise ArtifactError(f"{path / MODEL_FILE}: not valid JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise ArtifactError(f"{path / MODEL_FILE}: expected a JSON object")
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise ArtifactError(
            f"{path / MODEL_FILE}: schema version {meta.get('schema_version')!r} is not supported "
            f"(this ticket-triage reads {SCHEMA_VERSION})"
        )
    try:
        with np.load(io.BytesIO(contents[WEIGHTS_FILE]), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ArtifactError(f"{path / WEIGHTS_FILE}: unreadable weights ({exc})") from exc
    return Artifact(path=path, meta=meta, arrays=arrays)
