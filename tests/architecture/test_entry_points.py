"""The public entry points users and deployments name keep working after the layout change."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest


def test_the_app_factory_keeps_its_path() -> None:
    from ticket_triage.api import create_app
    from ticket_triage.serving import api

    assert create_app is api.create_app


def test_the_lambda_handler_keeps_its_path(sample_model: Path) -> None:
    # Importing the handler is Lambda's init phase (the model loads): a fresh interpreter.
    code = (
        "import ticket_triage.aws_lambda as entry, ticket_triage.serving.aws_lambda as real;"
        "assert entry.handler is real.handler;"
        "print(entry.handler({'warmup': True}, None)['ready'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
        env={"TRIAGE_MODEL_DIR": str(sample_model), "TRIAGE_DATABASE_URL": "none", "PATH": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "True"


def test_the_old_model_path_still_works_for_one_release_and_says_where_to_go(sample_model):
    sys.modules.pop("ticket_triage.model", None)
    with pytest.warns(DeprecationWarning, match="ticket_triage.core.model"):
        old = importlib.import_module("ticket_triage.model")
    from ticket_triage.core.model import TriageModel

    assert old.TriageModel is TriageModel
    result = old.TriageModel.load(sample_model).triage({"subject": "Refund", "body": "charged"})
    assert result["topic"].label in result["topic"].probabilities
