"""ticket_triage.core.artifact: a model directory loads only when it is intact and current.

Every test works on its own copy of one tiny artifact, trained once per module on an inline
corpus through the library (two heads, 2**12 features, 2 folds: well under a second).
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ticket_triage.core.artifact import (
    MANIFEST_FILE,
    MODEL_FILE,
    SCHEMA_VERSION,
    WEIGHTS_FILE,
    publish,
    read_artifact,
    seal,
)
from ticket_triage.core.errors import ArtifactError, TriageError
from ticket_triage.core.model import TriageModel
from ticket_triage.training.config import TrainConfig
from ticket_triage.training.in_memory import fit
from ticket_triage.training.train import build_artifact

BILLING = [
    "refund my invoice please",
    "invoice charged twice this month",
    "card declined on payment",
    "wrong amount on the invoice",
    "need a refund for the double charge",
    "billing address on invoice is wrong",
    "payment failed with my credit card",
    "cancel subscription and refund",
    "invoice pdf shows old price",
    "charged after I cancelled the plan",
]
BUG = [
    "app crashes on upload",
    "error 500 when saving the form",
    "button does nothing after the update",
    "page freezes when I scroll",
    "login screen shows a blank page",
    "export to csv produces an empty file",
    "sync fails with a timeout error",
    "mobile app crashes at start",
    "search returns an error message",
    "images do not load in the editor",
]


def _corpus() -> tuple[list[str], dict[str, np.ndarray]]:
    """40 short tickets; topic from the phrase, urgency from an 'urgent' or 'no rush' suffix."""
    texts: list[str] = []
    urgency: list[str] = []
    topic: list[str] = []
    for label, phrases in (("billing", BILLING), ("bug", BUG)):
        for phrase in phrases:
            for level, suffix in (("high", "urgent asap"), ("low", "no rush, whenever")):
                texts.append(f"{phrase} {suffix}")
                urgency.append(level)
                topic.append(label)
    labels = {
        "urgency": np.array(urgency, dtype=object),
        "topic": np.array(topic, dtype=object),
    }
    return texts, labels


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sealed artifact with the optional metrics.json too; never modified by a test."""
    config = TrainConfig(cv_folds=2, n_features=2**12, min_support=1, targets={})
    texts, labels = _corpus()
    fitted = fit(texts, labels, config)
    directory = tmp_path_factory.mktemp("artifact") / "model"
    training = {"data": "inline", "n_train": len(texts), "metadata_columns": []}
    build_artifact(fitted, config, training, directory)
    (directory / "metrics.json").write_text('{"heads": {}}\n')
    seal(directory)
    return directory


@pytest.fixture
def artifact(pristine: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny artifact that the test may damage."""
    return Path(shutil.copytree(pristine, tmp_path / "model"))


def _edit_json(path: Path, **changes: Any) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def _npz_bytes(**arrays: Any) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


# --- a good artifact -----------------------------------------------------------------------------


def test_good_artifact_loads_and_decides_every_head(artifact: Path) -> None:
    # GIVEN an intact artifact
    # WHEN it is loaded and asked about one ticket
    model = TriageModel.load(artifact)
    result = model.triage({"subject": "x", "body": "refund my invoice"})

    # THEN both heads decide, with calibrated probabilities over their classes
    assert set(model.head_names) == {"urgency", "topic"}
    assert set(result.heads) == {"urgency", "topic"}
    for decision in result.heads.values():
        assert decision.label in decision.probabilities
        assert sum(decision.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
        assert decision.confidence == pytest.approx(decision.probabilities[decision.label])
    assert result["topic"].label == "billing"
    assert result.model_version == model.version


def test_read_artifact_returns_meta_and_arrays(artifact: Path) -> None:
    # GIVEN an intact artifact
    # WHEN it is read without building a model
    loaded = read_artifact(artifact)

    # THEN model.json and every array of weights.npz are there
    assert loaded.path == artifact
    assert loaded.meta["schema_version"] == SCHEMA_VERSION
    assert {"rows", "coef", "intercept", "idf"} <= set(loaded.arrays)
    manifest = json.loads((artifact / MANIFEST_FILE).read_text())
    assert set(manifest["files"]) == {MODEL_FILE, WEIGHTS_FILE, "metrics.json"}


def test_artifact_errors_are_triage_errors() -> None:
    # GIVEN / WHEN / THEN callers catching TriageError also catch artifact problems
    assert issubclass(ArtifactError, TriageError)


# --- damaged files -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [WEIGHTS_FILE, MODEL_FILE, "metrics.json"])
def test_one_flipped_byte_is_a_checksum_error_naming_the_file(artifact: Path, name: str) -> None:
    # GIVEN an artifact with one byte of one listed file flipped after sealing
    data = bytearray((artifact / name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (artifact / name).write_bytes(bytes(data))

    # WHEN it is loaded THEN it is refused, naming the file and the checksum
    with pytest.raises(ArtifactError, match=rf"{name}: checksum mismatch"):
        TriageModel.load(artifact)


@pytest.mark.parametrize("name", [MODEL_FILE, WEIGHTS_FILE])
def test_truncated_file_is_refused_naming_it(artifact: Path, name: str) -> None:
    # GIVEN an artifact whose file was cut short (a half-finished copy)
    data = (artifact / name).read_bytes()
    (artifact / name).write_bytes(data[: len(data) // 2])

    # WHEN it is loaded THEN the message names the file and says it was truncated
    with pytest.raises(ArtifactError, match=rf"{name}: checksum mismatch.*truncated"):
        TriageModel.load(artifact)


@pytest.mark.parametrize("name", [MODEL_FILE, WEIGHTS_FILE, "metrics.json"])
def test_listed_file_deleted_is_reported_missing(artifact: Path, name: str) -> None:
    # GIVEN an artifact missing a file its manifest lists
    (artifact / name).unlink()

    # WHEN it is loaded THEN the message names the missing file
    with pytest.raises(ArtifactError, match=rf"{name}: missing \(listed in manifest.json\)"):
        TriageModel.load(artifact)


# --- not an artifact at all ----------------------------------------------------------------------


def test_directory_without_manifest_is_not_a_model(artifact: Path) -> None:
    # GIVEN a directory with model files but no manifest
    (artifact / MANIFEST_FILE).unlink()

    # WHEN / THEN
    with pytest.raises(ArtifactError, match="not a ticket-triage model"):
        TriageModel.load(artifact)


def test_nonexistent_path_is_refused(tmp_path: Path) -> None:
    # GIVEN a path nothing exists at
    # WHEN / THEN
    with pytest.raises(ArtifactError, match="no such model directory"):
        TriageModel.load(tmp_path / "nowhere")


def test_regular_file_is_refused(tmp_path: Path) -> None:
    # GIVEN a regular file where a model directory is expected
    path = tmp_path / "model.json"
    path.write_text("{}")

    # WHEN / THEN
    with pytest.raises(ArtifactError, match="not a directory"):
        TriageModel.load(path)


@pytest.mark.parametrize("content", ["", "{not json", "[]", '"files"', '{"schema_version": 1}'])
def test_unreadable_manifest_is_refused(artifact: Path, content: str) -> None:
    # GIVEN a manifest that is not JSON or has no file list
    (artifact / MANIFEST_FILE).write_text(content)

    # WHEN / THEN
    with pytest.raises(ArtifactError, match=r"manifest\.json: unreadable manifest"):
        TriageModel.load(artifact)


@pytest.mark.parametrize("name", [MODEL_FILE, WEIGHTS_FILE])
def test_manifest_must_list_model_and_weights(artifact: Path, name: str) -> None:
    # GIVEN a manifest that leaves out one of the two required files
    manifest = json.loads((artifact / MANIFEST_FILE).read_text())
    del manifest["files"][name]
    (artifact / MANIFEST_FILE).write_text(json.dumps(manifest))

    # WHEN / THEN
    with pytest.raises(ArtifactError, match=rf"does not list {name}"):
        TriageModel.load(artifact)


# --- schema versions -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", [0, SCHEMA_VERSION + 1, "1", None])
def test_manifest_of_another_schema_version_is_refused(artifact: Path, version: Any) -> None:
    # GIVEN an intact artifact whose manifest declares another schema version
    _edit_json(artifact / MANIFEST_FILE, schema_version=version)

    # WHEN / THEN the message names the version it found
    with pytest.raises(ArtifactError, match=rf"schema version {version!r} is not supported"):
        TriageModel.load(artifact)


def test_model_json_of_another_schema_version_is_refused_even_when_resealed(
    artifact: Path,
) -> None:
    # GIVEN a model.json from schema 99 under a manifest regenerated to match it
    _edit_json(artifact / MODEL_FILE, schema_version=99)
    seal(artifact)

    # WHEN / THEN the checksums pass but the version is refused, naming it
    with pytest.raises(ArtifactError, match=r"model\.json: schema version 99 is not supported"):
        TriageModel.load(artifact)


# --- hostile manifests and weights ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["../etc/passwd", "/etc/passwd", "sub/model.json"])
def test_manifest_listing_a_path_outside_the_model_is_refused(artifact: Path, name: str) -> None:
    # GIVEN a manifest that lists a path outside the model directory
    manifest = json.loads((artifact / MANIFEST_FILE).read_text())
    manifest["files"][name] = {"sha256": "0" * 64, "size": 1}
    (artifact / MANIFEST_FILE).write_text(json.dumps(manifest))

    # WHEN / THEN it is refused before anything is read from there
    with pytest.raises(ArtifactError, match="outside the model"):
        TriageModel.load(artifact)


def test_weights_with_a_pickled_object_array_are_refused_not_unpickled(artifact: Path) -> None:
    # GIVEN weights.npz holding an object array (pickled) under a manifest sealed to match
    objects = np.array([{"evil": True}, None], dtype=object)
    (artifact / WEIGHTS_FILE).write_bytes(_npz_bytes(rows=objects, coef=np.zeros((2, 1))))
    seal(artifact)

    # WHEN / THEN loading refuses the file instead of unpickling it (no bare ValueError)
    with pytest.raises(ArtifactError, match=r"weights\.npz: unreadable weights"):
        TriageModel.load(artifact)


@pytest.mark.parametrize(
    "content",
    [b"", b"not a zip file at all", b"PK\x03\x04 truncated zip"],
    ids=["empty", "garbage", "broken-zip"],
)
def test_weights_that_are_not_an_npz_are_refused(artifact: Path, content: bytes) -> None:
    # GIVEN weights.npz replaced by bytes numpy cannot read, resealed
    (artifact / WEIGHTS_FILE).write_bytes(content)
    seal(artifact)

    # WHEN / THEN
    with pytest.raises(ArtifactError, match=r"weights\.npz"):
        TriageModel.load(artifact)


def test_model_json_that_is_not_json_is_refused_when_resealed(artifact: Path) -> None:
    # GIVEN a model.json cut in half under a manifest sealed to match
    data = (artifact / MODEL_FILE).read_bytes()
    (artifact / MODEL_FILE).write_bytes(data[: len(data) // 2])
    seal(artifact)

    # WHEN / THEN
    with pytest.raises(ArtifactError, match=r"model\.json: not valid JSON"):
        TriageModel.load(artifact)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (WEIGHTS_FILE, _npz_bytes(rows=np.arange(3), intercept=np.zeros(3))),
        (WEIGHTS_FILE, _npz_bytes(rows=np.arange(3), coef=np.zeros((2, 5)), intercept=np.zeros(5))),
        (MODEL_FILE, json.dumps({"schema_version": SCHEMA_VERSION}).encode()),
    ],
    ids=["no-coef", "shapes-disagree", "no-heads"],
)
def test_resealed_but_inconsistent_artifact_is_refused(
    artifact: Path, name: str, content: bytes
) -> None:
    # GIVEN a file whose content does not fit the rest of the artifact, resealed
    (artifact / name).write_bytes(content)
    seal(artifact)

    # WHEN / THEN the model refuses it with an ArtifactError, not a KeyError or ValueError
    with pytest.raises(ArtifactError, match=r"model\.json and weights\.npz disagree"):
        TriageModel.load(artifact)


@pytest.mark.parametrize(
    ("file", "content"),
    [
        (MODEL_FILE, "[]"),
        (MODEL_FILE, '"a string"'),
        (MANIFEST_FILE, '{"schema_version": 1, "files": ["model.json", "weights.npz"]}'),
        (MANIFEST_FILE, '{"schema_version": 1, "files": {"model.json": 1, "weights.npz": 2}}'),
    ],
    ids=["model-list", "model-string", "files-list", "entries-not-objects"],
)
def test_json_of_the_wrong_shape_is_an_artifact_error(
    artifact: Path, file: str, content: str
) -> None:
    # GIVEN valid JSON of the wrong shape (sealed, for model.json, so checksums pass)
    (artifact / file).write_text(content)
    if file == MODEL_FILE:
        seal(artifact)

    # WHEN / THEN it is refused as an untrustworthy artifact, not an AttributeError
    with pytest.raises(ArtifactError):
        TriageModel.load(artifact)


# --- publish -------------------------------------------------------------------------------------


def test_publish_refuses_a_non_empty_directory_that_is_not_an_artifact(
    pristine: Path, tmp_path: Path
) -> None:
    # GIVEN a folder of someone's files and a finished staging artifact
    target = tmp_path / "documents"
    target.mkdir()
    (target / "thesis.tex").write_text("precious")
    (target / "notes").mkdir()
    (target / "notes" / "a.txt").write_text("also precious")
    staging = Path(shutil.copytree(pristine, tmp_path / "staging"))

    # WHEN publishing there
    with pytest.raises(ArtifactError, match="not empty and is not a ticket-triage artifact"):
        publish(staging, target)

    # THEN the folder is exactly as it was and the staging artifact is still there
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == [
        "notes",
        "notes/a.txt",
        "thesis.tex",
    ]
    assert (target / "thesis.tex").read_text() == "precious"
    assert (target / "notes" / "a.txt").read_text() == "also precious"
    assert (staging / MANIFEST_FILE).is_file()


def test_publish_refuses_a_regular_file(pristine: Path, tmp_path: Path) -> None:
    # GIVEN a regular file at the target path
    target = tmp_path / "model"
    target.write_text("keep me")
    staging = Path(shutil.copytree(pristine, tmp_path / "staging"))

    # WHEN / THEN
    with pytest.raises(ArtifactError, match="exists and is not a directory"):
        publish(staging, target)
    assert target.read_text() == "keep me"


def test_publish_replaces_an_existing_artifact(
    artifact: Path, pristine: Path, tmp_path: Path
) -> None:
    # GIVEN an existing artifact at the target and a newer one in staging
    staging = Path(shutil.copytree(pristine, tmp_path / "staging"))
    _edit_json(staging / MODEL_FILE, version="newer")
    seal(staging)
    (artifact / "stale.txt").write_text("from the old model")

    # WHEN publishing over it
    publish(staging, artifact)

    # THEN the target holds exactly the new artifact, staging is gone, nothing is left behind
    assert TriageModel.load(artifact).version == "newer"
    assert not (artifact / "stale.txt").exists()
    assert not staging.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.parametrize("existing", ["absent", "empty"])
def test_publish_to_a_new_or_empty_directory(pristine: Path, tmp_path: Path, existing: str) -> None:
    # GIVEN a target that does not exist (with missing parents) or is an empty directory
    target = tmp_path / "deep" / "er" / "model"
    if existing == "empty":
        target.mkdir(parents=True)
    staging = Path(shutil.copytree(pristine, tmp_path / "staging"))

    # WHEN publishing
    publish(staging, target)

    # THEN the artifact is there and loads
    assert TriageModel.load(target).head_names
    assert not staging.exists()
