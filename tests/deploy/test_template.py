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


def test_the_architecture_is_one_parameter_for_every_function():
    # GIVEN the template WHEN its functions are read
    template, errors = decode(str(TEMPLATE))
    assert not errors
    parameter = template["Parameters"]["Architecture"]
    # THEN both take the Architecture parameter, x86_64 or arm64 (what `make lambda-package
    # ARCH=...` builds), x86_64 by default
    assert (parameter["Default"], parameter["AllowedValues"]) == ("x86_64", ["x86_64", "arm64"])
    for name in ("TriageFunction", "OutboxFunction"):
        properties = template["Resources"][name]["Properties"]
        assert properties["Architectures"] == [{"Ref": "Architecture"}]
    assert "x86_64]" not in TEMPLATE.read_text()  # no function pinned to one CPU


def test_a_new_version_is_a_canary_rolled_back_on_its_own_alarms():
    """Issue 12 on Lambda: a deploy publishes a version behind the live alias, CodeDeploy moves
    the alias's weights to it as DeploymentType says, and the version's errors or p99 duration
    alarm moves them back."""
    template, errors = decode(str(TEMPLATE))
    assert not errors
    function = template["Resources"]["TriageFunction"]["Properties"]
    assert function["AutoPublishAlias"] == "live"
    preference = function["DeploymentPreference"]
    assert preference["Type"] == {"Ref": "DeploymentType"}
    deployment = template["Parameters"]["DeploymentType"]
    assert deployment["Default"] == "Canary10Percent5Minutes"
    assert {"AllAtOnce", "Linear10PercentEvery1Minute"} <= set(deployment["AllowedValues"])
    alarms = [alarm["Ref"] for alarm in preference["Alarms"]]
    assert alarms == ["CanaryErrorsAlarm", "CanaryLatencyAlarm"]
    watched = {}
    for name in alarms:
        alarm = template["Resources"][name]
        assert alarm["Type"] == "AWS::CloudWatch::Alarm"
        properties = alarm["Properties"]
        assert properties["Namespace"] == "AWS/Lambda"
        dimensions = {d["Name"]: d["Value"] for d in properties["Dimensions"]}
        # the new version's own invokes through the alias, not the function's as a whole
        assert dimensions["ExecutedVersion"] == {
            "Fn::GetAtt": ["TriageFunction", "Version.Version"]
        }
        assert dimensions["Resource"] == {"Fn::Sub": "${TriageFunction}:live"}
        assert properties["TreatMissingData"] == "notBreaching"  # no traffic is no failure
        watched[properties["MetricName"]] = properties
    assert watched["Errors"]["Threshold"] == 0
    assert watched["Duration"]["ExtendedStatistic"] == "p99"
    assert watched["Duration"]["Threshold"] == {"Ref": "CanaryLatencyP99Ms"}
