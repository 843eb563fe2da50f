"""``connectors.toml`` is checked at start against the model and the rules: one line per mistake,
naming the file and the entry; a service with a wrong one is not ready and says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SECRETS, connectors_toml

from ticket_triage.connectors.config import load_connectors, taxonomy
from ticket_triage.core.errors import ConfigError
from ticket_triage.serving.api import create_app
from ticket_triage.serving.settings import Settings, load_settings

HEADS = {
    "urgency": ("high", "low", "normal"),
    "topic": ("account", "billing", "bug", "feature_request"),
}
QUEUES = ["account", "billing", "bug", "feature_request", "priority", "review"]


def _load(tmp_path: Path, text: str):
    path = tmp_path / "connectors.toml"
    path.write_text(text)
    return load_connectors(path, HEADS, QUEUES)


def test_the_readme_shaped_config_loads(fakes, tmp_path) -> None:
    config = _load(tmp_path, connectors_toml(fakes))
    assert config.desks == ("zendesk", "freshdesk", "github")
    assert config.zendesk.groups["bug"] == 103
    assert config.github.label("topic", "bug") == "triage: topic bug"
    assert taxonomy(config)["topic"] == ("account", "billing", "bug", "feature_request")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("bug = 103", "bugs = 103"),
            "zendesk.groups.bugs: not a queue of this model and these rules",
        ),
        (
            ("review = 106\n\n[freshdesk]", "\n[freshdesk]"),
            "zendesk.groups: no entry for queue 'review'",
        ),
        (
            ('normal = "normal"', 'medium = "normal"'),
            "zendesk.priority.medium: not a urgency class",
        ),
        (('low = "low"', 'low = "lowest"'), "zendesk.priority.low: Input should be"),
        (
            ("high = 4", "high = 5"),
            "freshdesk.priority.high: Input should be less than or equal to 4",
        ),
        (
            ('email = "bot@example.com"', 'emails = "bot@example.com"'),
            "zendesk.emails: Extra inputs are not permitted",
        ),
        (
            ('repositories = ["Codertocat/Hello-World"]', "repositories = []"),
            "github.repositories: List should have at least 1 item",
        ),
        (
            ('feature_request = ["enhancement"]', 'wishes = ["enhancement"]'),
            "github.import.topic.wishes: not a topic class",
        ),
    ],
)
def test_every_mistake_is_one_line_naming_the_entry(fakes, tmp_path, change, message) -> None:
    text = connectors_toml(fakes)
    old, new = change
    assert old in text
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text.replace(old, new, 1))
    assert str(caught.value).startswith(str(tmp_path / "connectors.toml"))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_empty_or_broken_file_says_so(tmp_path) -> None:
    with pytest.raises(ConfigError, match="no help desk configured"):
        _load(tmp_path, "# nothing\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        _load(tmp_path, "[zendesk\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_connectors(tmp_path / "missing.toml", HEADS, QUEUES)


def test_a_service_without_a_desk_s_secrets_is_not_ready_and_names_them(
    sample_model, connectors_file, tmp_path
) -> None:
    secrets = {key: value for key, value in SECRETS.items() if key != "zendesk_api_token"}
    settings = Settings(
        model_dir=sample_model, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        spool_path=tmp_path / "spool.jsonl", connectors_file=connectors_file, **secrets,
    )  # fmt: skip
    app = create_app(settings)
    assert not app.state.service.ready
    assert "TRIAGE_ZENDESK_API_TOKEN not set" in app.state.service.error


def test_connectors_need_the_prediction_log_s_database(sample_model, connectors_file) -> None:
    with pytest.raises(
        ConfigError, match="TRIAGE_CONNECTORS_FILE is set but TRIAGE_DATABASE_URL is not"
    ):
        load_settings(model_dir=sample_model, connectors_file=connectors_file)
