"""The configuration examples in README.md are real: they load as the README says."""

from __future__ import annotations

import re
from pathlib import Path

from ticket_triage.core.routing import Router
from ticket_triage.training.config import load_config

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
TOML_BLOCKS = re.findall(r"```toml\n(.*?)```", README, flags=re.DOTALL)


def test_readme_has_the_two_examples():
    assert len(TOML_BLOCKS) == 2


def test_training_config_example_loads(tmp_path):
    path = tmp_path / "triage.toml"
    path.write_text(TOML_BLOCKS[0])
    config = load_config(path)
    assert config.targets["urgency"].min_precision == 0.9
    assert config.targets["urgency"].confidence == 0.95
    assert config.review.coverage == 0.8


def test_routing_example_loads_and_routes(tmp_path):
    path = tmp_path / "routing.toml"
    path.write_text(TOML_BLOCKS[1])
    heads = {
        "urgency": ("high", "low", "normal"),
        "topic": ("account", "billing", "bug", "feature_request"),
    }
    router = Router.load(path, heads)
    route = router.route({"urgency": "low", "topic": "billing"}, False, {"plan": "Enterprise"})
    assert route.queue == "billing-enterprise"
    assert router.route({"urgency": "low", "topic": "bug"}, False).queue == "bug"


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
