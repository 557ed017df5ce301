"""The platform stacks in infra/ (read as YAML, no AWS): what the application relies on.

cfn-lint checks syntax and schema (`make validate`); these pin the decisions: private network
with the endpoints the functions and MSK pollers call, IAM-only MSK with the topics, Aurora behind
RDS Proxy with TLS required, DocumentDB with TLS (or Atlas), TLS-only ElastiCache, generated and
rotated secrets, and SSM parameters that are exactly the application template's parameters.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from messenger_local.template import load_yaml
from tests.unit.sam_template import ROOT, template

pytestmark = pytest.mark.unit

INFRA = ROOT / "infra"
STACKS = ["network", "msk", "postgres", "documentdb", "cache"]


@cache
def stack(name: str) -> dict[str, Any]:
    return load_yaml(INFRA / f"{name}.yaml")


def of_type(name: str, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in stack(name)["Resources"].items() if v["Type"] == kind}


def test_every_stack_is_in_the_makefile_in_dependency_order() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = re.search(r"^PLATFORM_STACKS \?= (.+)$", makefile, re.MULTILINE)
    assert line is not None
    assert line.group(1).split() == STACKS
    assert sorted(p.stem for p in INFRA.glob("*.yaml")) == sorted(STACKS)


@pytest.mark.parametrize("name", STACKS)
def test_stack_is_per_environment(name: str) -> None:
    assert stack(name)["Parameters"]["Environment"]["AllowedValues"] == ["dev", "staging", "prod"]


def _app_parameters() -> dict[str, str]:
    """SSM parameter name suffix -> stack, for every /messenger/<env>/app/* parameter."""
    found: dict[str, str] = {}
    for name in STACKS:
        for resource in of_type(name, "AWS::SSM::Parameter").values():
            path = resource["Properties"]["Name"]["Fn::Sub"]
            assert path.startswith("/messenger/${Environment}/app/"), path
            found[path.rsplit("/", 1)[1]] = name
    return found


def test_platform_outputs_are_exactly_the_application_parameters() -> None:
    app = _app_parameters()
    for key in app:
        assert key in template()["Parameters"], f"{key} is not a template.yaml parameter"
    assert set(app) >= {
        "SubnetIds",
        "SecurityGroupIds",
        "MskClusterArn",
        "KafkaBootstrapServers",
        "DatabaseSecretArn",
        "DatabaseHost",
        "RedisUrl",
        "MongoSecretArn",
    }


def test_no_secret_value_goes_to_ssm() -> None:
    for name in STACKS:
        for resource in of_type(name, "AWS::SSM::Parameter").values():
            props = resource["Properties"]
            assert props["Type"] == "String"
            assert "password" not in json.dumps(props["Value"]).lower()


@pytest.mark.parametrize("name", STACKS)
def test_no_secret_in_plain_text(name: str) -> None:
    text = (INFRA / f"{name}.yaml").read_text(encoding="utf-8")
    for key, value in re.findall(r"(\w*(?:Password|AuthToken)\w*):\s*(.+)", text):
        if key in ("PasswordLength", "ManageMasterUserPassword"):
            continue
        assert value.startswith('!Sub "{{resolve:secretsmanager:'), f"{key}: {value}"
    for param, spec in stack(name)["Parameters"].items():
        if re.search(r"password|token", param, re.IGNORECASE):
            assert spec.get("NoEcho") is True, param


# ------------------------------------------------------------------------------------------------
# Network
# ------------------------------------------------------------------------------------------------
def test_network_is_private_and_has_the_endpoints_the_functions_call() -> None:
    kinds = {r["Type"] for r in stack("network")["Resources"].values()}
    assert "AWS::EC2::InternetGateway" not in kinds
    assert "AWS::EC2::NatGateway" not in kinds
    for subnet in of_type("network", "AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    services = {
        r["Properties"]["ServiceName"]["Fn::Sub"].rsplit(".", 1)[1]
        for r in of_type("network", "AWS::EC2::VPCEndpoint").values()
    }
    # secrets: every function; codedeploy: the PreTraffic hook; lambda/sts/sqs: MSK pollers and
    # their on-failure destination; s3/dynamodb: gateways (free).
    assert services >= {"secretsmanager", "codedeploy", "lambda", "sts", "sqs", "s3", "dynamodb"}
    for endpoint in of_type("network", "AWS::EC2::VPCEndpoint").values():
        if endpoint["Properties"]["VpcEndpointType"] == "Interface":
            assert endpoint["Properties"]["PrivateDnsEnabled"] is True


def test_data_services_admit_only_the_functions() -> None:
    groups = of_type("network", "AWS::EC2::SecurityGroup")
    for name in ("PostgresSecurityGroup", "CacheSecurityGroup", "DocumentDbSecurityGroup"):
        for rule in groups[name]["Properties"]["SecurityGroupIngress"]:
            assert rule["SourceSecurityGroupId"] == {"Ref": "FunctionsSecurityGroup"}, name
            assert "CidrIp" not in rule


# ------------------------------------------------------------------------------------------------
# Services
# ------------------------------------------------------------------------------------------------
def test_msk_is_serverless_with_iam_auth_and_the_topics() -> None:
    (cluster,) = of_type("msk", "AWS::MSK::ServerlessCluster").values()
    assert cluster["Properties"]["ClientAuthentication"] == {"Sasl": {"Iam": {"Enabled": True}}}
    topics = {
        t["Properties"]["TopicName"]["Ref"] for t in of_type("msk", "AWS::MSK::Topic").values()
    }
    app_topics = {"UserEventsTopic", "FriendshipEventsTopic", "ChatEventsTopic"}
    assert topics == app_topics
    for topic in app_topics:
        assert (
            stack("msk")["Parameters"][topic]["Default"]
            == template()["Parameters"][topic]["Default"]
        )


def test_postgres_is_aurora_serverless_v2_behind_a_tls_proxy() -> None:
    (cluster,) = of_type("postgres", "AWS::RDS::DBCluster").values()
    props = cluster["Properties"]
    assert props["Engine"] == "aurora-postgresql"
    assert "ServerlessV2ScalingConfiguration" in props
    assert props["StorageEncrypted"] is True
    assert cluster["DeletionPolicy"] == "Snapshot"
    for instance in of_type("postgres", "AWS::RDS::DBInstance").values():
        assert instance["Properties"]["DBInstanceClass"] == "db.serverless"
        assert instance["Properties"]["PubliclyAccessible"] is False
    (params,) = of_type("postgres", "AWS::RDS::DBClusterParameterGroup").values()
    assert params["Properties"]["Parameters"]["rds.force_ssl"] == "1"
    (proxy,) = of_type("postgres", "AWS::RDS::DBProxy").values()
    assert proxy["Properties"]["RequireTLS"] is True
    assert proxy["Properties"]["Auth"][0]["AuthScheme"] == "SECRETS"
    host = stack("postgres")["Resources"]["AppDatabaseHost"]["Properties"]["Value"]
    assert host == {"Fn::GetAtt": ["Proxy", "Endpoint"]}


@pytest.mark.parametrize(
    ("name", "rotation"),
    [("postgres", "PostgreSQLSingleUser"), ("documentdb", "MongoDBSingleUser")],
)
def test_database_secrets_are_generated_and_rotated(name: str, rotation: str) -> None:
    (secret,) = of_type(name, "AWS::SecretsManager::Secret").values()
    assert secret["Properties"]["GenerateSecretString"]["GenerateStringKey"] == "password"
    (schedule,) = of_type(name, "AWS::SecretsManager::RotationSchedule").values()
    assert schedule["Properties"]["HostedRotationLambda"]["RotationType"] == rotation
    assert stack(name)["Transform"] == "AWS::SecretsManager-2020-07-23"


def test_documentdb_requires_tls_or_uses_atlas() -> None:
    (params,) = of_type("documentdb", "AWS::DocDB::DBClusterParameterGroup").values()
    assert params["Properties"]["Parameters"]["tls"] == "enabled"
    (cluster,) = of_type("documentdb", "AWS::DocDB::DBCluster").values()
    assert cluster["Condition"] == "UseDocumentDb"
    assert cluster["Properties"]["StorageEncrypted"] is True
    value = stack("documentdb")["Resources"]["AppMongoSecretArn"]["Properties"]["Value"]
    assert value == {"Fn::If": ["UseAtlas", {"Ref": "AtlasSecretArn"}, {"Ref": "Secret"}]}


def test_cache_is_serverless_and_reached_over_tls() -> None:
    (cache_,) = of_type("cache", "AWS::ElastiCache::ServerlessCache").values()
    assert cache_["Properties"]["Engine"] in ("valkey", "redis")
    assert "CacheUsageLimits" in cache_["Properties"]
    url = stack("cache")["Resources"]["AppRedisUrl"]["Properties"]["Value"]["Fn::Sub"]
    assert url.startswith("rediss://")
