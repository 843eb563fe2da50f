"""deploy/template.yaml: valid for cfn-lint, and shaped as issue 3 asks."""

from __future__ import annotations

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
