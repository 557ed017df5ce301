"""What an operator relies on when deploying template.yaml (read as YAML, no AWS).

Every CodeDeploy-shifted function has its three alarms wired into its DeploymentPreference (so a
canary/linear/blue-green shift rolls back by itself), the alarms watch the `live` alias and the
version being deployed, the dashboard shows every function, the CA bundles ship in a layer, and
the hot RPCs have their scaling knobs. The alarms and the dashboard are the nested stacks
infra/app/alarms-<context>.yaml and dashboard.yaml: read through what template.yaml passes them.
"""

from __future__ import annotations

import json
import ssl
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from infra import cfn_yaml, monitoring, specs
from tests.unit.sam_template import ROOT, functions, resources, samconfig, template

pytestmark = pytest.mark.unit

HOOK = "MigrateDatabase"
ALARM_ARN = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm"
DEPLOYED = sorted(set(functions()) - {HOOK})
# Derived from the specs (infra/app/functions.yaml) and the base template, as `make template` does.
KINDS = monitoring.kinds(specs.load(), cfn_yaml.load(specs.BASE))
CONTEXTS = monitoring.contexts(specs.load())
ALARM_STACKS = sorted({monitoring.alarms_stack(CONTEXTS[n]) for n in DEPLOYED})


def alarms_of(name: str) -> str:
    """The alarms stack of the function's context."""
    return monitoring.alarms_stack(CONTEXTS[name])


@cache
def nested(stack: str) -> dict[str, Any]:
    """A generated nested stack of template.yaml (Alarms<Context>, Dashboard), from its file."""
    resource = resources()[stack]
    assert resource["Type"] == "AWS::CloudFormation::Stack"
    return cfn_yaml.load(ROOT / resource["Properties"]["TemplateURL"])


def passed(stack: str, parameter: str) -> Any:
    """What template.yaml passes to a nested stack's parameter."""
    return resources()[stack]["Properties"]["Parameters"][parameter]


def in_parent(stack: str, value: Any) -> Any:
    """A nested stack's value with its parameter references replaced by what the parent passes."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in nested(stack)["Parameters"]:
            return passed(stack, value["Ref"])
        return {k: in_parent(stack, v) for k, v in value.items()}
    if isinstance(value, list):
        return [in_parent(stack, v) for v in value]
    return value


def alarm(alarm_id: str) -> tuple[str, dict[str, Any]]:
    """(the nested stack, the alarm resource) of a generated alarm."""
    for stack in (*ALARM_STACKS, monitoring.DASHBOARD_STACK):
        found = nested(stack)["Resources"].get(alarm_id)
        if found is not None:
            return stack, found
    raise AssertionError(f"{alarm_id} is missing: run `make template`")


def _alarm_name_in_parent(alarm_id: str) -> dict[str, Any]:
    """The alarm's AlarmName as the application template spells it (its stack name)."""
    stack, resource = alarm(alarm_id)
    assert passed(stack, monitoring.STACK_NAME) == {"Ref": "AWS::StackName"}
    name = resource["Properties"]["AlarmName"]["Fn::Sub"]
    return {"Fn::Sub": name.replace(f"${{{monitoring.STACK_NAME}}}", "${AWS::StackName}")}


def test_every_function_but_the_hook_is_monitored() -> None:
    assert sorted(KINDS) == DEPLOYED


@pytest.mark.parametrize("name", DEPLOYED)
def test_function_rolls_back_on_its_alarms(name: str) -> None:
    kind = KINDS[name]
    alarms = (functions()[name].get("DeploymentPreference") or {}).get("Alarms")
    assert alarms == monitoring.deployment_alarms(name, kind, CONTEXTS[name]), (
        f"{name} has no rollback alarms: run `make template`"
    )
    for alarm_id, listed in zip(monitoring.alarm_ids(name, kind), alarms, strict=True):
        stack, resource = alarm(alarm_id)
        assert resource["Type"] == "AWS::CloudWatch::Alarm"
        if "Fn::GetAtt" in listed:
            # Through the Alarms stack's output: the alarm's name, and a dependency of the
            # deployment group (the alarm watches the new version before traffic moves).
            assert listed == {"Fn::GetAtt": [stack, f"Outputs.{alarm_id}"]}
            assert nested(stack)["Outputs"][alarm_id]["Value"] == {"Ref": alarm_id}
        else:
            # By name: an alarm on the API cannot be a dependency of a function behind it.
            assert listed == _alarm_name_in_parent(alarm_id)


def test_generated_monitoring_stacks_are_current() -> None:
    from infra import generate

    assert generate.stale() == [], "stale: run `make template`"


def _dimensions(alarm_id: str) -> dict[str, Any]:
    stack, resource = alarm(alarm_id)
    dims = in_parent(stack, resource["Properties"]["Dimensions"])
    return {d["Name"]: d["Value"] for d in dims}


@pytest.mark.parametrize("name", DEPLOYED)
def test_alarms_watch_the_alias_and_the_new_version(name: str) -> None:
    first, throttles, duration = monitoring.alarm_ids(name, KINDS[name])
    alias = {"Fn::Sub": f"${{{name}}}:live"}
    version = {"Fn::GetAtt": [name, "Version.Version"]}
    # `${Name}` in the nested stacks is the parameter the parent sets to the function's name.
    assert passed(alarms_of(name), name) == {"Ref": name}

    errors = alarm(first)[1]["Properties"]
    if KINDS[name] == "authorizer":
        # Its 401s are Lambda errors by design (docs/decisions.md #3): watch the API's 5xx.
        assert errors["Namespace"] == "AWS/ApiGateway"
        assert errors["MetricName"] == "5xx"
        assert _dimensions(first) == {"ApiId": {"Ref": "HttpApi"}}
    else:
        assert errors["MetricName"] == "Errors"
        assert _dimensions(first) == {
            "FunctionName": {"Ref": name},
            "Resource": alias,
            "ExecutedVersion": version,
        }
    assert in_parent(alarm(first)[0], errors["Threshold"]) == {"Ref": "AlarmErrorsThreshold"}

    assert alarm(throttles)[1]["Properties"]["MetricName"] == "Throttles"
    assert _dimensions(throttles)["Resource"] == alias

    p99 = alarm(duration)[1]["Properties"]
    assert p99["MetricName"] == "Duration"
    assert p99["ExtendedStatistic"] == "p99"
    assert _dimensions(duration)["ExecutedVersion"] == version
    expected = "BatchP99DurationMs" if KINDS[name] == "batch" else "ApiP99DurationMs"
    assert in_parent(alarms_of(name), p99["Threshold"]) == {"Ref": expected}


def test_alarm_thresholds_leave_room_under_the_timeouts() -> None:
    params = template()["Parameters"]
    api_timeouts = [functions()[n].get("Timeout", 10) for n in DEPLOYED if KINDS[n] != "batch"]
    assert params["ApiP99DurationMs"]["Default"] < min(api_timeouts) * 1000
    batch_timeouts = [functions()[n]["Timeout"] for n in DEPLOYED if KINDS[n] == "batch"]
    assert params["BatchP99DurationMs"]["Default"] < min(batch_timeouts) * 1000


def test_dashboard_shows_every_function_and_every_alarm() -> None:
    dashboard = nested(monitoring.DASHBOARD_STACK)["Resources"]["Dashboard"]
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    data = json.loads(body)
    text = json.dumps(data)
    for name in DEPLOYED:
        assert f"${{{name}}}:live" in text, name
        assert passed(monitoring.DASHBOARD_STACK, name) == {"Ref": name}
        for alarm_id in monitoring.alarm_ids(name, KINDS[name]):
            name_sub = alarm(alarm_id)[1]["Properties"]["AlarmName"]["Fn::Sub"]
            assert f"{ALARM_ARN}:{name_sub}" in text, alarm_id
    assert "Messenger" in text  # the Powertools EMF namespace
    assert "${EventsDeadLetterQueueName}" in text
    assert passed(monitoring.DASHBOARD_STACK, "EventsDeadLetterQueueName") == {
        "Fn::GetAtt": ["EventsDeadLetterQueue", "QueueName"]
    }
    assert "${EventsDeadLetterAlarm.Arn}" in text


def test_alarms_notify_the_optional_topic() -> None:
    found = 0
    for stack in (*ALARM_STACKS, monitoring.DASHBOARD_STACK):
        assert passed(stack, "AlarmTopicArn") == {"Ref": "AlarmTopicArn"}
        for name, resource in nested(stack)["Resources"].items():
            if resource["Type"] != "AWS::CloudWatch::Alarm":
                continue
            found += 1
            actions = resource["Properties"]["AlarmActions"]
            assert actions["Fn::If"][0] == "HasAlarmTopic", name
    assert found == 3 * len(DEPLOYED) + 1  # and the dead letters'
    assert not resources("AWS::CloudWatch::Alarm"), "alarms live in the nested stacks"


def test_powertools_metrics_namespace_matches_the_dashboard() -> None:
    variables = template()["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Messenger"


# ------------------------------------------------------------------------------------------------
# TLS: CA bundles in a layer, clients configured by environment
# ------------------------------------------------------------------------------------------------
def test_every_function_gets_the_certs_layer() -> None:
    for name, props in functions().items():
        assert {"Ref": "CertsLayer"} in props["Layers"], name
    assert resources()["CertsLayer"]["Properties"]["ContentUri"] == "layers/certs/"


@pytest.mark.parametrize(("bundle", "minimum"), [("global-bundle.pem", 20), ("aws-bundle.pem", 25)])
def test_ca_bundles_parse(bundle: str, minimum: int) -> None:
    path = ROOT / "layers" / "certs" / bundle
    context = ssl.create_default_context(cafile=str(path))
    assert context.cert_store_stats()["x509_ca"] >= minimum
    text = path.read_text(encoding="ascii")
    assert "Amazon RDS" in text or "BEGIN CERTIFICATE" in text


def test_tls_settings_point_into_the_certs_layer() -> None:
    variables = template()["Globals"]["Function"]["Environment"]["Variables"]
    makefile = (ROOT / "layers" / "certs" / "Makefile").read_text(encoding="utf-8")
    for key in ("DATABASE_SSLROOTCERT", "REDIS_SSL_CA_CERTS", "MONGODB_TLS_CA_FILE"):
        path = Path(variables[key])
        assert path.parent == Path("/opt/certs"), key
        assert path.name in makefile, key
        assert (ROOT / "layers" / "certs" / path.name).is_file(), key
    assert variables["DATABASE_SSLMODE"] == {"Ref": "DatabaseSslMode"}
    assert variables["DATABASE_HOST"] == {"Ref": "DatabaseHost"}
    assert variables["MONGODB_RETRY_WRITES"] == "false"  # DocumentDB has no retryable writes
    assert variables["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert variables["KAFKA_SASL_MECHANISM"] == "OAUTHBEARER"


# ------------------------------------------------------------------------------------------------
# Scaling knobs and environments
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Authorizer", "Login", "GetMyProfile"])
def test_hot_rpcs_have_a_provisioned_concurrency_knob(name: str) -> None:
    config = functions()[name]["ProvisionedConcurrencyConfig"]["Fn::If"]
    assert config[0] == f"Has{name}ProvisionedConcurrency"
    assert config[1] == {
        "ProvisionedConcurrentExecutions": {"Ref": f"{name}ProvisionedConcurrency"}
    }
    assert config[2] == {"Ref": "AWS::NoValue"}
    assert template()["Parameters"][f"{name}ProvisionedConcurrency"]["Default"] == 0


def test_functions_run_in_the_private_subnets() -> None:
    for name, props in functions().items():
        assert props["VpcConfig"] == {
            "SubnetIds": {"Ref": "SubnetIds"},
            "SecurityGroupIds": {"Ref": "SecurityGroupIds"},
        }, name


def test_api_throttling_is_a_parameter() -> None:
    (api,) = resources("AWS::Serverless::HttpApi").values()
    settings = api["Properties"]["DefaultRouteSettings"]
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_environments_deploy_with_their_strategy(env: str) -> None:
    overrides = samconfig()[env]["deploy"]["parameters"]["parameter_overrides"]
    wanted = {
        "dev": "AllAtOnce",
        "staging": "Linear10PercentEvery1Minute",
        "prod": "Canary10Percent5Minutes",
    }[env]
    assert f"DeploymentPreferenceType={wanted}" in overrides


def test_hook_smoke_checks_postgres_and_redis() -> None:
    source = (ROOT / "functions" / "platform" / "migrate" / "app.py").read_text(encoding="utf-8")
    assert "SELECT 1" in source
    assert ".ping()" in source
