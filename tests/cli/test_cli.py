"""End-to-end tests of the ``triage`` console script, run as a real subprocess.

One small synthetic file (120 tickets, both heads) is trained once per module; evaluate, predict
and demo share that artifact. Every failure a user can cause must end in exit status 1 and exactly
one line on stderr that names the problem: never a traceback.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ticket_triage.cli.common import EXAMPLES

TRIAGE = Path(sys.executable).parent / "triage"
TIMEOUT = 120
N_ROWS = 120
DECISION_COLUMNS = [
    "urgency_label",
    "urgency_confidence",
    "urgency_needs_review",
    "topic_label",
    "topic_confidence",
    "topic_needs_review",
    "needs_review",
    "queue",
    "queue_rule",
    "model_version",
]
ARTIFACT_FILES = {"manifest.json", "model.json", "weights.npz", "metrics.json", "report.html"}

TOPICS: dict[str, list[str]] = {
    "billing": [
        "Charged twice on invoice {n}",
        "Refund for order {n}",
        "Card declined at checkout",
        "Wrong VAT number on invoice {n}",
        "Rechnung {n} doppelt abgebucht",
    ],
    "bug": [
        "App crashes with error E{n}",
        "Export button does nothing since v{n}",
        "Page {n} shows a blank screen",
        "Sync fails with a timeout",
        "Upload breaks for files over {n} MB",
    ],
    "feature_request": [
        "Please add dark mode",
        "Idea: an API endpoint for report {n}",
        "Could you support SSO with Okta",
        "Keyboard shortcuts in the editor would be nice",
        "Allow exporting dashboards to PDF",
    ],
    "account": [
        "Cannot reset my password",
        "Please delete account {n}",
        "Change the email of my login",
        "Two-factor code never arrives",
        "Add a second admin to team {n}",
    ],
}
URGENCIES: dict[str, list[str]] = {
    "high": [
        "URGENT: production is down and customers are blocked.",
        "ASAP please, we are losing money every hour!!!",
        "Critical: the whole team is locked out right now.",
    ],
    "normal": [
        "Please take a look when you can.",
        "It happens every day for some of us.",
        "Thanks for checking, Grüße aus Köln.",
    ],
    "low": [
        "No rush at all.",
        "Just a minor thing for later.",
        "Low priority, whenever it is convenient.",
    ],
}


def _tickets(n: int = N_ROWS, seed: int = 0) -> pd.DataFrame:
    """n labelled tickets: topic from the subject's template, urgency from the body's tone."""
    rng = random.Random(seed)
    rows = []
    topics, levels = list(TOPICS), list(URGENCIES)
    for i in range(n):
        topic, urgency = topics[i % len(topics)], levels[(i // len(topics)) % len(levels)]
        rows.append(
            {
                "ticket_id": f"T-{i:04d}",
                "subject": rng.choice(TOPICS[topic]).format(n=rng.randint(100, 999)),
                "body": f"{rng.choice(URGENCIES[urgency])} Ticket from customer {i}.",
                "product": rng.choice(["web_app", "mobile_app", "billing"]),
                "plan": rng.choice(["free", "pro", "enterprise"]),
                "urgency": urgency,
                "topic": topic,
            }
        )
    return pd.DataFrame(rows)


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def cli_env() -> dict[str, str]:
    """The environment of every CLI run.

    With PYTHONDONTWRITEBYTECODE set (as some sandboxes do) every start recompiles pandas and
    scikit-learn, about 5 s. Bytecode is cached instead under a prefix in the temp directory, out
    of the venv and the source tree, so a run after the first takes about 2 s.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "ticket-triage-test-pycache")
    return env


@pytest.fixture(scope="module")
def triage(cli_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``triage ARGS...`` and return the finished process (never raises on failure)."""

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(TRIAGE), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=cli_env,
            check=False,
        )

    return run


@dataclass(frozen=True)
class Trained:
    data: Path
    model: Path
    run: subprocess.CompletedProcess[str]
    json_model: Path
    json_run: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, cli_env: dict[str, str]) -> Trained:
    """``triage train --quiet`` and ``triage train --json`` on the same file, run side by side."""
    root = tmp_path_factory.mktemp("trained")
    data = root / "data.csv"
    _tickets().to_csv(data, index=False)
    model, json_model = root / "model", root / "model-json"
    commands = [
        ["train", data, "--out", model, "--quiet"],
        ["train", data, "--out", json_model, "--json"],
    ]
    processes = [
        subprocess.Popen(
            [str(TRIAGE), *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env,
        )
        for args in commands
    ]
    runs = []
    for args, process in zip(commands, processes, strict=True):
        stdout, stderr = process.communicate(timeout=TIMEOUT)
        runs.append(subprocess.CompletedProcess(args, process.returncode, stdout, stderr))
    return Trained(data=data, model=model, run=runs[0], json_model=json_model, json_run=runs[1])


def _assert_ok(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stdout + run.stderr


def _assert_metrics_contract(metrics: dict[str, Any], n_rows: int | None = None) -> None:
    """The metrics.json schema of DESIGN.md, for a model with an urgency and a topic head."""
    model = metrics["model"]
    assert isinstance(model["version"], str)
    assert model["version"]
    assert isinstance(model["size_bytes"], int)
    assert model["size_bytes"] > 0
    assert isinstance(model["n_features"], int)
    assert set(metrics["heads"]) == {"urgency", "topic"}
    expected_classes = {
        "urgency": ["high", "low", "normal"],
        "topic": ["account", "billing", "bug", "feature_request"],
    }
    for name, head in metrics["heads"].items():
        assert head["classes"] == expected_classes[name]
        assert isinstance(head["n"], int)
        if n_rows is not None:
            assert head["n"] == n_rows
        for key in ("accuracy", "macro_f1", "coverage", "ece"):
            assert 0.0 <= head[key] <= 1.0, (name, key)
        assert set(head["per_class"]) == set(head["classes"])
        for scores in head["per_class"].values():
            assert {"precision", "recall", "f1", "support"} <= set(scores)
            for key in ("precision", "recall", "f1"):
                assert 0.0 <= scores[key] <= 1.0
        assert sum(scores["support"] for scores in head["per_class"].values()) == head["n"]
    target = metrics["heads"]["urgency"]["target"]
    required = {"class", "min_precision", "threshold", "precision", "recall", "reachable"}
    assert required <= set(target)
    assert target["class"] == "high"
    assert target["min_precision"] == pytest.approx(0.85)
    assert isinstance(target["reachable"], bool)
    assert metrics["heads"]["topic"]["target"] is None


# --- the happy path ------------------------------------------------------------------------------


def test_train_writes_a_complete_artifact_and_a_summary(trained: Trained) -> None:
    # GIVEN a valid labelled CSV  WHEN `triage train DATA --out DIR --quiet` ran (fixture)
    # THEN it succeeded and DIR holds every artifact file
    _assert_ok(trained.run)
    assert {p.name for p in trained.model.iterdir()} == ARTIFACT_FILES
    metrics = json.loads((trained.model / "metrics.json").read_text())
    _assert_metrics_contract(metrics)
    manifest = json.loads((trained.model / "manifest.json").read_text())
    assert set(manifest["files"]) == ARTIFACT_FILES - {"manifest.json"}

    # AND stdout shows the summary table with both heads and where the model went
    for fragment in ("urgency", "topic", "accuracy", "macro-F1", metrics["model"]["version"]):
        assert fragment in trained.run.stdout
    assert "model written to" in trained.run.stdout
    # AND no sibling staging or backup directories are left behind
    assert sorted(p.name for p in trained.model.parent.iterdir()) == [
        "data.csv",
        "model",
        "model-json",
    ]


def test_train_json_prints_the_metrics_document(trained: Trained) -> None:
    # GIVEN `triage train ... --json` ran (fixture)
    _assert_ok(trained.json_run)

    # WHEN its stdout is parsed THEN it is exactly the artifact's metrics.json
    printed = json.loads(trained.json_run.stdout)
    _assert_metrics_contract(printed)
    assert printed == json.loads((trained.json_model / "metrics.json").read_text())


def test_evaluate_writes_the_same_metrics_schema(
    trained: Trained, triage: Callable[..., Any], tmp_path: Path
) -> None:
    # GIVEN the trained artifact and the labelled file
    metrics_file = tmp_path / "out" / "m.json"

    # WHEN it is evaluated with --json
    run = triage("evaluate", trained.model, trained.data, "--json", metrics_file)

    # THEN it exits 0, prints a summary and writes the metrics contract for all rows
    _assert_ok(run)
    assert "urgency" in run.stdout
    assert "topic" in run.stdout
    metrics = json.loads(metrics_file.read_text())
    _assert_metrics_contract(metrics, n_rows=N_ROWS)
    trained_metrics = json.loads((trained.model / "metrics.json").read_text())
    assert metrics["model"] == trained_metrics["model"]
    assert metrics["data"]["n_rows"] == N_ROWS


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_predict_adds_decision_columns(
    trained: Trained, triage: Callable[..., Any], tmp_path: Path, suffix: str
) -> None:
    # GIVEN the trained artifact and a ticket file
    out = tmp_path / f"pred{suffix}"

    # WHEN predicting into a file of the given format
    run = triage("predict", trained.model, trained.data, "--out", out)

    # THEN the output holds every input row and column, plus the decisions
    _assert_ok(run)
    original = _read_csv(trained.data)
    if suffix == ".csv":
        predicted = _read_csv(out)
    elif suffix == ".jsonl":
        predicted = pd.read_json(out, lines=True, dtype=False)
    else:
        predicted = pd.read_parquet(out)
    assert list(predicted.columns) == [*original.columns, *DECISION_COLUMNS]
    assert len(predicted) == len(original)
    pd.testing.assert_frame_equal(
        predicted[original.columns].astype(str), original, check_dtype=False
    )
    version = json.loads((trained.model / "metrics.json").read_text())["model"]["version"]
    assert set(predicted["model_version"].astype(str)) == {version}
    assert set(predicted["urgency_label"]) <= {"high", "low", "normal"}
    assert set(predicted["topic_label"]) <= {"account", "billing", "bug", "feature_request"}
    for head in ("urgency", "topic"):
        confidence = predicted[f"{head}_confidence"].astype(float)
        assert confidence.between(0.0, 1.0).all()
    flags = {
        column: predicted[column].astype(str).str.lower() == "true"
        for column in ("urgency_needs_review", "topic_needs_review", "needs_review")
    }
    assert (
        flags["needs_review"] == (flags["urgency_needs_review"] | flags["topic_needs_review"])
    ).all()
    # AND each decision sits on its own ticket's row: the topics agree with the file's labels
    # far more often than those of the neighbouring row do (a shifted or shuffled column would
    # agree only by chance)
    labels = original["topic"].astype(str)
    aligned = (predicted["topic_label"] == labels).mean()
    shifted = (predicted["topic_label"].shift(1) == labels).mean()
    assert aligned > shifted + 0.3


def test_predict_csv_to_stdout(
    trained: Trained, triage: Callable[..., Any], tmp_path: Path
) -> None:
    # GIVEN a CSV and no --out  WHEN predicting
    run = triage("predict", trained.model, trained.data)

    # THEN the scored CSV goes to stdout
    _assert_ok(run)
    predicted = pd.read_csv(io.StringIO(run.stdout), dtype=str, keep_default_na=False)
    assert len(predicted) == N_ROWS
    assert list(predicted.columns)[-len(DECISION_COLUMNS) :] == DECISION_COLUMNS


def test_demo_prints_every_example(trained: Trained, triage: Callable[..., Any]) -> None:
    # GIVEN the trained artifact  WHEN running the demo
    run = triage("demo", trained.model)

    # THEN every example ticket's subject and both heads appear
    _assert_ok(run)
    for example in EXAMPLES:
        assert example["subject"] in run.stdout
    assert "urgency" in run.stdout
    assert "topic" in run.stdout


# --- bad input: one line on stderr, exit 1, no traceback -----------------------------------------

Builder = Callable[[Path, Trained], list[Any]]


def _csv(tmp: Path, name: str, frame: pd.DataFrame) -> Path:
    path = tmp / name
    frame.to_csv(path, index=False)
    return path


def _train(path: Path, tmp: Path, *extra: Any) -> list[Any]:
    return ["train", path, "--out", tmp / "model", "--quiet", *extra]


def _missing_column(column: str) -> Builder:
    def build(tmp: Path, trained: Trained) -> list[Any]:
        return _train(_csv(tmp, "tickets.csv", _tickets().drop(columns=[column])), tmp)

    return build


def _no_label_column(tmp: Path, trained: Trained) -> list[Any]:
    frame = _tickets().drop(columns=["urgency", "topic"])
    return _train(_csv(tmp, "unlabelled.csv", frame), tmp)


def _empty_file(tmp: Path, trained: Trained) -> list[Any]:
    path = tmp / "empty.csv"
    path.write_bytes(b"")
    return _train(path, tmp)


def _header_only(tmp: Path, trained: Trained) -> list[Any]:
    path = tmp / "header.csv"
    path.write_text("subject,body,urgency,topic\n")
    return _train(path, tmp)


def _one_row(tmp: Path, trained: Trained) -> list[Any]:
    return _train(_csv(tmp, "one-row.csv", _tickets().head(1)), tmp)


def _too_few_rows(tmp: Path, trained: Trained) -> list[Any]:
    # one head, three classes: too few rows to hold out a stratified test split
    frame = (
        _tickets(5).drop(columns=["topic"]).assign(urgency=["high", "high", "low", "low", "normal"])
    )
    return _train(_csv(tmp, "five-rows.csv", frame), tmp)


def _single_class(tmp: Path, trained: Trained) -> list[Any]:
    frame = _tickets().assign(urgency="high")
    return _train(_csv(tmp, "all-high.csv", frame), tmp)


def _tiny_class(tmp: Path, trained: Trained) -> list[Any]:
    frame = _tickets()
    frame.loc[frame.index[:3], "topic"] = "security"
    return _train(_csv(tmp, "rare.csv", frame), tmp)


def _txt_extension(tmp: Path, trained: Trained) -> list[Any]:
    path = tmp / "tickets.txt"
    shutil.copy(trained.data, path)
    return _train(path, tmp)


def _latin1(tmp: Path, trained: Trained) -> list[Any]:
    path = tmp / "latin1.csv"
    lines = ["subject,body,urgency,topic"]
    lines += [f"Rückfrage {i},Grüße aus München {i},high,billing" for i in range(20)]
    path.write_bytes("\n".join(lines).encode("latin-1"))
    return _train(path, tmp)


def _nonexistent(tmp: Path, trained: Trained) -> list[Any]:
    return _train(tmp / "nowhere.csv", tmp)


def _evaluate_not_artifact(tmp: Path, trained: Trained) -> list[Any]:
    folder = tmp / "holiday-photos"
    folder.mkdir()
    (folder / "beach.jpg").write_bytes(b"\xff\xd8")
    return ["evaluate", folder, trained.data]


def _evaluate_tampered(tmp: Path, trained: Trained) -> list[Any]:
    model = Path(shutil.copytree(trained.model, tmp / "tampered"))
    weights = bytearray((model / "weights.npz").read_bytes())
    weights[len(weights) // 2] ^= 0x01
    (model / "weights.npz").write_bytes(bytes(weights))
    return ["evaluate", model, trained.data]


def _config_unknown_key(tmp: Path, trained: Trained) -> list[Any]:
    config = tmp / "train.toml"
    config.write_text("seed = 3\nn_feature = 4096\n")
    return _train(trained.data, tmp, "--config", config)


def _config_bad_toml(tmp: Path, trained: Trained) -> list[Any]:
    config = tmp / "train.toml"
    config.write_text("seed = = 3\n[review\n")
    return _train(trained.data, tmp, "--config", config)


def _predict_no_text(tmp: Path, trained: Trained) -> list[Any]:
    frame = _tickets(3).assign(subject=["", " ", ""], body=["", "", "\t"])
    return ["predict", trained.model, _csv(tmp, "blank.csv", frame), "--out", tmp / "p.csv"]


#: case id -> (builds the input and returns the arguments, fragment the error line must contain)
BAD_INPUTS: dict[str, tuple[Builder, str]] = {
    "no-subject": (_missing_column("subject"), "missing column 'subject'"),
    "no-body": (_missing_column("body"), "missing column 'body'"),
    "no-labels": (_no_label_column, "unlabelled.csv: no label column"),
    "empty-file": (_empty_file, "empty.csv: file is empty"),
    "header-only": (_header_only, "header.csv: no rows"),
    "one-row": (_one_row, "one-row.csv"),
    "too-few-rows": (_too_few_rows, "five-rows.csv"),
    "single-class": (_single_class, "only one class ('high')"),
    "class-too-small": (_tiny_class, "class 'security' has"),
    "txt-extension": (_txt_extension, "unknown file type '.txt'"),
    "not-utf8": (_latin1, "latin1.csv: not UTF-8"),
    "no-such-file": (_nonexistent, "nowhere.csv: no such file"),
    "eval-not-model": (_evaluate_not_artifact, "not a ticket-triage model"),
    "eval-tampered": (_evaluate_tampered, "weights.npz: checksum mismatch"),
    "config-unknown-key": (_config_unknown_key, "n_feature: Extra inputs are not permitted"),
    "config-bad-toml": (_config_bad_toml, "train.toml: not valid TOML"),
    "predict-no-text": (_predict_no_text, "every row has an empty subject and body"),
}


@pytest.fixture(scope="module")
def bad_runs(
    trained: Trained,
    triage: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    """Every case of BAD_INPUTS, each in its own directory, run a few at a time.

    Each run is a fresh interpreter importing pandas and scikit-learn (about 2 s), so running
    them side by side keeps the module within its time budget.
    """
    jobs = {}
    for case, (build, _) in BAD_INPUTS.items():
        directory = tmp_path_factory.mktemp(case)
        jobs[case] = (directory, build(directory, trained))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = {case: pool.submit(triage, *args) for case, (_, args) in jobs.items()}
    return {case: (jobs[case][0], future.result()) for case, future in futures.items()}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_fails_with_one_line(
    case: str, bad_runs: dict[str, tuple[Path, subprocess.CompletedProcess[str]]]
) -> None:
    # GIVEN an input the user got wrong  WHEN the command ran (fixture bad_runs)
    directory, run = bad_runs[case]
    expected = BAD_INPUTS[case][1]

    # THEN it exits 1 with one line on stderr naming the problem, and no traceback
    assert "Traceback" not in run.stdout
    assert "Traceback" not in run.stderr, run.stderr[-600:]
    assert run.returncode == 1, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    # AND nothing was written where a model would have gone
    assert not (directory / "model").exists()


def test_train_refuses_to_overwrite_a_folder_that_is_not_a_model(
    trained: Trained, triage: Callable[..., Any], tmp_path: Path
) -> None:
    # GIVEN --out pointing at someone's non-empty folder
    folder = tmp_path / "documents"
    (folder / "sub").mkdir(parents=True)
    (folder / "thesis.tex").write_text("four years of work")
    (folder / "sub" / "data.bin").write_bytes(b"\x00\x01")
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    # WHEN training into it
    run = triage("train", trained.data, "--out", folder, "--quiet")

    # THEN it exits 1 with one line, and every file is untouched and nothing was added
    assert "Traceback" not in run.stdout + run.stderr
    assert run.returncode == 1, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "not empty and is not a ticket-triage artifact" in lines[0]
    after = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in folder.iterdir()) == ["sub", "thesis.tex"]
    # AND no staging directory is left next to it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents"]
