"""`triage serve`: a real uvicorn process on loopback (issue 3, `make run`)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

TRIAGE = str(Path(sys.executable).with_name("triage"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_serve_answers_and_stops_cleanly_on_sigterm(sample_model: Path, tmp_path: Path) -> None:
    # GIVEN `triage serve` on a free port, with its default prediction log (in its own folder)
    port = _free_port()
    process = subprocess.Popen(
        [TRIAGE, "serve", "--model", str(sample_model), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(f"{base}/readyz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        # WHEN a ticket is posted as the printed curl example does
        request = urllib.request.Request(  # noqa: S310 - loopback only
            f"{base}/v1/triage",
            data=json.dumps({"subject": "Refund", "body": "I was charged twice"}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            decision = json.load(response)
        assert decision["queue"]
        assert decision["model_version"]
    finally:
        # THEN SIGTERM stops it cleanly, after it printed where the docs are
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal it caught (exit status -15)
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert f"http://localhost:{port}/docs" in stderr
    assert f"curl -s http://localhost:{port}/v1/triage" in stderr
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert any(line["message"] == "triaged" for line in lines)
    assert lines[-1]["message"].startswith("Finished server process")
    assert "charged twice" not in stdout
    # the default log is triage.db where it was started; creating it is one line, not Alembic's
    assert (tmp_path / "triage.db").is_file()
    assert not [line for line in lines if line["logger"].startswith("alembic")]
    upgraded = [line for line in lines if line["message"] == "prediction log schema upgraded"]
    assert [line["to_revision"] for line in upgraded] == ["0003"]


@pytest.mark.parametrize("problem", ["no model", "bad rules"])
def test_serve_refuses_to_start_without_a_usable_model(sample_model, tmp_path, problem) -> None:
    args = ["serve", "--port", str(_free_port())]
    if problem == "no model":
        args += ["--model", str(tmp_path / "nowhere")]
        expected = "no such model directory"
    else:
        rules = tmp_path / "rules.toml"
        rules.write_text('[[rules]]\nname = "typo"\nqueue = "q"\nwhen = { topik = "bug" }\n')
        args += ["--model", str(sample_model), "--rules", str(rules)]
        expected = "rule 'typo': unknown condition 'topik'"
    result = subprocess.run(
        [TRIAGE, *args], capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path
    )
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
