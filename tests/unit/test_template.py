"""What an operator relies on in template.yaml and samconfig.toml (read as YAML/TOML, no AWS).

`make validate` runs `sam validate --lint` and cfn-lint for syntax and schema; these tests pin the
decisions: aliases and CodeDeploy on every function, arm64/python3.12, JSON logs with retention,
authorizer on every private route, dead letters for every consumer, no secret in the template,
least-privilege policies, buildable code folders and environments.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from infra import cfn_yaml, specs
from tests.unit.sam_template import (
    FUNCTION,
    LAYER,
    ROOT,
    events_of,
    functions,
    http_routes,
    parameter_default,
    resources,
    samconfig,
    template,
)

pytestmark = pytest.mark.unit

HOOK = "MigrateDatabase"
# Routes reachable without a session. OAuth callbacks will join them (prefix below).
# API.md, Conventions: the open routes.
PUBLIC_ROUTES = {
    ("POST", "/v1/auth/register"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/email/verify"),
    ("POST", "/v1/auth/password/reset"),
    ("POST", "/v1/auth/password/reset/confirm"),
}
PUBLIC_PREFIXES = ("/v1/auth/oauth/",)
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}


def _is_public(method: str, path: str) -> bool:
    return (method, path) in PUBLIC_ROUTES or path.startswith(PUBLIC_PREFIXES)


def _statements(props: dict[str, Any]) -> list[dict[str, Any]]:
    """Inline statements of a function's Policies (SAM policy templates are skipped)."""
    found: list[dict[str, Any]] = []
    for policy in props.get("Policies") or []:
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(policy["Statement"])
    return found


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _granted(props: dict[str, Any]) -> set[str]:
    return {a for s in _statements(props) if s["Effect"] == "Allow" for a in _actions(s)}


# ------------------------------------------------------------------------------------------------
# Runtime, aliases, deployments, logs
# ------------------------------------------------------------------------------------------------
def test_there_are_functions() -> None:
    assert len(functions()) >= 10


@pytest.mark.parametrize("name", sorted(functions()))
def test_function_runs_python312_on_arm64_behind_the_live_alias(name: str) -> None:
    props = functions()[name]
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    assert props["AutoPublishAlias"] == "live"
    assert props["Handler"] == "app.lambda_handler"


def test_alias_runtime_and_architecture_come_from_globals() -> None:
    globals_ = template()["Globals"]["Function"]
    assert globals_["AutoPublishAlias"] == "live"
    assert globals_["Runtime"] == "python3.12"
    assert globals_["Architectures"] == ["arm64"]


@pytest.mark.parametrize("name", sorted(functions()))
def test_function_logs_json_to_its_own_log_group_with_retention(name: str) -> None:
    logging = functions()[name]["LoggingConfig"]
    assert logging["LogFormat"] == "JSON"
    # Its group lives in the LogGroups nested stack (the application stack's 500 resources).
    stack, output = logging["LogGroup"]["Fn::GetAtt"]
    assert (stack, output) == ("LogGroups", f"Outputs.{name}LogGroup")
    nested = cfn_yaml.load(ROOT / resources()[stack]["Properties"]["TemplateURL"])
    group = nested["Resources"][f"{name}LogGroup"]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert nested["Outputs"][f"{name}LogGroup"]["Value"] == {"Ref": f"{name}LogGroup"}
    assert resources()[stack]["Properties"]["Parameters"]["LogRetentionDays"] == {
        "Ref": "LogRetentionDays"
    }


@pytest.mark.parametrize("name", sorted(set(functions()) - {HOOK}))
def test_function_is_deployed_by_codedeploy_after_the_migration_hook(name: str) -> None:
    preference = functions()[name]["DeploymentPreference"]
    assert preference.get("Enabled", True) is True
    assert preference["Type"] == {"Ref": "DeploymentPreferenceType"}
    assert preference["Hooks"]["PreTraffic"] == {"Ref": HOOK}


def test_deployment_type_is_a_parameter_defaulting_to_all_at_once() -> None:
    spec = template()["Parameters"]["DeploymentPreferenceType"]
    assert spec["Default"] == "AllAtOnce"
    assert {"AllAtOnce", "Linear10PercentEvery1Minute", "Canary10Percent5Minutes"} <= set(
        spec["AllowedValues"]
    )


def test_the_migration_hook_is_not_itself_shifted_and_codedeploy_may_invoke_it() -> None:
    hook = functions()[HOOK]
    assert hook["DeploymentPreference"]["Enabled"] is False
    # The default CodeDeploy role (AWSCodeDeployRoleForLambda) invokes CodeDeployHook_* only.
    name = hook["FunctionName"]["Fn::Sub"]
    assert name.startswith("CodeDeployHook_")
    assert "codedeploy:PutLifecycleEventHookExecutionStatus" in _granted(hook)


# ------------------------------------------------------------------------------------------------
# HTTP API and authorizer
# ------------------------------------------------------------------------------------------------
def _http_api() -> dict[str, Any]:
    (api,) = resources("AWS::Serverless::HttpApi").values()
    return api["Properties"]


def test_authorizer_is_an_uncached_v2_request_authorizer_on_the_authorization_header() -> None:
    auth = _http_api()["Auth"]
    default = auth["DefaultAuthorizer"]
    spec = auth["Authorizers"][default]
    assert spec["FunctionArn"] == {"Ref": "Authorizer.Alias"}
    assert spec["AuthorizerPayloadFormatVersion"] == "2.0"
    assert spec["EnableSimpleResponses"] is True
    assert spec["Identity"]["Headers"] == ["Authorization"]
    # Logout must take effect on the very next request: no API Gateway result cache.
    assert spec["Identity"]["ReauthorizeEvery"] == 0


def test_every_route_is_authorized_except_the_public_ones() -> None:
    routes = [r for found in http_routes().values() for r in found]
    assert routes
    for method, path, props in routes:
        override = (props.get("Auth") or {}).get("Authorizer")
        if _is_public(method, path):
            assert override == "NONE", f"{method} {path} should be public"
        else:
            assert override is None, f"{method} {path} must use the default authorizer"
        assert props["ApiId"] == {"Ref": "HttpApi"}


def test_cors_lets_browsers_call_the_api_from_the_configured_origins() -> None:
    """API.md "Browsers": origins a parameter per environment, the two request headers a
    client sends allowed, Retry-After readable by scripts, preflights cached a while."""
    cors = _http_api()["CorsConfiguration"]
    assert cors["AllowOrigins"] == {"Ref": "CorsAllowOrigins"}
    assert template()["Parameters"]["CorsAllowOrigins"]["Type"] == "CommaDelimitedList"
    # The default is the local development value: any port of 127.0.0.1 and localhost.
    assert parameter_default("CorsAllowOrigins").split(",") == [
        "http://127.0.0.1:*",
        "http://localhost:*",
    ]
    assert {h.lower() for h in cors["AllowHeaders"]} == {"authorization", "content-type"}
    assert set(cors["AllowMethods"]) >= {"GET", "POST", "PUT", "PATCH", "DELETE"}
    assert [h.lower() for h in cors["ExposeHeaders"]] == ["retry-after"]
    assert 60 <= cors["MaxAge"] <= 86400  # API Gateway's ceiling is a day
    assert not cors.get("AllowCredentials")  # bearer tokens, no cookies
    for env in ("staging", "prod"):
        overrides = samconfig()[env]["deploy"]["parameters"]["parameter_overrides"]
        origins = dict(i.split("=", 1) for i in shlex.split(overrides))["CorsAllowOrigins"]
        assert all(o.startswith("https://") and "*" not in o for o in origins.split(","))
    # Every deployed environment names exact origins: the local ":*" notation is ours alone.
    for env, config in samconfig().items():
        if not isinstance(config, dict) or "deploy" not in config:
            continue
        overrides = config["deploy"]["parameters"]["parameter_overrides"]
        origins = dict(i.split("=", 1) for i in shlex.split(overrides))["CorsAllowOrigins"]
        assert "*" not in origins, env


def test_routes_are_unique() -> None:
    keys = [(m, p) for found in http_routes().values() for m, p, _ in found]
    assert len(keys) == len(set(keys))


# ------------------------------------------------------------------------------------------------
# Kafka (MSK) consumers and producers
# ------------------------------------------------------------------------------------------------
def _msk_consumers() -> list[tuple[str, dict[str, Any]]]:
    return [(name, e) for name in functions() for e in events_of(name, "MSK")]


def test_there_is_a_consumer() -> None:
    assert _msk_consumers()


@pytest.mark.parametrize(("name", "event"), _msk_consumers())
def test_every_msk_event_retries_failed_records_then_dead_letters_them(
    name: str, event: dict[str, Any]
) -> None:
    on_failure = event["DestinationConfig"]["OnFailure"]
    assert on_failure["Destination"] == {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}
    assert on_failure["Type"] == "SQS"
    # The handlers return partial batch responses; Kafka ESMs honour them (and bounded retries)
    # in provisioned mode only.
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 0 <= event["MaximumRetryAttempts"] <= 10
    assert event["ProvisionedPollerConfig"]["MinimumPollers"] >= 1
    assert event["ConsumerGroupId"]
    assert event["StartingPosition"] == "TRIM_HORIZON"


@pytest.mark.parametrize(("name", "event"), _msk_consumers())
def test_consumer_may_read_its_topics_join_its_group_and_dead_letter(
    name: str, event: dict[str, Any]
) -> None:
    props = functions()[name]
    granted = _granted(props)
    assert {
        "kafka-cluster:Connect",
        "kafka-cluster:DescribeClusterDynamicConfiguration",
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:ReadData",
        "kafka-cluster:DescribeGroup",
        "kafka-cluster:AlterGroup",
        "sqs:SendMessage",
    } <= granted
    text = json.dumps(_statements(props))
    assert f":group/${{Cluster}}/{event['ConsumerGroupId']}" in text
    for topic in event["Topics"]:
        assert f":topic/${{Cluster}}/${{{topic['Ref']}}}" in text


@pytest.mark.parametrize("name", ["Register", "OutboxRelay"])
def test_producers_may_write_to_their_topics(name: str) -> None:
    granted = _granted(functions()[name])
    assert {
        "kafka-cluster:Connect",
        "kafka-cluster:WriteData",
        "kafka-cluster:WriteDataIdempotently",
        "kafka-cluster:DescribeTopic",
    } <= granted


# Functions that publish events (through the outbox) right after their commit: the specs'
# `publishes` (infra/app/functions.yaml), from which template.yaml is generated.
PRODUCERS = specs.producers()


def test_only_producers_and_consumers_touch_kafka() -> None:
    consumers = {name for name, _ in _msk_consumers()}
    for name, props in functions().items():
        kafka = {a for a in _granted(props) if a.startswith("kafka-cluster:")}
        if name not in consumers | PRODUCERS:
            assert not kafka, name
        assert "kafka-cluster:WriteData" not in kafka or name not in consumers


# ------------------------------------------------------------------------------------------------
# Least privilege and secrets
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(functions()))
def test_inline_policies_name_actions_and_resources(name: str) -> None:
    for statement in _statements(functions()[name]):
        assert statement["Effect"] == "Allow"
        for action in _actions(statement):
            assert "*" not in action, f"{name}: wildcard action {action}"
        resource = statement["Resource"]
        assert resource != "*", f"{name}: {statement.get('Sid')} on every resource"
        assert "*" not in json.dumps(resource).replace("/*", ""), name


@pytest.mark.parametrize("name", sorted(functions()))
def test_every_function_reads_only_the_database_secret(name: str) -> None:
    policies = functions()[name]["Policies"]
    secret = [p for p in policies if "AWSSecretsManagerGetSecretValuePolicy" in p]
    assert secret == [
        {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "DatabaseSecretArn"}}}
    ]


SENSITIVE = re.compile(r"password|passwd|secret|token|credential|apikey|api_key", re.IGNORECASE)
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s]+:[^/@\s]+@")


def test_no_secret_in_parameters() -> None:
    for name, spec in template()["Parameters"].items():
        default = spec.get("Default")
        if isinstance(default, str):
            assert not CREDENTIALS_IN_URL.search(default), name
        if SENSITIVE.search(name):
            if name.endswith("Arn"):
                assert default is None or str(default).startswith("arn:"), name
            else:
                # A real secret is never a template parameter with a default, and never echoed.
                assert default is None, name
                assert spec.get("NoEcho") is True, name


@pytest.mark.parametrize("name", sorted(functions()))
def test_no_secret_in_environment(name: str) -> None:
    variables = functions()[name]["Environment"]["Variables"]
    for key, value in variables.items():
        if isinstance(value, str):
            assert not CREDENTIALS_IN_URL.search(value), key
            if SENSITIVE.search(key) and not key.endswith("_ARN"):
                assert value == "", f"{key} holds a literal secret"
    # In AWS the database credentials come from Secrets Manager, never from DATABASE_URL.
    assert variables["DATABASE_URL"] == ""
    assert variables["DATABASE_SECRET_ARN"] == {"Ref": "DatabaseSecretArn"}


# ------------------------------------------------------------------------------------------------
# Schedules
# ------------------------------------------------------------------------------------------------
def test_outbox_relay_schedule_is_named_per_stack_and_runs_alone() -> None:
    (schedule,) = events_of("OutboxRelay", "ScheduleV2")
    assert schedule["ScheduleExpression"] == {"Ref": "OutboxRelaySchedule"}
    assert "${AWS::StackName}" in schedule["Name"]["Fn::Sub"]
    assert functions()["OutboxRelay"]["ReservedConcurrentExecutions"] == 1


# ------------------------------------------------------------------------------------------------
# Build: every code folder builds with the makefile method
# ------------------------------------------------------------------------------------------------
def _makefile_targets(folder: Path) -> str:
    makefile = folder / "Makefile"
    assert makefile.is_file(), f"{makefile} is missing"
    return makefile.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(resources(FUNCTION)))
def test_function_code_folder_has_app_py_and_a_makefile(name: str) -> None:
    resource = resources(FUNCTION)[name]
    assert resource["Metadata"]["BuildMethod"] == "makefile"
    folder = ROOT / resource["Properties"]["CodeUri"]
    assert (folder / "app.py").is_file()
    # One Makefile for every function (sam build's ContextPath), run in the function's folder.
    makefile = _makefile_targets(ROOT / resource["Metadata"].get("ContextPath", folder))
    assert re.search(rf"^build-(%|{name}):", makefile, re.MULTILINE), makefile


@pytest.mark.parametrize("name", sorted(resources(LAYER)))
def test_layer_builds_for_python312_arm64_with_its_makefile(name: str) -> None:
    resource = resources(LAYER)[name]
    assert resource["Metadata"]["BuildMethod"] == "makefile"
    assert resource["Metadata"]["BuildArchitecture"] == "arm64"
    assert resource["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert resource["Properties"]["CompatibleArchitectures"] == ["arm64"]
    makefile = _makefile_targets(ROOT / resource["Properties"]["ContentUri"])
    assert re.search(rf"^build-{name}:", makefile, re.MULTILINE)


def _gen_requirements() -> Any:
    path = ROOT / "layers" / "deps" / "gen_requirements.py"
    spec = importlib.util.spec_from_file_location("gen_requirements", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_deps_layer_requirements_are_generated_from_pyproject() -> None:
    gen = _gen_requirements()
    current = (ROOT / "layers" / "deps" / "requirements.txt").read_text(encoding="utf-8")
    assert current == gen.render(), "stale: run `make -C layers/deps requirements`"


def test_deps_layer_never_bundles_the_aws_sdk() -> None:
    gen = _gen_requirements()
    lines = [
        line
        for line in (ROOT / "layers" / "deps" / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    names = {gen._name(line) for line in lines}
    assert not names & RUNTIME_PROVIDED
    signer = [line for line in lines if gen._name(line) == "aws-msk-iam-sasl-signer-python"]
    assert signer
    assert signer[0].endswith(gen.NO_DEPS_MARKER)  # its deps are boto3/botocore


# ------------------------------------------------------------------------------------------------
# Environments (samconfig.toml)
# ------------------------------------------------------------------------------------------------
ENVIRONMENTS = {
    "default": ("messenger-dev", "dev", "AllAtOnce"),
    "dev": ("messenger-dev", "dev", "AllAtOnce"),
    "staging": ("messenger-staging", "staging", "Linear10PercentEvery1Minute"),
    "prod": ("messenger-prod", "prod", "Canary10Percent5Minutes"),
}


@pytest.mark.parametrize("env", sorted(ENVIRONMENTS))
def test_samconfig_environment(env: str) -> None:
    stack, environment, deployment = ENVIRONMENTS[env]
    config = samconfig()[env]
    assert config["global"]["parameters"]["stack_name"] == stack
    assert config["global"]["parameters"]["region"] == "us-east-1"
    deploy = config["deploy"]["parameters"]
    assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
    assert deploy["resolve_s3"] is True
    assert deploy["confirm_changeset"] is (env == "prod")
    overrides = dict(item.split("=", 1) for item in shlex.split(deploy["parameter_overrides"]))
    assert overrides["Environment"] == environment
    assert overrides["DeploymentPreferenceType"] == deployment
    parameters = template()["Parameters"]
    for key, value in overrides.items():
        assert key in parameters, f"{env}: unknown parameter {key}"
        allowed = parameters[key].get("AllowedValues")
        if allowed is not None:
            assert value in [str(a) for a in allowed], f"{env}: {key}={value}"


def test_template_defaults_are_dev() -> None:
    assert parameter_default("Environment") == "dev"
    assert parameter_default("DeploymentPreferenceType") == "AllAtOnce"
