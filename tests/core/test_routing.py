"""Routing rules: first match wins, a catch-all ends the list, every mistake names its rule."""

from __future__ import annotations

import pytest

from ticket_triage.core.errors import ConfigError
from ticket_triage.core.routing import Router, default_rules

HEADS = {
    "urgency": ("high", "low", "normal"),
    "topic": ("account", "billing", "bug", "feature_request"),
}

RULES = """
[[rules]]
name = "priority"
queue = "priority"
when = { urgency = "high" }

[[rules]]
name = "enterprise-billing"
queue = "billing-enterprise"
when = { topic = ["billing", "account"], metadata = { plan = "Enterprise" } }

[[rules]]
name = "review"
queue = "review"
when = { needs_review = true }

[[rules]]
name = "by-topic"
queue = "{topic}-{urgency}"
"""


@pytest.fixture
def router(tmp_path):
    path = tmp_path / "routing.toml"
    path.write_text(RULES)
    return Router.load(path, HEADS)


@pytest.mark.parametrize(
    ("labels", "needs_review", "metadata", "queue", "rule"),
    [
        ({"urgency": "high", "topic": "bug"}, True, {}, "priority", "priority"),
        (
            {"urgency": "low", "topic": "billing"},
            True,
            {"plan": " enterprise "},
            "billing-enterprise",
            "enterprise-billing",
        ),
        ({"urgency": "low", "topic": "billing"}, True, {"plan": "pro"}, "review", "review"),
        ({"urgency": "low", "topic": "bug"}, False, None, "bug-low", "by-topic"),
        (
            {"urgency": "normal", "topic": "account"},
            False,
            {"plan": "ENTERPRISE"},
            "billing-enterprise",
            "enterprise-billing",
        ),
    ],
)
def test_first_matching_rule_wins(router, labels, needs_review, metadata, queue, rule):
    route = router.route(labels, needs_review, metadata)
    assert (route.queue, route.rule) == (queue, rule)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[rules]]\nname = "a"\nqueue = "x"\nwhen = { urgency = "urgent" }\n'
            '[[rules]]\nname = "b"\nqueue = "y"\n',
            "rule 'a': urgency 'urgent' is not a class",
        ),
        (
            '[[rules]]\nname = "a"\nqueue = "x"\nwhen = { priority = "high" }\n'
            '[[rules]]\nname = "b"\nqueue = "y"\n',
            "rule 'a': unknown condition 'priority'",
        ),
        (
            '[[rules]]\nname = "a"\nqueue = "x"\nwhen = { urgency = "high" }\n',
            "last rule 'a' has conditions",
        ),
        (
            '[[rules]]\nname = "a"\nqueue = "x"\n[[rules]]\nname = "b"\nqueue = "y"\n',
            "rule 'a' matches every ticket",
        ),
        (
            '[[rules]]\nname = "a"\nqueue = "x"\n[[rules]]\nname = "a"\nqueue = "y"\n',
            "rule 'a': the name is used twice",
        ),
        ('[[rules]]\nname = "a"\nqueue = "{region}"\n', "placeholder {region} is not a head"),
        ('[[rules]]\nname = "a"\n', "rule 'a': needs a non-empty `queue`"),
        ('[[rules]]\nqueue = "x"\n', "rule 1: needs a non-empty `name`"),
        ('[[rules]]\nname = "a"\nqueue = "x"\ncolour = "red"\n', "rule 'a': unknown key 'colour'"),
        (
            '[[rules]]\nname = "a"\nqueue = "x"\nwhen = { needs_review = "yes" }\n',
            "needs_review must be true or false",
        ),
        (
            '[[rules]]\nname = "a"\nqueue = "x"\nwhen = { topic = [] }\n',
            "expected a string or a list",
        ),
        ("", "no [[rules]]"),
        ("[[rules]\n", "not valid TOML"),
    ],
)
def test_invalid_rules_are_refused_naming_the_rule(tmp_path, body, message):
    path = tmp_path / "routing.toml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("{", r"\{")):
        Router.load(path, HEADS)


def test_missing_rules_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read routing rules"):
        Router.load(tmp_path / "nope.toml", HEADS)


@pytest.mark.parametrize(
    ("heads", "expected"),
    [
        (HEADS, ["priority", "review", "by-topic"]),
        ({"topic": ("bug", "question")}, ["review", "by-topic"]),
        ({"urgency": ("high", "low")}, ["priority", "review", "general"]),
    ],
)
def test_default_rules_fit_whatever_heads_the_model_has(heads, expected):
    router = Router.default(heads)
    assert [rule.name for rule in router.rules] == expected
    assert router.to_json()[-1]["when"] == {}


def test_default_rules_route_the_seed_taxonomy():
    router = Router.from_data(default_rules(HEADS), HEADS, source="test")
    assert router.route({"urgency": "high", "topic": "bug"}, True).queue == "priority"
    assert router.route({"urgency": "low", "topic": "bug"}, True).queue == "review"
    assert router.route({"urgency": "low", "topic": "billing"}, False).queue == "billing"
