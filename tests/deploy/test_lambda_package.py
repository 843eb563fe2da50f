"""`make lambda-package`: the zip is built from the lock, holds no training libraries, and runs
the handler on its own in an isolated interpreter (issue 3), on the cross-compiled C featuriser
(issue 11), or on the pure-Python path when that cannot load."""

from __future__ import annotations

import json
import os
import platform
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
compiled = sys.modules.get("ticket_triage.core._featurize")
print(json.dumps({"results": results, "heavy": heavy, "compiled": features.COMPILED,
                  "featurizer": getattr(compiled, "__file__", None),
                  "paths": [p for p in sys.path if "site-packages" in p]}))
"""


CONNECTORS = """[zendesk]
url = "{url}"
email = "bot@example.com"
[zendesk.priority]
high = "urgent"
normal = "normal"
low = "low"
[zendesk.groups]
account = 1
billing = 2
bug = 3
feature_request = 4
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
    """The zip built as `make lambda-package RULES=... CONNECTORS=...` builds it, unpacked."""
    out = tmp_path_factory.mktemp("lambda") / "lambda.zip"
    rules, connectors = out.parent / "routing.toml", out.parent / "connectors.toml"
    rules.write_text('[[rules]]\nname = "all"\nqueue = "{topic}"\n')
    connectors.write_text(CONNECTORS.format(url="https://acme.zendesk.com"))
    local = f"{sys.version_info.major}.{sys.version_info.minor}"
    result = subprocess.run(
        [sys.executable, str(BUILDER), "--model", str(sample_model), "--out", str(out),
         "--python-version", local, "--rules", str(rules), "--connectors", str(connectors)],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "UV": _uv()},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    unpacked = out.parent / "unpacked"
    with zipfile.ZipFile(out) as archive:
        archive.extractall(unpacked)
    return unpacked, result.stdout


def _probe(unpacked: Path, events: list[dict]) -> dict:
    """PROBE's report: ``events`` served by the handler of the unpacked package, alone."""
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PROBE, str(unpacked)],
        input="\n".join(json.dumps(e) for e in events),
        capture_output=True, text=True, timeout=120, check=False, cwd=unpacked,
        env={"TRIAGE_MODEL_DIR": str(unpacked / "model"), "PATH": os.environ["PATH"]},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


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
    report = _probe(unpacked, events)
    # THEN every event is served from the package alone, through the shipped C featuriser
    assert report["heavy"] == []
    assert report["paths"] == []
    assert report["compiled"] is True
    assert report["featurizer"] == str(unpacked / "ticket_triage" / "core" / "_featurize.abi3.so")
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
    assert {"core", "serving", "production", "render", "connectors"} <= layers
    assert not layers & {"training", "cli", "sample"}
    versions = package / "production" / "migrations" / "versions"
    migrations = {"0001_initial.py", "0002_connectors.py", "0003_roles_and_audit.py"}
    assert migrations <= {p.name for p in versions.iterdir()}
    assert "httpx2" in top  # the help desks' client, imported only when one is connected
    # the rules and connectors files given to the build sit where the template points
    assert (unpacked / "rules.toml").read_text().startswith("[[rules]]")
    assert (unpacked / "connectors.toml").read_text().startswith("[zendesk]")
    # the one compiled file of ours: the featuriser, for the stable ABI
    assert [p.relative_to(package).as_posix() for p in package.rglob("*.so")] == [
        "core/_featurize.abi3.so"
    ]
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


def test_the_package_takes_a_help_desk_webhook_and_writes_back(package, tmp_path, shared_datasets):
    """The connectors from the zip alone: a signed Zendesk webhook through API Gateway, in
    `python -I -S`, is triaged, stored in the SQLite outbox and written back to a fake Zendesk
    (a real HTTP server in this test) with the packaged httpx2; the drain event then finds
    nothing left."""
    sys.path.insert(0, str(ROOT / "tests" / "connectors"))
    from fake_helpdesk import FakeHelpDesk
    from helpers import basic, zendesk_headers, zendesk_ticket, zendesk_trigger

    unpacked, _ = package
    secret, token = "package-signing-secret", "package-api-token"
    ticket = zendesk_ticket(930, "Payment failed!!!", "Card declined twice, error 402")
    with FakeHelpDesk(
        "zendesk", [ticket], credentials=basic("bot@example.com/token", token)
    ) as fake:
        connectors = tmp_path / "connectors.toml"
        connectors.write_text(CONNECTORS.format(url=fake.url))
        body = zendesk_trigger(ticket)
        event = _http_event("api_gateway_http_v2", "/v1/connectors/zendesk", {})
        event["body"] = body.decode()
        event["headers"] = zendesk_headers(body, secret=secret)
        result = subprocess.run(
            [sys.executable, "-I", "-S", "-c", PROBE, str(unpacked)],
            input="\n".join(json.dumps(e) for e in (event, {"connectors": "drain"})),
            capture_output=True, text=True, timeout=120, check=False, cwd=unpacked,
            env={"TRIAGE_MODEL_DIR": str(unpacked / "model"), "PATH": os.environ["PATH"],
                 "TRIAGE_RULES_FILE": str(unpacked / "rules.toml"),
                 "TRIAGE_CONNECTORS_FILE": str(connectors),
                 "TRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'triage.db'}",
                 "TRIAGE_SPOOL_PATH": str(tmp_path / "spool.jsonl"),
                 "TRIAGE_ZENDESK_SIGNING_SECRET": secret, "TRIAGE_ZENDESK_API_TOKEN": token},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        webhook, drained = json.loads(result.stdout.splitlines()[-1])["results"]
        assert webhook["statusCode"] == 202, webhook
        assert json.loads(webhook["body"])["outcome"] == "accepted"
        assert drained["outbox"]["zendesk"]["done"] == 1, drained
        (write,) = fake.writes("930")
        assert write.method == "PUT"


def test_a_featurizer_that_cannot_load_leaves_the_pure_python_path(
    package, tmp_path, shared_datasets, cross_compile
):
    # GIVEN a copy of the package whose featuriser is the build for the other architecture, a
    # file this interpreter cannot load
    unpacked, _ = package
    other = "arm64" if platform.machine() == "x86_64" else "x86_64"
    foreign = cross_compile.compile_featurizer(other, tmp_path / other)
    copy = tmp_path / "package"
    shutil.copytree(unpacked, copy)
    shutil.copy2(foreign, copy / "ticket_triage" / "core" / "_featurize.abi3.so")
    event = _http_event(
        "api_gateway_http_v2", "/v1/triage", {"subject": "Refund", "body": "Charged twice!!"}
    )
    # WHEN the same ticket is served from both packages
    shipped, fallback = _probe(unpacked, [event]), _probe(copy, [event])
    # THEN the copy serves on the pure-Python path, with the same answer
    assert shipped["compiled"] is True
    assert fallback["compiled"] is False
    assert fallback["featurizer"] is None
    (fast,), (slow,) = shipped["results"], fallback["results"]
    assert fast["statusCode"] == slow["statusCode"] == 200
    fast_body, slow_body = json.loads(fast["body"]), json.loads(slow["body"])
    for head in ("topic", "urgency"):
        assert fast_body[head]["label"] == slow_body[head]["label"]
        assert fast_body[head]["confidence"] == pytest.approx(slow_body[head]["confidence"])
