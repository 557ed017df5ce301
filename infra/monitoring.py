"""The alarms and the dashboard of the application stack, as generated nested stacks.

Every CodeDeploy-shifted function gets three rollback alarms (errors and p99 duration of the version
being deployed, throttles of its `live` alias), listed in its DeploymentPreference, so a
canary/linear/all-at-once shift rolls back as soon as one fires. They live in one nested stack per
context, infra/app/alarms-<context>.yaml (`AlarmsAuth`, `AlarmsChats`, ...: one stack for all of
them passed CloudFormation's 200 outputs at 70 functions): each function's DeploymentPreference
names them through its context's stack's outputs, so CodeDeploy's deployment groups wait for the
alarms to watch the new version before any traffic moves. Those stacks take only the functions'
names and versions: the HTTP API depends on every route's alias, each alias on its deployment
group, so an alarm of the Alarms stack that watched the API would close a dependency cycle.

What watches the API or the queue as a whole (the authorizer's rollback alarm on the API's 5xx,
the dead-letter alarm) and the dashboard live in infra/app/dashboard.yaml (nested stack
`Dashboard`), which depends on the API and which nothing depends on; the authorizer's deployment
preference names its API alarm by its name (`<stack>-Authorizer-api-5xx`), not by a reference.

Both files are written by `make template` (infra/generate.py) from the function specs; nothing
here is edited by hand.
"""

from __future__ import annotations

import json
from typing import Any

from infra import specs as specs_module
from infra.specs import Spec

ALIAS = "live"
API_5XX = "Api5xx"  # the authorizer's "errors" alarm: its 401s are Lambda errors by design
ALARMS_STACK = "Alarms"  # the prefix of every context's alarms stack
DASHBOARD_STACK = "Dashboard"
ALARMS_DIR = "infra/app"
DASHBOARD_FILE = "infra/app/dashboard.yaml"
STACK_NAME = "AppStackName"  # the application stack's name, passed to both nested stacks
DEAD_LETTERS = "EventsDeadLetterQueueName"
LIMIT = 200  # CloudFormation's limit of parameters, and of outputs, per template


def kinds(specs: dict[str, Spec], base: dict[str, Any]) -> dict[str, str]:
    """Function -> "authorizer", "api" or "batch", for every CodeDeploy-shifted function."""
    authorizers = specs_module.authorizers(base)
    found: dict[str, str] = {}
    for name, spec in specs.items():
        if not spec.shifted:
            continue
        found[name] = "authorizer" if name in authorizers else "batch" if spec.batch else "api"
    return found


def contexts(specs: dict[str, Spec]) -> dict[str, str]:
    """Function -> its context (functions/<context>/...): which alarms stack holds its alarms."""
    return {name: spec.code.split("/", 1)[0] for name, spec in specs.items()}


def alarms_stack(context: str) -> str:
    """The logical id of a context's alarms stack: auth -> AlarmsAuth."""
    return ALARMS_STACK + context.title().replace("_", "")


def alarms_file(context: str) -> str:
    return f"{ALARMS_DIR}/alarms-{context}.yaml"


def thresholds(members: dict[str, str]) -> list[str]:
    """The threshold parameters a stack of these functions uses (cfn-lint refuses unused ones)."""
    used = ["AlarmErrorsThreshold"]
    if any(kind != "batch" for kind in members.values()):
        used.append("ApiP99DurationMs")
    if any(kind == "batch" for kind in members.values()):
        used.append("BatchP99DurationMs")
    return used


def by_context(functions: dict[str, str], where: dict[str, str]) -> dict[str, dict[str, str]]:
    """The shifted functions (name -> kind) of each context, contexts in order."""
    grouped: dict[str, dict[str, str]] = {}
    for name in sorted(functions):
        grouped.setdefault(where[name], {})[name] = functions[name]
    return dict(sorted(grouped.items()))


def alarm_ids(name: str, kind: str) -> list[str]:
    first = f"{name}{API_5XX}Alarm" if kind == "authorizer" else f"{name}ErrorsAlarm"
    return [first, f"{name}ThrottlesAlarm", f"{name}P99DurationAlarm"]


def alarm_name(alarm_id: str) -> str:
    """An alarm's AlarmName after the stack name: RegisterErrorsAlarm -> Register-errors."""
    for suffix, name in (
        (f"{API_5XX}Alarm", "api-5xx"),
        ("ErrorsAlarm", "errors"),
        ("ThrottlesAlarm", "throttles"),
        ("P99DurationAlarm", "p99-duration"),
    ):
        if alarm_id.endswith(suffix):
            return f"{alarm_id.removesuffix(suffix)}-{name}"
    raise ValueError(alarm_id)


def deployment_alarms(name: str, kind: str, context: str) -> list[Any]:
    """What a function's DeploymentPreference.Alarms lists (in the application template)."""
    refs: list[Any] = []
    for alarm in alarm_ids(name, kind):
        if alarm.endswith(f"{API_5XX}Alarm"):
            refs.append({"Fn::Sub": f"${{AWS::StackName}}-{alarm_name(alarm)}"})
        else:
            refs.append({"Fn::GetAtt": [alarms_stack(context), f"Outputs.{alarm}"]})
    return refs


# ------------------------------------------------------------------------------------------------
# The nested stacks' resources in the application template
# ------------------------------------------------------------------------------------------------
def _common_parameters() -> dict[str, Any]:
    return {STACK_NAME: {"Ref": "AWS::StackName"}, "AlarmTopicArn": {"Ref": "AlarmTopicArn"}}


def stack_resources(functions: dict[str, str], where: dict[str, str]) -> dict[str, Any]:
    """Each context's `Alarms<Context>` and the `Dashboard` AWS::CloudFormation::Stack
    resources of template.yaml."""
    dashboard_params: dict[str, Any] = {
        **_common_parameters(),
        "AlarmErrorsThreshold": {"Ref": "AlarmErrorsThreshold"},
        "HttpApi": {"Ref": "HttpApi"},
        DEAD_LETTERS: {"Fn::GetAtt": ["EventsDeadLetterQueue", "QueueName"]},
    }
    stacks: dict[str, Any] = {}
    for context, members in by_context(functions, where).items():
        alarm_params: dict[str, Any] = {
            **_common_parameters(),
            **{t: {"Ref": t} for t in thresholds(members)},
        }
        for name in members:
            alarm_params[name] = {"Ref": name}
            alarm_params[f"{name}Version"] = {"Fn::GetAtt": [name, "Version.Version"]}
        stacks[alarms_stack(context)] = {
            "Type": "AWS::CloudFormation::Stack",
            "Properties": {"TemplateURL": alarms_file(context), "Parameters": alarm_params},
        }
    for name in sorted(functions):
        dashboard_params[name] = {"Ref": name}
    return {
        **stacks,
        DASHBOARD_STACK: {
            "Type": "AWS::CloudFormation::Stack",
            # Its alarm widget lists the alarms stacks' alarms (by ARN).
            "DependsOn": sorted(stacks),
            "Properties": {"TemplateURL": DASHBOARD_FILE, "Parameters": dashboard_params},
        },
    }


# ------------------------------------------------------------------------------------------------
# Alarms
# ------------------------------------------------------------------------------------------------
_NOTIFY = {
    "AlarmActions": {
        "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
    },
    "OKActions": {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]},
    "TreatMissingData": "notBreaching",
}


_CONDITIONS = {"HasAlarmTopic": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}}


def _alarm(alarm_id: str, description: str, **props: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": {"Fn::Sub": f"${{{STACK_NAME}}}-{alarm_name(alarm_id)}"},
            "AlarmDescription": description,
            **props,
            **_NOTIFY,
        },
    }


def _alias_dims(name: str, version: bool) -> list[dict[str, Any]]:
    dims = [
        {"Name": "FunctionName", "Value": {"Ref": name}},
        {"Name": "Resource", "Value": {"Fn::Sub": f"${{{name}}}:{ALIAS}"}},
    ]
    if version:
        # The version being deployed: the old one's errors never roll the new one back.
        dims.append({"Name": "ExecutedVersion", "Value": {"Ref": f"{name}Version"}})
    return dims


def _api_5xx_alarm(name: str) -> dict[str, Any]:
    return _alarm(
        f"{name}{API_5XX}Alarm",
        f"HTTP API 5xx (an authorizer failure other than Unauthorized is a 500); rolls {name} back",
        Namespace="AWS/ApiGateway",
        MetricName="5xx",
        Dimensions=[{"Name": "ApiId", "Value": {"Ref": "HttpApi"}}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold={"Ref": "AlarmErrorsThreshold"},
        ComparisonOperator="GreaterThanThreshold",
    )


def _function_alarms(name: str, kind: str) -> dict[str, Any]:
    first, throttles, duration = alarm_ids(name, kind)
    threshold = "BatchP99DurationMs" if kind == "batch" else "ApiP99DurationMs"
    alarms: dict[str, Any] = {}
    if kind != "authorizer":
        alarms[first] = _alarm(
            first,
            f"Errors of the {name} version being deployed; rolls its deployment back",
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Dimensions=_alias_dims(name, version=True),
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold={"Ref": "AlarmErrorsThreshold"},
            ComparisonOperator="GreaterThanThreshold",
        )
    alarms[throttles] = _alarm(
        throttles,
        f"Throttled invocations of {name}:{ALIAS}; rolls its deployment back",
        Namespace="AWS/Lambda",
        MetricName="Throttles",
        Dimensions=_alias_dims(name, version=False),
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
    )
    alarms[duration] = _alarm(
        duration,
        f"p99 duration of the {name} version being deployed; rolls it back",
        Namespace="AWS/Lambda",
        MetricName="Duration",
        Dimensions=_alias_dims(name, version=True),
        ExtendedStatistic="p99",
        Period=60,
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        Threshold={"Ref": threshold},
        ComparisonOperator="GreaterThanThreshold",
    )
    return alarms


def _parameter(description: str, kind: str = "String", **extra: Any) -> dict[str, Any]:
    return {"Type": kind, "Description": description, **extra}


def _header(description: str) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
    }


def _shared_parameters() -> dict[str, Any]:
    return {
        STACK_NAME: _parameter("The application stack: every name here starts with it"),
        "AlarmTopicArn": _parameter("SNS topic an alarm notifies (empty = none)", Default=""),
    }


def alarms_template(functions: dict[str, str], context: str) -> dict[str, Any]:
    """infra/app/alarms-<context>.yaml: the rollback alarms that watch the new versions of one
    context's functions."""
    described = {
        "AlarmErrorsThreshold": "Errors per minute that roll a version back",
        "ApiP99DurationMs": "p99 (ms) that rolls an API version back",
        "BatchP99DurationMs": "p99 (ms) that rolls a consumer back",
    }
    parameters = {
        **_shared_parameters(),
        **{t: _parameter(described[t], "Number") for t in thresholds(functions)},
    }
    resources: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    for name in sorted(functions):
        parameters[name] = _parameter(f"The {name} function's name")
        parameters[f"{name}Version"] = _parameter(f"The {name} version being deployed")
        for alarm_id, alarm in _function_alarms(name, functions[name]).items():
            resources[alarm_id] = alarm
            outputs[alarm_id] = {
                "Description": f"{alarm_id}'s name (in {name}'s DeploymentPreference)",
                "Value": {"Ref": alarm_id},
            }
    if len(parameters) > LIMIT or len(outputs) > LIMIT:
        raise ValueError(
            f"{alarms_file(context)}: {len(parameters)} parameters, {len(outputs)} outputs: over "
            f"CloudFormation's {LIMIT}; split the context's alarms stack"
        )
    return {
        **_header(
            f"Rollback alarms of the {context} functions' versions being deployed (generated "
            "by `make template` from infra/app/functions.yaml; do not edit)"
        ),
        "Parameters": parameters,
        "Conditions": _CONDITIONS,
        "Resources": resources,
        "Outputs": outputs,
    }


# ------------------------------------------------------------------------------------------------
# Dashboard
# ------------------------------------------------------------------------------------------------
def _alarm_arn(alarm_id: str) -> str:
    return (
        "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"
        f"${{{STACK_NAME}}}-{alarm_name(alarm_id)}"
    )


def _lambda_metric(name: str, metric: str, stat: str) -> list[Any]:
    return [
        "AWS/Lambda",
        metric,
        "FunctionName",
        f"${{{name}}}",
        "Resource",
        f"${{{name}}}:{ALIAS}",
        {"stat": stat, "label": name},
    ]


def _widget(title: str, metrics: list[Any], x: int, y: int, w: int = 12, **extra: Any) -> Any:
    props: dict[str, Any] = {
        "title": title,
        "region": "${AWS::Region}",
        "view": "timeSeries",
        "period": 60,
        "metrics": metrics,
    }
    props.update(extra)
    return {"type": "metric", "x": x, "y": y, "width": w, "height": 6, "properties": props}


def dashboard_body(functions: dict[str, str]) -> dict[str, Any]:
    names = sorted(functions)
    batch = [n for n in names if functions[n] == "batch"]
    api = "${HttpApi}"
    widgets: list[Any] = [
        {
            "type": "text",
            "x": 0,
            "y": 0,
            "width": 24,
            "height": 2,
            "properties": {
                "markdown": f"## ${{{STACK_NAME}}}\nAPI, every function's `live` alias, "
                "consumers and the application's own metrics (Powertools EMF, namespace "
                "`Messenger`). Runbook: docs/operations.md in the repository."
            },
        },
        _widget(
            "API requests and errors",
            [
                ["AWS/ApiGateway", "Count", "ApiId", api, {"stat": "Sum"}],
                ["AWS/ApiGateway", "4xx", "ApiId", api, {"stat": "Sum"}],
                ["AWS/ApiGateway", "5xx", "ApiId", api, {"stat": "Sum"}],
            ],
            0,
            2,
        ),
        _widget(
            "API latency",
            [
                ["AWS/ApiGateway", "Latency", "ApiId", api, {"stat": "p50"}],
                ["AWS/ApiGateway", "Latency", "ApiId", api, {"stat": "p99"}],
                ["AWS/ApiGateway", "IntegrationLatency", "ApiId", api, {"stat": "p99"}],
            ],
            12,
            2,
        ),
        _widget(
            "Errors by function (live)", [_lambda_metric(n, "Errors", "Sum") for n in names], 0, 8
        ),
        _widget(
            "Throttles by function (live)",
            [_lambda_metric(n, "Throttles", "Sum") for n in names],
            12,
            8,
        ),
        _widget(
            "p99 duration by function (live, ms)",
            [_lambda_metric(n, "Duration", "p99") for n in names],
            0,
            14,
        ),
        _widget(
            "Invocations by function (live)",
            [_lambda_metric(n, "Invocations", "Sum") for n in names],
            12,
            14,
        ),
        _widget(
            "Concurrency",
            [
                [
                    "AWS/Lambda",
                    "ConcurrentExecutions",
                    "FunctionName",
                    f"${{{n}}}",
                    {"stat": "Maximum", "label": n},
                ]
                for n in names
            ]
            + [
                [
                    "AWS/Lambda",
                    "ProvisionedConcurrencySpilloverInvocations",
                    "FunctionName",
                    f"${{{n}}}",
                    {"stat": "Sum", "label": f"{n} spillover"},
                ]
                for n in names
                if functions[n] != "batch"
            ],
            0,
            20,
        ),
        _widget(
            "Kafka consumers: offset lag and dead letters",
            [
                [
                    "AWS/Lambda",
                    "OffsetLag",
                    "FunctionName",
                    f"${{{n}}}",
                    {"stat": "Maximum", "label": n},
                ]
                for n in batch
            ]
            + [
                [
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    "QueueName",
                    f"${{{DEAD_LETTERS}}}",
                    {"stat": "Maximum", "label": "dead letters", "yAxis": "right"},
                ]
            ],
            12,
            20,
        ),
        _widget(
            "Application metrics (Powertools EMF, namespace Messenger)",
            [
                [
                    {
                        "expression": "SEARCH('Namespace=\"Messenger\"', 'Sum', 60)",
                        "id": "app",
                        "label": "",
                    }
                ]
            ],
            0,
            26,
            24,
        ),
        {
            "type": "alarm",
            "x": 0,
            "y": 32,
            "width": 24,
            "height": 6,
            "properties": {
                "title": "Deployment alarms (any in ALARM rolls its function's deployment back)",
                "alarms": [_alarm_arn(a) for n in names for a in alarm_ids(n, functions[n])]
                + ["${EventsDeadLetterAlarm.Arn}"],
            },
        },
    ]
    return {"widgets": widgets}


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def format_body(body: dict[str, Any]) -> str:
    """One widget per line, its metrics (or alarms) one per line: diffs stay readable."""
    lines = []
    for widget in body["widgets"]:
        props = dict(widget["properties"])
        key = "metrics" if "metrics" in props else "alarms" if "alarms" in props else None
        if key is None:
            lines.append(_compact(widget))
            continue
        items = props.pop(key)
        head = _compact({**widget, "properties": {**props, key: "@@"}})
        inner = ",\n".join(" " + _compact(item) for item in items)
        lines.append(head.replace('"@@"', "[\n" + inner + "]"))
    return '{"widgets": [\n' + ",\n".join(lines) + "\n]}\n"


def dashboard_template(functions: dict[str, str]) -> dict[str, Any]:
    """infra/app/dashboard.yaml: the dashboard, and the alarms that watch the API or the queue."""
    parameters = {
        **_shared_parameters(),
        "AlarmErrorsThreshold": _parameter(
            "5xx per minute that roll the authorizer back", "Number"
        ),
        "HttpApi": _parameter("The HTTP API's id"),
        DEAD_LETTERS: _parameter("The consumers' dead-letter queue (its name)"),
    }
    for name in sorted(functions):
        parameters[name] = _parameter(f"The {name} function's name")
    resources: dict[str, Any] = {}
    for name in sorted(functions):
        if functions[name] == "authorizer":
            resources[f"{name}{API_5XX}Alarm"] = _api_5xx_alarm(name)
    resources["EventsDeadLetterAlarm"] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": {"Fn::Sub": f"${{{STACK_NAME}}}-dead-letters"},
            "AlarmDescription": (
                "Consumer records gave up after their retries (see docs/operations.md)"
            ),
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Ref": DEAD_LETTERS}}],
            "Statistic": "Maximum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            **_NOTIFY,
        },
    }
    resources["Dashboard"] = {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": {"Ref": STACK_NAME},
            "DashboardBody": {"Fn::Sub": format_body(dashboard_body(functions))},
        },
    }
    if len(parameters) > LIMIT:
        raise ValueError(f"{DASHBOARD_FILE}: {len(parameters)} parameters, over {LIMIT}")
    return {
        **_header(
            "The application's dashboard, and the alarms that watch its API and dead letters as "
            "a whole (generated by `make template` from infra/app/functions.yaml; do not edit)"
        ),
        "Parameters": parameters,
        "Conditions": _CONDITIONS,
        "Resources": resources,
        "Outputs": {
            "DashboardName": {"Description": "The dashboard's name", "Value": {"Ref": "Dashboard"}},
        },
    }
