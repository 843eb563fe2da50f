"""deploy/template.yaml: valid for cfn-lint, and shaped as issue 3 asks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from cfnlint.decode import decode

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "template.yaml"


def test_cfn_lint_accepts_the_template():
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_template_parameters_and_warm_up():
    template, errors = decode(str(TEMPLATE))
    assert not errors
    memory = template["Parameters"]["MemorySize"]
    assert (memory["Default"], memory["MinValue"], memory["MaxValue"]) == (1536, 1024, 2048)
    assert template["Parameters"]["ProvisionedConcurrency"]["Default"] == 1
    function = template["Resources"]["TriageFunction"]["Properties"]
    assert function["Handler"] == "ticket_triage.aws_lambda.handler"
    assert function["AutoPublishAlias"] == "live"
    assert function["MemorySize"] == {"Ref": "MemorySize"}
    assert function["Events"]["Api"]["Type"] == "HttpApi"
    assert "ProvisionedConcurrencyConfig" in function
    # the schedule and its permission exist only when provisioned concurrency is 0
    assert template["Conditions"]["NeedsWarmUp"] == {
        "Fn::Equals": [{"Ref": "ProvisionedConcurrency"}, 0]
    }
    for name in ("WarmUpRule", "WarmUpPermission"):
        assert template["Resources"][name]["Condition"] == "NeedsWarmUp"
    rule = template["Resources"]["WarmUpRule"]["Properties"]
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    assert rule["Targets"][0]["Input"] == '{"warmup": true}'
    # the Python runtime is named exactly once
    assert len(re.findall(r"python3\.\d+", TEMPLATE.read_text())) == 1


def test_the_outbox_worker_is_a_scheduled_function_only_with_help_desks():
    template, errors = decode(str(TEMPLATE))
    assert not errors
    assert template["Conditions"]["HasHelpDesks"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "HelpDesks"}, ""]}]
    }
    worker = template["Resources"]["OutboxFunction"]
    assert worker["Condition"] == "HasHelpDesks"
    properties = worker["Properties"]
    assert properties["Handler"] == "ticket_triage.aws_lambda.handler"
    assert properties["ReservedConcurrentExecutions"] == 1  # one drain at a time
    assert properties["Timeout"] == 60
    (schedule,) = properties["Events"].values()
    assert schedule["Type"] == "Schedule"
    assert schedule["Properties"]["Schedule"] == "rate(1 minute)"
    assert schedule["Properties"]["Input"] == '{"connectors": "drain"}'
    variables = properties["Environment"]["Variables"]
    assert variables["TRIAGE_CONNECTORS_FILE"] == "/var/task/connectors.toml"
    # the API function takes the webhooks with the same settings, secrets by reference only
    api = template["Resources"]["TriageFunction"]["Properties"]["Environment"]["Variables"]
    for name in ("TRIAGE_ZENDESK_SIGNING_SECRET", "TRIAGE_GITHUB_TOKEN"):
        assert "resolve:secretsmanager" in json.dumps(api[name])
        assert "resolve:secretsmanager" in json.dumps(variables[name])
