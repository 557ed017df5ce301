"""Generate the alarms and the dashboard of template.yaml from its functions.

CloudFormation has no loops, so the per-function alarms (errors, throttles, p99 duration of the
`live` alias, the errors and duration of the version being deployed) are generated into a marked
block of template.yaml; each function lists its three alarms in its DeploymentPreference, so
CodeDeploy rolls a canary/linear/all-at-once shift back as soon as one fires.

    python infra/monitoring.py          # rewrite the generated block in template.yaml
    python infra/monitoring.py --check  # exit 1 when the block is stale (run by the unit tests)

Adding a function: declare it, run this script, and add to the function (the script prints it):

      DeploymentPreference:
        Alarms: [!Ref <Fn>ErrorsAlarm, !Ref <Fn>ThrottlesAlarm, !Ref <Fn>P99DurationAlarm]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from messenger_local.template import parse_yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
BEGIN = "  # BEGIN GENERATED MONITORING (python infra/monitoring.py; do not edit by hand)\n"
END = "  # END GENERATED MONITORING\n"
ALIAS = "live"
API_5XX = "Api5xx"  # the authorizer's "errors" alarm: its 401s are Lambda errors by design


def load(text: str) -> dict[str, Any]:
    return parse_yaml(text)


def _deployed(props: dict[str, Any]) -> bool:
    return (props.get("DeploymentPreference") or {}).get("Enabled", True) is not False


def monitored_functions(doc: dict[str, Any]) -> dict[str, str]:
    """Function -> kind ("authorizer", "api" or "batch"), for every CodeDeploy-shifted function."""
    resources = doc["Resources"]
    authorizers: set[str] = set()
    for resource in resources.values():
        if resource.get("Type") == "AWS::Serverless::HttpApi":
            auth = (resource.get("Properties") or {}).get("Auth") or {}
            for spec in (auth.get("Authorizers") or {}).values():
                ref = (spec.get("FunctionArn") or {}).get("Ref", "")
                authorizers.add(str(ref).split(".", 1)[0])
    found: dict[str, str] = {}
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties") or {}
        if not _deployed(props):
            continue
        events = [e.get("Type") for e in (props.get("Events") or {}).values()]
        if name in authorizers:
            found[name] = "authorizer"
        elif any(t in ("MSK", "Schedule", "ScheduleV2", "SQS", "Kinesis") for t in events):
            found[name] = "batch"
        else:
            found[name] = "api"
    return found


def alarm_ids(name: str, kind: str) -> list[str]:
    first = f"{name}{API_5XX}Alarm" if kind == "authorizer" else f"{name}ErrorsAlarm"
    return [first, f"{name}ThrottlesAlarm", f"{name}P99DurationAlarm"]


def wiring_snippet(name: str, kind: str) -> str:
    refs = ", ".join(f"!Ref {a}" for a in alarm_ids(name, kind))
    return f"      DeploymentPreference:\n        Alarms: [{refs}]\n"


# ------------------------------------------------------------------------------------------------
# YAML text (hand-written so the block reads like the rest of the template)
# ------------------------------------------------------------------------------------------------
_COMMON = """      AlarmActions: !If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue]
      OKActions: !If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue]
      TreatMissingData: notBreaching
"""


def _alias_dims(name: str, version: bool) -> str:
    dims = (
        f"        - {{Name: FunctionName, Value: !Ref {name}}}\n"
        f'        - {{Name: Resource, Value: !Sub "${{{name}}}:{ALIAS}"}}\n'
    )
    if version:
        # The version being deployed: the old one's errors never roll the new one back.
        dims += f"        - {{Name: ExecutedVersion, Value: !GetAtt {name}.Version.Version}}\n"
    return dims


def _alarms(name: str, kind: str) -> str:
    first, throttles, duration = alarm_ids(name, kind)
    threshold = "ApiP99DurationMs" if kind != "batch" else "BatchP99DurationMs"
    if kind == "authorizer":
        errors = f"""  {first}:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub ${{AWS::StackName}}-{name}-api-5xx
      AlarmDescription: >
        HTTP API 5xx (an authorizer failure other than Unauthorized is a 500); rolls {name} back
      Namespace: AWS/ApiGateway
      MetricName: 5xx
      Dimensions:
        - {{Name: ApiId, Value: !Ref HttpApi}}
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: !Ref AlarmErrorsThreshold
      ComparisonOperator: GreaterThanThreshold
{_COMMON}"""
    else:
        errors = f"""  {first}:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub ${{AWS::StackName}}-{name}-errors
      AlarmDescription: Errors of the {name} version being deployed; rolls its deployment back
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions:
{_alias_dims(name, version=True)}      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: !Ref AlarmErrorsThreshold
      ComparisonOperator: GreaterThanThreshold
{_COMMON}"""
    return (
        errors
        + f"""
  {throttles}:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub ${{AWS::StackName}}-{name}-throttles
      AlarmDescription: Throttled invocations of {name}:{ALIAS}; rolls its deployment back
      Namespace: AWS/Lambda
      MetricName: Throttles
      Dimensions:
{_alias_dims(name, version=False)}      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
{_COMMON}
  {duration}:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub ${{AWS::StackName}}-{name}-p99-duration
      AlarmDescription: p99 duration of the {name} version being deployed; rolls it back
      Namespace: AWS/Lambda
      MetricName: Duration
      Dimensions:
{_alias_dims(name, version=True)}      ExtendedStatistic: p99
      Period: 60
      EvaluationPeriods: 3
      DatapointsToAlarm: 2
      Threshold: !Ref {threshold}
      ComparisonOperator: GreaterThanThreshold
{_COMMON}
"""
    )


def _dead_letter_alarm() -> str:
    return f"""  EventsDeadLetterAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub ${{AWS::StackName}}-dead-letters
      AlarmDescription: Consumer records gave up after their retries (see docs/operations.md)
      Namespace: AWS/SQS
      MetricName: ApproximateNumberOfMessagesVisible
      Dimensions:
        - {{Name: QueueName, Value: !GetAtt EventsDeadLetterQueue.QueueName}}
      Statistic: Maximum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
{_COMMON}
"""


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
                "markdown": "## ${AWS::StackName}\nAPI, every function's `live` alias, "
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
                    "${EventsDeadLetterQueue.QueueName}",
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
                "alarms": [f"${{{a}.Arn}}" for n in names for a in alarm_ids(n, functions[n])]
                + ["${EventsDeadLetterAlarm.Arn}"],
            },
        },
    ]
    return {"widgets": widgets}


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _format_body(body: dict[str, Any]) -> str:
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
    return '{"widgets": [\n' + ",\n".join(lines) + "\n]}"


def _dashboard(functions: dict[str, str]) -> str:
    body = _format_body(dashboard_body(functions))
    indented = "".join(f"        {line}\n" for line in body.splitlines())
    return f"""  Dashboard:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardName: !Sub ${{AWS::StackName}}
      DashboardBody: !Sub |
{indented}"""


def render(doc: dict[str, Any]) -> str:
    functions = monitored_functions(doc)
    parts = [BEGIN]
    for name in sorted(functions):
        parts.append(_alarms(name, functions[name]))
    parts.append(_dead_letter_alarm())
    parts.append(_dashboard(functions))
    parts.append(END)
    return "".join(parts)


def _split(text: str) -> tuple[str, str, str]:
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        old, tail = rest.split(END, 1)
        return head, BEGIN + old + END, tail
    # First run: the block goes at the end of Resources, before Outputs.
    head, sep, tail = text.partition("\nOutputs:\n")
    if not sep:
        raise SystemExit("template.yaml has no Outputs section to insert the block before")
    return head.rstrip("\n") + "\n\n", "", "\n" + sep.lstrip("\n") + tail


def unwired(doc: dict[str, Any]) -> dict[str, str]:
    """Functions whose DeploymentPreference does not list exactly their generated alarms."""
    missing: dict[str, str] = {}
    for name, kind in monitored_functions(doc).items():
        props = doc["Resources"][name].get("Properties") or {}
        alarms = (props.get("DeploymentPreference") or {}).get("Alarms") or []
        if alarms != [{"Ref": a} for a in alarm_ids(name, kind)]:
            missing[name] = wiring_snippet(name, kind)
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the block is stale")
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    args = parser.parse_args(argv)
    text = args.template.read_text(encoding="utf-8")
    head, current, tail = _split(text)
    wanted = render(load(text))
    status = 0
    if current != wanted:
        if args.check:
            print("template.yaml: the monitoring block is stale: run `make monitoring`")
            status = 1
        else:
            # Re-read right before writing: others may have edited the file meanwhile.
            text = args.template.read_text(encoding="utf-8")
            head, _current, tail = _split(text)
            args.template.write_text(head + render(load(text)) + tail, encoding="utf-8")
            print("template.yaml: monitoring block regenerated")
    for name, snippet in unwired(load(args.template.read_text(encoding="utf-8"))).items():
        print(f"{name}: add to its Properties (CodeDeploy rolls back when one fires):\n{snippet}")
        status = 1 if args.check else status
    return status


if __name__ == "__main__":
    sys.exit(main())
