"""Training options: files, overrides, and refusals that name the key."""

from __future__ import annotations

import pytest

from ticket_triage.core.errors import ConfigError
from ticket_triage.training.config import load_config


def test_toml_file_and_overrides(tmp_path):
    # GIVEN a TOML file that changes the target and the review rule
    path = tmp_path / "triage.toml"
    path.write_text(
        'calibration = "sigmoid"\n[targets.urgency]\nclass = "high"\nmin_precision = 0.9\n'
        "[review]\ncoverage = 0.8\n"
    )
    # WHEN it is loaded with a command-line override
    config = load_config(path, seed=7)
    # THEN both apply, and a coverage rule replaces the default precision rule
    assert config.seed == 7
    assert config.calibration == "sigmoid"
    assert config.targets["urgency"].min_precision == 0.9
    assert config.review.coverage == 0.8
    assert config.review.min_precision is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"colour": "blue"}', "colour"),
        ('{"C": -1}', "C"),
        ('{"token_pattern": "(\\\\w+)"}', "capturing"),
        ('{"token_pattern": "[unclosed"}', "not a valid regex"),
        ('{"targets": {"urgency": {"class": "high", "min_precision": 1.5}}}', "min_precision"),
        ("not json", "not valid JSON"),
    ],
)
def test_bad_config_names_the_problem(tmp_path, content, message):
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.toml")
