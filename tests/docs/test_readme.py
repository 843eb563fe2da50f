"""The configuration examples in README.md are real: they load as the README says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ticket_triage.connectors.config import load_connectors
from ticket_triage.core.routing import Router
from ticket_triage.training.config import load_config

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
TOML_BLOCKS = re.findall(r"```toml\n(.*?)```", README, flags=re.DOTALL)
HEADS = {
    "urgency": ("high", "low", "normal"),
    "topic": ("account", "billing", "bug", "feature_request"),
}


@pytest.mark.parametrize("block", TOML_BLOCKS, ids=lambda block: block.splitlines()[0])
def test_every_toml_example_loads_as_what_it_is(block: str, tmp_path: Path) -> None:
    """A routing file (it has [[rules]]) is a valid rules file for the default heads, a
    connectors file (it has [zendesk]) fits the default heads and queues; anything else is a
    training config that loads without an unknown key."""
    path = tmp_path / "example.toml"
    path.write_text(block)
    if "[[rules]]" in block:
        assert Router.load(path, HEADS).rules
    elif "[zendesk]" in block:
        assert load_connectors(path, HEADS, Router.default(HEADS).queues).desks
    else:
        load_config(path)


def _example(marker: str) -> str:
    found = [block for block in TOML_BLOCKS if marker in block]
    assert found, f"README.md lost its example with {marker!r}"
    return found[0]


def test_training_config_example_means_what_its_comments_say(tmp_path):
    path = tmp_path / "triage.toml"
    path.write_text(_example("[targets.urgency]"))
    config = load_config(path)
    assert config.targets["urgency"].min_precision == 0.9
    assert config.targets["urgency"].confidence == 0.95
    assert config.review.coverage == 0.8


def test_routing_example_routes_as_its_comments_say(tmp_path):
    path = tmp_path / "routing.toml"
    path.write_text(_example('queue = "billing-enterprise"'))
    router = Router.load(path, HEADS)
    route = router.route({"urgency": "low", "topic": "billing"}, False, {"plan": " Enterprise "})
    assert route.queue == "billing-enterprise"
    assert router.route({"urgency": "low", "topic": "bug"}, False).queue == "bug"
    assert router.route({"urgency": "high", "topic": "bug"}, True).queue == "priority"


def test_curl_example_is_a_valid_ticket():
    from ticket_triage.serving.schemas import TicketIn

    payload = re.search(r"curl -s localhost:8000/v1/triage .*?-d '(.*?)'", README, re.DOTALL)
    assert payload is not None
    ticket = TicketIn.model_validate_json(payload.group(1))
    assert ticket.metadata == {"plan": "pro"}


def test_readme_settings_table_lists_every_setting():
    from ticket_triage.serving.settings import Settings

    for name in Settings.model_fields:
        assert f"`TRIAGE_{name.upper()}`" in README, name


def test_the_python_example_runs_as_written(sample_model: Path) -> None:
    """The README's Python block, on the session's sample model: every line runs."""
    (block,) = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
    ticket = {"subject": "Invoice wrong", "body": "charged twice for March"}
    namespace = {"ticket": ticket, "list_of_tickets": [ticket, {"subject": "", "body": "crash!!!"}]}
    exec(block.replace('"models/default"', repr(str(sample_model))), namespace)  # noqa: S102
    assert namespace["decision"].queue
    assert len(namespace["columns"]["queue"]) == 2
    assert namespace["why"]["urgency"].label == namespace["result"]["urgency"].label


def _command_names(command: object, prefix: str) -> list[str]:
    """``triage train``, ``triage models promote``, ...: every runnable command of the app."""
    children = getattr(command, "commands", None)
    if not children:
        return [prefix]
    return [
        name
        for child_name, child in children.items()
        for name in _command_names(child, f"{prefix} {child_name}")
    ]


def test_readme_documents_every_cli_command():
    """A user finds each command written out as they would type it (``triage models rollback``),
    so a new command without a README line fails here."""
    import typer.main

    from ticket_triage.cli import app

    names = _command_names(typer.main.get_command(app), "triage")
    assert "triage models rollback" in names
    assert "triage retrain" in names
    missing = [name for name in names if not re.search(rf"{re.escape(name)}(?![\w-])", README)]
    assert not missing, f"README.md does not show: {', '.join(missing)}"
