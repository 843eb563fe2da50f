"""The README's help-desk section works as written: its ``connectors.toml`` loads against the
default model's classes and queues, and its three signed ``curl`` replays, run by bash against
``triage serve``, are accepted and written back to the (fake) help desks."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_helpdesk import FakeHelpDesk
from helpers import SECRETS, basic, fixture

from ticket_triage.connectors.config import load_connectors
from ticket_triage.core.routing import Router

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Help desks", 1)[1].split("\n## ", 1)[0]
TRIAGE = str(Path(sys.executable).with_name("triage"))
HEADS = {
    "urgency": ("high", "low", "normal"),
    "topic": ("account", "billing", "bug", "feature_request"),
}
DESKS = ("zendesk", "freshdesk", "github")


def _toml() -> str:
    (block,) = [b for b in re.findall(r"```toml\n(.*?)```", SECTION, re.DOTALL) if "[zendesk]" in b]
    return block


def _replays() -> dict[str, str]:
    blocks = re.findall(r"```sh\n(.*?)```", SECTION, re.DOTALL)
    found = {
        desk: [b for b in blocks if f"curl -s localhost:8000/v1/connectors/{desk}" in b]
        for desk in DESKS
    }
    for desk, matches in found.items():
        assert len(matches) == 1, f"README: one replay block for {desk}, found {len(matches)}"
    return {desk: matches[0] for desk, matches in found.items()}


def test_the_connectors_example_fits_the_default_model(tmp_path: Path) -> None:
    path = tmp_path / "connectors.toml"
    path.write_text(_toml())
    config = load_connectors(path, HEADS, Router.default(HEADS).queues)
    assert config.desks == DESKS
    assert config.zendesk is not None
    assert config.zendesk.priority["high"] == "urgent"
    assert config.github is not None
    assert "Codertocat/Hello-World" in config.github.repositories


@pytest.fixture
def desks() -> Iterator[dict[str, FakeHelpDesk]]:
    """The fakes, holding the tickets the README's sample events are about, checking the
    credentials the README's config names."""
    email = re.search(r'email = "([^"]+)"', _toml())
    assert email is not None
    github_issue = fixture("github_issues_opened.json")["issue"]
    fakes = {
        "zendesk": FakeHelpDesk(
            "zendesk",
            [fixture("zendesk_ticket.json")["ticket"]],
            credentials=basic(f"{email.group(1)}/token", SECRETS["zendesk_api_token"]),
        ),
        "freshdesk": FakeHelpDesk(
            "freshdesk",
            [fixture("freshdesk_ticket.json")],
            credentials=basic(SECRETS["freshdesk_api_key"], "X"),
        ),
        "github": FakeHelpDesk(
            "github", [github_issue], credentials=f"Bearer {SECRETS['github_token']}"
        ),
    }
    for fake in fakes.values():
        fake.start()
    yield fakes
    for fake in fakes.values():
        fake.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"triage serve exited: {process.communicate()[1][-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail("triage serve did not become ready in 60 s")


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("openssl")), reason="no curl")
def test_the_signed_replays_are_accepted_and_written_back(
    sample_model: Path, desks: dict[str, FakeHelpDesk], tmp_path: Path
) -> None:
    # GIVEN the README's connectors.toml pointed at the fakes, and `triage serve` with it
    config = _toml()
    for desk in ("zendesk", "freshdesk"):
        config = re.sub(rf'url = "https://acme\.{desk}\.com"', f'url = "{desks[desk].url}"', config)
    config = config.replace("[github]\n", f'[github]\napi_url = "{desks["github"].url}"\n')
    (tmp_path / "connectors.toml").write_text(config)
    port = _free_port()
    env = {
        **os.environ,
        "TRIAGE_CONNECTORS_FILE": str(tmp_path / "connectors.toml"),
        **{f"TRIAGE_{name.upper()}": value for name, value in SECRETS.items()},
    }
    process = subprocess.Popen(
        [TRIAGE, "serve", "--model", str(sample_model), "--port", str(port),
         "--db", f"sqlite:///{tmp_path / 'triage.db'}"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_ready(f"http://127.0.0.1:{port}", process)
        # WHEN each replay block runs in bash, as written, from the project's root
        answers = {}
        for desk, block in _replays().items():
            script = block.replace("localhost:8000", f"127.0.0.1:{port}")
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", script],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=False,
            )  # fmt: skip
            assert done.returncode == 0, (desk, done.stderr)
            answers[desk] = json.loads(done.stdout)
        # THEN each is accepted, triaged, and its decision reaches the help desk
        for desk, answer in answers.items():
            assert answer["outcome"] == "accepted", (desk, answer)
        tickets = {"zendesk": "35436", "freshdesk": "20", "github": "1"}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(
            desks[desk].writes(ticket) for desk, ticket in tickets.items()
        ):
            time.sleep(0.2)
        for desk, ticket in tickets.items():
            (write, *_) = desks[desk].writes(ticket)
            assert write.method in ("PUT", "POST"), desk
        assert any(
            tag.startswith("triage_queue_") for tag in desks["zendesk"].tickets["35436"]["tags"]
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
