"""What an operator relies on when deploying template.yaml (read as YAML, no AWS).

Every CodeDeploy-shifted function has its three alarms wired into its DeploymentPreference (so a
canary/linear/blue-green shift rolls back by itself), the alarms watch the `live` alias and the
version being deployed, the dashboard shows every function, the CA bundles ship in a layer, and
the hot RPCs have their scaling knobs.
"""

from __future__ import annotations

import importlib.util
import json
import ssl
from pathlib import Path
from typing import Any

import pytest

from tests.unit.sam_template import ROOT, functions, resources, samconfig, template

pytestmark = pytest.mark.unit

HOOK = "MigrateDatabase"


def _monitoring() -> Any:
    spec = importlib.util.spec_from_file_location("monitoring", ROOT / "infra" / "monitoring.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MONITORING = _monitoring()
DEPLOYED = sorted(set(functions()) - {HOOK})
KINDS = MONITORING.monitored_functions(template())


def test_every_function_but_the_hook_is_monitored() -> None:
    assert sorted(KINDS) == DEPLOYED


@pytest.mark.parametrize("name", DEPLOYED)
def test_function_rolls_back_on_its_alarms(name: str) -> None:
    kind = KINDS[name]
    wanted = [{"Ref": alarm} for alarm in MONITORING.alarm_ids(name, kind)]
    alarms = (functions()[name].get("DeploymentPreference") or {}).get("Alarms")
    assert alarms == wanted, (
        f"{name} has no rollback alarms: run `make monitoring` (generates them) and add to "
        f"{name}'s Properties in template.yaml:\n{MONITORING.wiring_snippet(name, kind)}"
    )
    for alarm in MONITORING.alarm_ids(name, kind):
        assert resources()[alarm]["Type"] == "AWS::CloudWatch::Alarm", (
            f"{alarm} is missing: run `make monitoring`"
        )


def test_generated_monitoring_block_is_current() -> None:
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert MONITORING.BEGIN in text
    assert MONITORING.END in text
    _head, current, _tail = MONITORING._split(text)
    assert current == MONITORING.render(MONITORING.load(text)), "stale: run `make monitoring`"


def _dimensions(alarm: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in alarm["Properties"]["Dimensions"]}


@pytest.mark.parametrize("name", DEPLOYED)
def test_alarms_watch_the_alias_and_the_new_version(name: str) -> None:
    first, throttles, duration = MONITORING.alarm_ids(name, KINDS[name])
    alias = {"Fn::Sub": f"${{{name}}}:live"}
    version = {"Fn::GetAtt": [name, "Version.Version"]}

    errors = resources()[first]["Properties"]
    if KINDS[name] == "authorizer":
        # Its 401s are Lambda errors by design (docs/decisions.md #3): watch the API's 5xx.
        assert errors["Namespace"] == "AWS/ApiGateway"
        assert errors["MetricName"] == "5xx"
    else:
        assert errors["MetricName"] == "Errors"
        assert _dimensions(resources()[first]) == {
            "FunctionName": {"Ref": name},
            "Resource": alias,
            "ExecutedVersion": version,
        }
    assert errors["Threshold"] == {"Ref": "AlarmErrorsThreshold"}

    assert resources()[throttles]["Properties"]["MetricName"] == "Throttles"
    assert _dimensions(resources()[throttles])["Resource"] == alias

    p99 = resources()[duration]["Properties"]
    assert p99["MetricName"] == "Duration"
    assert p99["ExtendedStatistic"] == "p99"
    assert _dimensions(resources()[duration])["ExecutedVersion"] == version
    expected = "BatchP99DurationMs" if KINDS[name] == "batch" else "ApiP99DurationMs"
    assert p99["Threshold"] == {"Ref": expected}


def test_alarm_thresholds_leave_room_under_the_timeouts() -> None:
    params = template()["Parameters"]
    api_timeouts = [functions()[n].get("Timeout", 10) for n in DEPLOYED if KINDS[n] != "batch"]
    assert params["ApiP99DurationMs"]["Default"] < min(api_timeouts) * 1000
    batch_timeouts = [functions()[n]["Timeout"] for n in DEPLOYED if KINDS[n] == "batch"]
    assert params["BatchP99DurationMs"]["Default"] < min(batch_timeouts) * 1000


def test_dashboard_shows_every_function_and_every_alarm() -> None:
    body = resources()["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    data = json.loads(body)
    text = json.dumps(data)
    for name in DEPLOYED:
        assert f"${{{name}}}:live" in text, name
        for alarm in MONITORING.alarm_ids(name, KINDS[name]):
            assert f"${{{alarm}.Arn}}" in text, alarm
    assert "Messenger" in text  # the Powertools EMF namespace
    assert "${EventsDeadLetterQueue.QueueName}" in text


def test_alarms_notify_the_optional_topic() -> None:
    for name, resource in resources("AWS::CloudWatch::Alarm").items():
        actions = resource["Properties"]["AlarmActions"]
        assert actions["Fn::If"][0] == "HasAlarmTopic", name


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
