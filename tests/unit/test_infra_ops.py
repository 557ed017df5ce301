"""infra/ops.py (what `make deploy` and `make rollback` run) against fake AWS clients, and the
production client settings the platform parameters turn into (Postgres URL, Redis TLS)."""

from __future__ import annotations

import importlib.util
import io
import shlex
from typing import Any

import pytest

from tests.unit.sam_template import ROOT, template

pytestmark = pytest.mark.unit


def _ops() -> Any:
    spec = importlib.util.spec_from_file_location("ops", ROOT / "infra" / "ops.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ops = _ops()


class FakeSsm:
    class exceptions:
        class ParameterNotFound(Exception):
            pass

    def __init__(self, values: dict[str, str]) -> None:
        self.values = dict(values)

    def get_paginator(self, name: str) -> Any:
        assert name == "get_parameters_by_path"
        ssm = self

        class Pages:
            def paginate(self, Path: str) -> list[dict[str, Any]]:
                found = [
                    {"Name": k, "Value": v} for k, v in ssm.values.items() if k.startswith(Path)
                ]
                return [{"Parameters": found[:2]}, {"Parameters": found[2:]}]

        return Pages()

    def get_parameter(self, Name: str) -> dict[str, Any]:
        if Name not in self.values:
            raise self.exceptions.ParameterNotFound(Name)
        return {"Parameter": {"Value": self.values[Name]}}

    def put_parameter(self, Name: str, Value: str, Type: str, Overwrite: bool) -> None:
        self.values[Name] = Value


PLATFORM = {
    "/messenger/staging/app/SubnetIds": "subnet-a,subnet-b,subnet-c",
    "/messenger/staging/app/SecurityGroupIds": "sg-1",
    "/messenger/staging/app/RedisUrl": "rediss://cache:6379",
    "/messenger/staging/app/NotAParameterYet": "x",
    "/messenger/dev/app/RedisUrl": "rediss://other:6379",
}


def test_template_parameters_are_read() -> None:
    assert ops.template_parameters() == set(template()["Parameters"])


def test_params_merge_platform_then_samconfig_then_strategy() -> None:
    platform = ops.platform_values(FakeSsm(PLATFORM), "staging")
    assert platform["RedisUrl"] == "rediss://cache:6379"
    merged = ops.deploy_parameters("staging", platform, strategy="AllAtOnce")
    assert merged["SubnetIds"] == "subnet-a,subnet-b,subnet-c"
    assert merged["Environment"] == "staging"
    assert merged["DeploymentPreferenceType"] == "AllAtOnce"
    assert "NotAParameterYet" not in merged  # skipped until template.yaml declares it
    without = ops.deploy_parameters("staging", platform)
    assert without["DeploymentPreferenceType"] == "Linear10PercentEvery1Minute"


def test_rendered_overrides_round_trip_through_shell_quoting() -> None:
    values = {"A": "x,y", "Schedule": "rate(1 minute)", "Q": 'say "hi"', "Empty": ""}
    rendered = ops.render_overrides(values)
    assert 'Schedule="rate(1 minute)"' in rendered
    assert dict(item.split("=", 1) for item in shlex.split(rendered)) == values


class FakeCfn:
    def __init__(self, status: str) -> None:
        self.status = status
        self.cancelled = False

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        assert StackName == "messenger-prod"
        return {"Stacks": [{"StackStatus": self.status}]}

    def describe_stack_resource(self, StackName: str, LogicalResourceId: str) -> dict[str, Any]:
        assert LogicalResourceId == "ServerlessDeploymentApplication"
        return {"StackResourceDetail": {"PhysicalResourceId": "messenger-prod-app"}}

    def cancel_update_stack(self, StackName: str) -> None:
        self.cancelled = True


class FakeCodeDeploy:
    def __init__(self, in_flight: dict[str, list[str]]) -> None:
        self.in_flight = in_flight
        self.stopped: list[tuple[str, bool]] = []

    def list_deployment_groups(self, applicationName: str) -> dict[str, Any]:
        return {"deploymentGroups": ["RegisterGroup", "LoginGroup", *self.in_flight]}

    def list_deployments(
        self, applicationName: str, deploymentGroupName: str, includeOnlyStatuses: list[str]
    ) -> dict[str, Any]:
        assert "InProgress" in includeOnlyStatuses
        return {"deployments": self.in_flight.get(deploymentGroupName, [])}

    def stop_deployment(self, deploymentId: str, autoRollbackEnabled: bool) -> None:
        self.stopped.append((deploymentId, autoRollbackEnabled))


def test_rollback_stops_in_flight_deployments_with_automatic_rollback() -> None:
    cfn, codedeploy = FakeCfn("UPDATE_IN_PROGRESS"), FakeCodeDeploy({"AuthorizerGroup": ["d-1"]})
    assert ops.rollback("prod", cfn, codedeploy, FakeSsm({}), out=io.StringIO()) == 0
    assert codedeploy.stopped == [("d-1", True)]
    assert not cfn.cancelled


def test_rollback_cancels_a_stack_update_before_traffic_shifts() -> None:
    cfn, codedeploy = FakeCfn("UPDATE_IN_PROGRESS"), FakeCodeDeploy({})
    assert ops.rollback("prod", cfn, codedeploy, FakeSsm({}), out=io.StringIO()) == 0
    assert cfn.cancelled


def test_rollback_with_nothing_in_flight_names_the_previous_release() -> None:
    ssm = FakeSsm({})
    ops.record_release(ssm, "prod", "aaa")
    ops.record_release(ssm, "prod", "bbb")
    ops.record_release(ssm, "prod", "bbb")  # a redeploy of the same commit changes nothing
    out = io.StringIO()
    assert ops.rollback("prod", FakeCfn("UPDATE_COMPLETE"), FakeCodeDeploy({}), ssm, out=out) == 1
    assert "git checkout aaa && make deploy ENV=prod STRATEGY=AllAtOnce" in out.getvalue()


# ------------------------------------------------------------------------------------------------
# Production client settings
# ------------------------------------------------------------------------------------------------
def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    from messenger.platform import secrets, settings

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings.get_settings.cache_clear()
    secrets.database_url.cache_clear()


def test_database_url_goes_to_the_proxy_with_verified_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    from aws_lambda_powertools.utilities import parameters

    from messenger.platform import secrets, settings

    secret = {
        "username": "messenger",
        "password": "p@ss/w:rd",
        "host": "cluster.rds",
        "port": 5432,
        "dbname": "messenger",
    }
    monkeypatch.setattr(parameters, "get_secret", lambda arn, transform, max_age: secret)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    _settings(
        monkeypatch,
        DATABASE_SECRET_ARN="arn:aws:secretsmanager:us-east-1:1:secret:x",
        DATABASE_HOST="proxy.proxy-abc.rds.amazonaws.com",
        DATABASE_SSLMODE="verify-full",
        DATABASE_SSLROOTCERT="/opt/certs/aws-bundle.pem",
    )
    try:
        url = secrets.database_url()
    finally:
        settings.get_settings.cache_clear()
        secrets.database_url.cache_clear()
    assert url == (
        "postgresql://messenger:p%40ss%2Fw%3Ard@proxy.proxy-abc.rds.amazonaws.com:5432/messenger"
        "?sslmode=verify-full&sslrootcert=/opt/certs/aws-bundle.pem"
    )


@pytest.mark.parametrize(
    ("url", "tls"), [("rediss://cache:6379", True), ("redis://127.0.0.1:6379/0", False)]
)
def test_redis_verifies_tls_only_for_rediss(
    monkeypatch: pytest.MonkeyPatch, url: str, tls: bool
) -> None:
    import redis as redis_driver

    from messenger.platform import redis as platform_redis
    from messenger.platform import settings

    seen: dict[str, Any] = {}

    def from_url(u: str, **kwargs: Any) -> object:
        seen.update(kwargs, url=u)
        return object()

    monkeypatch.setattr(redis_driver.Redis, "from_url", from_url)
    monkeypatch.setattr(platform_redis, "_client", None)
    _settings(monkeypatch, REDIS_URL=url, REDIS_SSL_CA_CERTS="/opt/certs/aws-bundle.pem")
    try:
        platform_redis.client()
    finally:
        settings.get_settings.cache_clear()
    assert seen["url"] == url
    assert ("ssl_ca_certs" in seen) is tls
    if tls:
        assert seen["ssl_cert_reqs"] == "required"
