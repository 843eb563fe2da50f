"""`make lambda-package`: the zip is built from the lock, holds no training libraries, and runs
the handler on its own in an isolated interpreter (issue 3)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILDER = ROOT / "deploy" / "build_lambda.py"
EVENTS = ROOT.parent / "shared" / "lambda_events"

# Runs inside `python -I -S` with only the unpacked package on sys.path: it must import the
# handler, serve events, and never touch the project's venv.
PROBE = r"""
import json, sys
package = sys.argv[1]
sys.path.insert(0, package)
import ticket_triage.aws_lambda as aws_lambda  # the handler deploy/template.yaml names
assert aws_lambda.__file__.startswith(package), aws_lambda.__file__
heavy = [m for m in ("sklearn", "scipy", "pandas", "sqlalchemy", "psycopg") if m in sys.modules]
results = [aws_lambda.handler(json.loads(line), None) for line in sys.stdin]
from ticket_triage.core import features
print(json.dumps({"results": results, "heavy": heavy, "compiled": features.COMPILED,
                  "paths": [p for p in sys.path if "site-packages" in p]}))
"""


def _uv() -> str:
    for candidate in (os.environ.get("UV"), str(ROOT / ".tools" / "bin" / "uv"), "uv"):
        if candidate and shutil.which(candidate):
            return candidate
    if os.environ.get("CI"):
        pytest.fail("uv is missing; the Makefile installs it into .tools")
    pytest.skip("uv not installed (make installs it)")


@pytest.fixture(scope="module")
def package(sample_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("lambda") / "lambda.zip"
    local = f"{sys.version_info.major}.{sys.version_info.minor}"
    result = subprocess.run(
        [sys.executable, str(BUILDER), "--model", str(sample_model), "--out", str(out),
         "--python-version", local],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "UV": _uv()},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    unpacked = out.parent / "unpacked"
    with zipfile.ZipFile(out) as archive:
        archive.extractall(unpacked)
    return unpacked, result.stdout


def _http_event(kind: str, path: str, body: object) -> dict:
    event = json.loads((EVENTS / f"{kind}.json").read_text())
    if event.get("version") == "2.0":
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["requestContext"]["http"]["method"] = "POST"
        event["rawQueryString"], event["queryStringParameters"] = "", None
    else:
        event["path"] = event["requestContext"]["path"] = path
        event["httpMethod"] = event["requestContext"]["httpMethod"] = "POST"
        event["queryStringParameters"] = event["multiValueQueryStringParameters"] = None
        event["multiValueHeaders"] = {"content-type": ["application/json"]}
    event["headers"] = {"content-type": "application/json"}
    event["body"], event["isBase64Encoded"] = json.dumps(body), False
    return event


def test_the_package_runs_the_handler_in_an_isolated_interpreter(package, shared_datasets):
    # GIVEN the zip built for this interpreter, unpacked, and real event payloads
    unpacked, _ = package
    ticket = {"subject": "Payment failed!!!", "body": "Card declined, error 402"}
    events = [
        _http_event("api_gateway_http_v2", "/v1/triage", ticket),
        _http_event("api_gateway_rest_v1", "/v1/triage", ticket),
        _http_event("lambda_function_url", "/v1/triage/batch", {"tickets": [ticket, ticket]}),
        {"warmup": True},
        json.loads((EVENTS / "eventbridge_non_http.json").read_text()),
    ]
    # WHEN a fresh `python -I -S` (no site-packages at all) imports the handler from it
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PROBE, str(unpacked)],
        input="\n".join(json.dumps(e) for e in events),
        capture_output=True, text=True, timeout=120, check=False, cwd=unpacked,
        env={"TRIAGE_MODEL_DIR": str(unpacked / "model"), "PATH": os.environ["PATH"]},
    )  # fmt: skip
    # THEN every event is served from the package alone
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["heavy"] == []
    assert report["paths"] == []
    assert report["compiled"] is False  # the C featuriser is not shipped; pure Python serves
    single_v2, single_v1, batch, warmup, other = report["results"]
    for served in (single_v2, single_v1):
        assert served["statusCode"] == 200, served
        assert json.loads(served["body"])["topic"]["label"]
    assert len(json.loads(batch["body"])["results"]) == 2
    assert warmup["warmup"] is True
    assert other["error"] == "unsupported event"


def test_the_package_holds_inference_code_and_the_model_only(package, sample_model):
    unpacked, printed = package
    top = {p.name for p in unpacked.iterdir()}
    assert {"ticket_triage", "numpy", "mmh3", "fastapi", "mangum", "model"} <= top
    assert not top & {"sklearn", "scipy", "pandas", "matplotlib", "typer", "uvicorn"}
    package = unpacked / "ticket_triage"
    layers = {p.name for p in package.iterdir() if p.is_dir()}
    # the layers the handler imports (nested packages included), and none of the others
    assert {"core", "serving", "production", "render"} <= layers
    assert not layers & {"training", "cli", "sample"}
    assert (package / "production" / "migrations" / "versions" / "0001_initial.py").is_file()
    assert not any(path.suffix == ".so" for path in package.rglob("*"))
    assert (unpacked / "model" / "manifest.json").read_bytes() == (
        sample_model / "manifest.json"
    ).read_bytes()
    assert "zip" in printed
    assert "unpacked" in printed


def test_a_tampered_model_is_not_packaged(sample_model, tmp_path):
    broken = tmp_path / "model"
    shutil.copytree(sample_model, broken)
    (broken / "model.json").write_text("{}")
    result = subprocess.run(
        [sys.executable, str(BUILDER), "--model", str(broken), "--out", str(tmp_path / "x.zip")],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "UV": _uv()},
    )  # fmt: skip
    assert result.returncode == 1
    assert "model.json" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.zip").exists()


def test_requirements_are_the_locked_versions():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {(p["name"], p["version"]) for p in lock["package"] if "version" in p}
    pins = [
        tuple(line.split(" ")[0].split("=="))
        for line in (ROOT / "deploy" / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    ]
    assert pins
    assert set(pins) <= locked
    names = {name for name, _ in pins}
    assert {"numpy", "mmh3", "fastapi", "pydantic-settings", "mangum"} <= names
    assert not names & {"scikit-learn", "scipy", "pandas", "uvicorn", "typer"}


def test_the_committed_requirements_are_what_the_lock_exports_now():
    """`make test` builds the package, which exports this file again: from an unchanged lock it
    must come out byte for byte as committed (no machine path in its header), and a lock that
    changed without it is caught here."""
    committed = (ROOT / "deploy" / "requirements.txt").read_text()
    assert str(ROOT) not in committed
    exported = subprocess.run(
        [_uv(), "export", "--frozen", "--no-dev", "--extra", "lambda", "--no-emit-project",
         "--format", "requirements.txt", "--quiet"],
        capture_output=True, text=True, timeout=120, check=True, cwd=ROOT,
    ).stdout  # fmt: skip

    def body(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("#")]

    assert body(exported) == body(committed)
    assert "--output-file deploy/requirements.txt" in committed.splitlines()[1]
