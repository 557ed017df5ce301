"""README "Add a function", followed in a copy of the tree: the steps are complete.

A tiny public RPC (`GET /v1/ping`, function Ping) is added exactly as the README says: a handler
file, one entry in infra/app/functions.yaml, a sample event in events/, then the generator of
`make template`, run in the copy. Its template.yaml then has the whole function block (route,
log group, alias, CodeDeploy with its rollback alarms, permissions), its alarms and dashboard
widgets, its sample indexed; the local runtime's template reader routes `GET /v1/ping` to it and
the local HTTP API serves it; and `sam validate --lint` accepts the copy's template.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from infra import cfn_yaml
from messenger_local.http_gateway import HttpApi
from messenger_local.runtime import LambdaRuntime
from messenger_local.template import load_template
from tests.unit.sam_template import ROOT

pytestmark = pytest.mark.unit

SAM = ROOT / ".tools" / "sam" / "bin" / "sam"

HANDLER = '''"""GET /v1/ping: the smallest RPC there is (the README's example)."""

from typing import Any


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "pong"}
'''

SPEC = """
Ping: {code: users/ping, http: GET /v1/ping, public: true}
"""


def _event() -> dict[str, object]:
    return {
        "version": "2.0",
        "routeKey": "GET /v1/ping",
        "rawPath": "/v1/ping",
        "rawQueryString": "",
        "headers": {"accept": "text/plain"},
        "requestContext": {
            "http": {"method": "GET", "path": "/v1/ping"},
            "routeKey": "GET /v1/ping",
        },
        "isBase64Encoded": False,
    }


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of what `make template` reads, with the README's steps applied to it."""
    copy = tmp_path_factory.mktemp("tree")
    ignore = shutil.ignore_patterns("__pycache__", "local")
    for folder in ("infra", "functions", "events"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=ignore)
    # Step 2: the handler file.
    (copy / "functions" / "users" / "ping").mkdir()
    (copy / "functions" / "users" / "ping" / "app.py").write_text(HANDLER, encoding="utf-8")
    # Step 3: one spec entry.
    with (copy / "infra" / "app" / "functions.yaml").open("a", encoding="utf-8") as specs:
        specs.write(SPEC)
    # Step 4: its sample event (`samples` defaults to events/<folder>.json).
    (copy / "events" / "ping.json").write_text(json.dumps(_event(), indent=2), encoding="utf-8")
    # Step 5: `make template` (its recipe, run in the copy: the copy's infra/ is imported).
    done = subprocess.run(
        [sys.executable, "-m", "infra.generate"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return copy


def test_the_generated_template_has_the_whole_function_block(tree: Path) -> None:
    doc = cfn_yaml.load(tree / "template.yaml")
    resources = doc["Resources"]
    props = resources["Ping"]["Properties"]
    assert resources["Ping"]["Type"] == "AWS::Serverless::Function"
    assert props["CodeUri"] == "functions/users/ping/"
    assert props["Handler"] == "app.lambda_handler"
    assert resources["Ping"]["Metadata"] == {"BuildMethod": "makefile", "ContextPath": "functions"}
    assert props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "users"
    # Its route, public as the spec says.
    assert props["Events"]["Api"] == {
        "Type": "HttpApi",
        "Properties": {
            "ApiId": {"Ref": "HttpApi"},
            "Method": "GET",
            "Path": "/v1/ping",
            "Auth": {"Authorizer": "NONE"},
        },
    }
    # Its log group, with the stack's retention.
    stack, output = props["LoggingConfig"]["LogGroup"]["Fn::GetAtt"]
    logs = cfn_yaml.load(tree / resources[stack]["Properties"]["TemplateURL"])
    group = logs["Resources"][output.removeprefix("Outputs.")]
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert group["Properties"]["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${AppStackName}/Ping"}
    # The alias and CodeDeploy come from Globals; its rollback alarms from the Alarms stack.
    assert doc["Globals"]["Function"]["AutoPublishAlias"] == "live"
    alarms = props["DeploymentPreference"]["Alarms"]
    # In its context's alarms stack (users/ping: AlarmsUsers).
    nested = cfn_yaml.load(tree / resources["AlarmsUsers"]["Properties"]["TemplateURL"])
    for alarm in alarms:
        stack, output = alarm["Fn::GetAtt"]
        assert stack == "AlarmsUsers"
        alarm_id = output.removeprefix("Outputs.")
        assert nested["Resources"][alarm_id]["Type"] == "AWS::CloudWatch::Alarm"
    assert len(alarms) == 3
    passed = resources["AlarmsUsers"]["Properties"]["Parameters"]
    assert passed["PingVersion"] == {"Fn::GetAtt": ["Ping", "Version.Version"]}
    dashboard = cfn_yaml.load(tree / "infra" / "app" / "dashboard.yaml")
    assert (
        "${Ping}:live"
        in dashboard["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    )
    # Its permissions: the database secret, nothing else (it reads and publishes nothing).
    assert props["Policies"] == [
        {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "DatabaseSecretArn"}}}
    ]
    index = json.loads((tree / "events" / "index.json").read_text(encoding="utf-8"))
    assert index["Ping"] == ["ping.json"]


def test_the_local_runtime_routes_and_serves_it(tree: Path) -> None:
    template = load_template(tree / "template.yaml")
    function = template.functions["Ping"]
    assert function.handler_file == tree / "functions" / "users" / "ping" / "app.py"
    (route,) = [r for r in template.routes if r.function == "Ping"]
    assert (route.route_key, route.authorizer) == ("GET /v1/ping", None)

    runtime = LambdaRuntime(template)
    api = HttpApi(template, runtime)
    try:
        matched = api.match("GET", "/v1/ping")
        assert matched is not None
        assert matched[0].function == "Ping"

        async def get() -> httpx.Response:
            transport = httpx.ASGITransport(app=api)
            async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
                return await client.get("/v1/ping")

        response = asyncio.run(get())
        assert (response.status_code, response.text) == (200, "pong")
    finally:
        runtime.close()


@pytest.mark.skipif(not SAM.exists(), reason="no aws-sam-cli (`make tools`)")
def test_sam_validates_the_copy(tree: Path) -> None:
    done = subprocess.run(
        [str(SAM), "validate", "--lint", "--template", "template.yaml", "--region", "us-east-1"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=300,
        env={"SAM_CLI_TELEMETRY": "0", "PATH": "/usr/bin:/bin", "HOME": str(tree)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
