"""Operator commands behind `make deploy` and `make rollback` (boto3; runs in the SAM venv).

    python infra/ops.py params ENV [--strategy TYPE]   parameter overrides for `sam deploy`
    python infra/ops.py rollback ENV                   stop what is in flight, roll it back
    python infra/ops.py record-release ENV COMMIT      after a good deploy: remember the commit
    python infra/ops.py status ENV                     stack status, deployments, releases

`params` merges, in increasing precedence: the platform stacks' SSM parameters
(/messenger/<env>/app/<TemplateParameter>, written by infra/*.yaml), the environment's
parameter_overrides in samconfig.toml, and --strategy (DeploymentPreferenceType). Only
parameters template.yaml declares are passed, so a platform value the application does not use
yet is skipped instead of failing the deploy.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"
IN_FLIGHT = ["Created", "Queued", "InProgress", "Baking", "Ready"]


# ------------------------------------------------------------------------------------------------
# Configuration
# ------------------------------------------------------------------------------------------------
def samconfig_env(env: str, path: Path = SAMCONFIG) -> dict[str, Any]:
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    if env not in config:
        raise SystemExit(f"samconfig.toml has no environment {env!r}")
    section: dict[str, Any] = config[env]
    return section


def stack_name(env: str) -> str:
    return str(samconfig_env(env)["global"]["parameters"]["stack_name"])


def region(env: str) -> str:
    return str(samconfig_env(env)["global"]["parameters"]["region"])


def template_parameters(path: Path = TEMPLATE) -> set[str]:
    """Names under the template's top-level Parameters (read as text: no CloudFormation tags)."""
    text = path.read_text(encoding="utf-8")
    block = re.search(r"^Parameters:\n(.*?)^\S", text, re.MULTILINE | re.DOTALL)
    if block is None:
        return set()
    return set(re.findall(r"^  ([A-Za-z0-9]+):", block.group(1), re.MULTILINE))


def parse_overrides(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(text))


def render_overrides(values: dict[str, str]) -> str:
    """`Key=value` pairs as `sam deploy --parameter-overrides` parses them (quotes if needed)."""
    out = []
    for key, value in values.items():
        if re.fullmatch(r"[^\s\"'\\]*", value):
            out.append(f"{key}={value}")
        else:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'{key}="{escaped}"')
    return " ".join(out)


def platform_values(ssm: Any, env: str) -> dict[str, str]:
    prefix = f"/messenger/{env}/app/"
    values: dict[str, str] = {}
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=prefix):
        for parameter in page["Parameters"]:
            values[parameter["Name"][len(prefix) :]] = parameter["Value"]
    return values


def deploy_parameters(
    env: str,
    platform: dict[str, str],
    strategy: str | None = None,
    known: set[str] | None = None,
) -> dict[str, str]:
    known = template_parameters() if known is None else known
    config = samconfig_env(env)["deploy"]["parameters"]
    merged = {k: v for k, v in platform.items() if k in known}
    merged.update(parse_overrides(config.get("parameter_overrides", "")))
    if strategy:
        merged["DeploymentPreferenceType"] = strategy
    return merged


# ------------------------------------------------------------------------------------------------
# Rollback
# ------------------------------------------------------------------------------------------------
def deployment_application(cfn: Any, stack: str) -> str:
    detail = cfn.describe_stack_resource(
        StackName=stack, LogicalResourceId="ServerlessDeploymentApplication"
    )["StackResourceDetail"]
    return str(detail["PhysicalResourceId"])


def in_flight_deployments(codedeploy: Any, application: str) -> list[str]:
    found: list[str] = []
    groups = codedeploy.list_deployment_groups(applicationName=application)["deploymentGroups"]
    for group in groups:
        answer = codedeploy.list_deployments(
            applicationName=application,
            deploymentGroupName=group,
            includeOnlyStatuses=IN_FLIGHT,
        )
        found.extend(answer["deployments"])
    return found


def rollback(env: str, cfn: Any, codedeploy: Any, ssm: Any, out: Any = sys.stdout) -> int:
    """Stop every in-flight traffic shift with automatic rollback, else cancel a stack update.

    CodeDeploy then points each alias back at the version it was shifting from, the stack update
    fails and CloudFormation rolls the stack back. Returns 0 when something was rolled back.
    """
    stack = stack_name(env)
    status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    deployments = in_flight_deployments(codedeploy, deployment_application(cfn, stack))
    for deployment in deployments:
        codedeploy.stop_deployment(deploymentId=deployment, autoRollbackEnabled=True)
        print(f"stopped {deployment} with automatic rollback", file=out)
    if deployments:
        print(f"{stack}: CloudFormation now rolls the stack back (was {status})", file=out)
        return 0
    if status == "UPDATE_IN_PROGRESS":
        cfn.cancel_update_stack(StackName=stack)
        print(f"{stack}: update cancelled; CloudFormation rolls it back", file=out)
        return 0
    previous = _release(ssm, env, "previous")
    print(f"{stack}: nothing in flight ({status}).", file=out)
    print("To shift every function back to the previous release (blue/green, at once):", file=out)
    target = previous or "<the last good commit>"
    print(f"  git checkout {target} && make deploy ENV={env} STRATEGY=AllAtOnce", file=out)
    return 1


# ------------------------------------------------------------------------------------------------
# Releases: which commit is live, which was before (for the shift back)
# ------------------------------------------------------------------------------------------------
def _release_name(env: str, which: str) -> str:
    return f"/messenger/{env}/release/{which}"


def _release(ssm: Any, env: str, which: str) -> str | None:
    try:
        value = ssm.get_parameter(Name=_release_name(env, which))["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
    return str(value)


def record_release(ssm: Any, env: str, commit: str) -> None:
    current = _release(ssm, env, "current")
    if current == commit:
        return
    if current:
        ssm.put_parameter(
            Name=_release_name(env, "previous"), Value=current, Type="String", Overwrite=True
        )
    ssm.put_parameter(
        Name=_release_name(env, "current"), Value=commit, Type="String", Overwrite=True
    )


def status(env: str, cfn: Any, codedeploy: Any, ssm: Any, out: Any = sys.stdout) -> int:
    stack = stack_name(env)
    state = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    print(f"{stack}: {state}", file=out)
    print(
        f"release: {_release(ssm, env, 'current')} (previous {_release(ssm, env, 'previous')})",
        file=out,
    )
    for deployment in in_flight_deployments(codedeploy, deployment_application(cfn, stack)):
        print(f"in flight: {deployment}", file=out)
    return 0


# ------------------------------------------------------------------------------------------------
def _client(service: str, env: str) -> Any:
    import boto3  # in the SAM venv; the unit tests pass fakes instead

    return boto3.client(service, region_name=region(env))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("params")
    p.add_argument("env")
    p.add_argument("--strategy", default="")
    for name in ("rollback", "status"):
        sub.add_parser(name).add_argument("env")
    r = sub.add_parser("record-release")
    r.add_argument("env")
    r.add_argument("commit")
    args = parser.parse_args(argv)

    ssm = _client("ssm", args.env)
    if args.command == "params":
        values = deploy_parameters(args.env, platform_values(ssm, args.env), args.strategy or None)
        print(render_overrides(values))
        return 0
    if args.command == "record-release":
        record_release(ssm, args.env, args.commit)
        return 0
    cfn, codedeploy = _client("cloudformation", args.env), _client("codedeploy", args.env)
    if args.command == "rollback":
        return rollback(args.env, cfn, codedeploy, ssm)
    return status(args.env, cfn, codedeploy, ssm)


if __name__ == "__main__":
    sys.exit(main())
