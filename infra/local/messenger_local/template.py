"""Read template.yaml (the single source of truth) into what the local runtime needs.

Only the subset of CloudFormation/SAM the local gateway has to honour: Parameters, Conditions,
Globals.Function, functions with their HttpApi/MSK/Schedule events and the HttpApi authorizers.
Intrinsics are resolved "enough": a Ref to a parameter gives its value, a Ref/GetAtt to a resource
gives its logical id (a stable placeholder, since nothing is deployed locally).
"""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger("messenger_local.template")

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PSEUDO_PARAMETERS: dict[str, Any] = {
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::Region": REGION,
    "AWS::StackName": "messenger-local",
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/messenger-local/local",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": None,
}


# --------------------------------------------------------------------------------------------
# YAML with CloudFormation short tags
# --------------------------------------------------------------------------------------------
class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns `!Ref X` into {"Ref": X} and `!Sub ...` into {"Fn::Sub": ...}."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a template")
    return data


# --------------------------------------------------------------------------------------------
# What the runtime consumes
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: Path
    handler: str
    env: dict[str, str]
    timeout: float
    memory: int
    events: dict[str, Any] = field(default_factory=dict)
    reserved_concurrency: int | None = None
    # Variables Lambda itself sets from the function's configuration (LoggingConfig).
    system_env: dict[str, str] = field(default_factory=dict)

    @property
    def handler_file(self) -> Path:
        """`app.lambda_handler` -> <CodeUri>/app.py (a dotted module maps to sub-folders)."""
        module, _, _ = self.handler.rpartition(".")
        return self.code_uri / (module.replace(".", "/") + ".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rpartition(".")[2]


@dataclass(frozen=True)
class Authorizer:
    name: str
    function: str
    identity_headers: tuple[str, ...]
    simple_responses: bool
    payload_version: str = "2.0"


@dataclass(frozen=True)
class HttpRoute:
    method: str  # upper case, or ANY
    path: str  # /v1/users/{user_id}, or $default
    function: str
    authorizer: str | None  # key into Template.authorizers

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class MskMapping:
    function: str
    event_name: str
    stream: str
    topics: tuple[str, ...]
    consumer_group_id: str
    batch_size: int
    batching_window_seconds: float
    starting_position: str
    has_on_failure_destination: bool
    function_response_types: tuple[str, ...]
    maximum_retry_attempts: int | None
    enabled: bool = True


@dataclass(frozen=True)
class Schedule:
    function: str
    event_name: str
    expression: str
    input: Any = None
    enabled: bool = True


@dataclass
class Template:
    path: Path
    parameters: dict[str, Any]
    functions: dict[str, Function]
    routes: list[HttpRoute]
    authorizers: dict[str, Authorizer]
    default_authorizer: Authorizer | None
    msk_mappings: list[MskMapping]
    schedules: list[Schedule]


# --------------------------------------------------------------------------------------------
# Intrinsics
# --------------------------------------------------------------------------------------------
class _Resolver:
    def __init__(self, doc: dict[str, Any], parameters: dict[str, Any]) -> None:
        self.resources: dict[str, Any] = doc.get("Resources") or {}
        self.values = {**PSEUDO_PARAMETERS, **parameters}
        self.conditions_raw: dict[str, Any] = doc.get("Conditions") or {}
        self._conditions: dict[str, bool] = {}

    def ref(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        # `!Ref Fn.Alias` / `!Ref Fn.Version` (SAM) or a plain resource: its logical id.
        return name.split(".", 1)[0]

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = bool(self.resolve(self.conditions_raw.get(name, False)))
        return self._conditions[name]

    def _sub(self, template: str, local: dict[str, Any]) -> str:
        def repl(match: re.Match[str]) -> str:
            expr = match.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            if expr in local:
                return str(self.resolve(local[expr]))
            if expr in self.values:
                return str(self.values[expr])
            return expr.split(".", 1)[0]

        return re.sub(r"\$\{([^}]+)\}", repl, template)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(str(arg))
            if key == "Condition":
                return self.condition(str(arg))
            if key == "Fn::GetAtt":
                parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return str(self.resolve(parts[0]))
            if key == "Fn::Sub":
                if isinstance(arg, list):
                    return self._sub(str(arg[0]), arg[1] if len(arg) > 1 else {})
                return self._sub(str(arg), {})
            if key == "Fn::Join":
                sep, items = arg
                return str(sep).join(str(v) for v in self.resolve(items))
            if key == "Fn::Select":
                index, items = self.resolve(arg)
                return items[int(index)]
            if key == "Fn::Split":
                sep, text = self.resolve(arg)
                return str(text).split(sep)
            if key == "Fn::If":
                name, yes, no = arg
                return self.resolve(yes if self.condition(name) else no)
            if key == "Fn::Equals":
                a, b = self.resolve(arg)
                return str(a) == str(b)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(v) for v in arg)
            if key == "Fn::Or":
                return any(self.resolve(v) for v in arg)
            if key.startswith("Fn::"):
                log.warning("intrinsic %s is not resolved locally", key)
                return str(arg)
        return {k: self.resolve(v) for k, v in value.items()}


def _merge_globals(globals_: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """SAM's rule: maps merge (function wins), lists concatenate, scalars are overridden."""
    merged = copy.deepcopy(globals_)
    for key, value in props.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_globals(merged[key], value)
        elif isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = merged[key] + value
        else:
            merged[key] = value
    return merged


def _parameter_values(doc: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in (doc.get("Parameters") or {}).items():
        raw = overrides.get(name, spec.get("Default"))
        if raw is None:
            raise ValueError(f"parameter {name} has no Default and no override")
        allowed = spec.get("AllowedValues")
        if allowed is not None and str(raw) not in {str(v) for v in allowed}:
            raise ValueError(f"parameter {name}={raw!r} is not one of {allowed}")
        pattern = spec.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(pattern, str(raw)):
            raise ValueError(f"parameter {name}={raw!r} does not match {pattern}")
        if spec.get("Type") == "CommaDelimitedList" and isinstance(raw, str):
            values[name] = [v.strip() for v in raw.split(",")]
        else:
            values[name] = raw
    unknown = set(overrides) - set(values)
    if unknown:
        raise ValueError(f"unknown template parameters: {sorted(unknown)}")
    return values


def _env_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _enabled(props: dict[str, Any]) -> bool:
    if props.get("Enabled") is False:
        return False
    return str(props.get("State", "ENABLED")).upper() != "DISABLED"


def load_template(path: str | Path, parameter_overrides: dict[str, str] | None = None) -> Template:
    """Parse and resolve `path`; `parameter_overrides` play the role of --parameter-overrides."""
    path = Path(path).resolve()
    doc = load_yaml(path)
    parameters = _parameter_values(doc, dict(parameter_overrides or {}))
    resolver = _Resolver(doc, parameters)
    resources: dict[str, Any] = doc.get("Resources") or {}
    function_globals = (doc.get("Globals") or {}).get("Function") or {}

    functions: dict[str, Function] = {}
    routes: list[HttpRoute] = []
    msk: list[MskMapping] = []
    schedules: list[Schedule] = []
    apis: dict[str, dict[str, Any]] = {}

    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::Serverless::HttpApi":
            apis[logical_id] = resolver.resolve(resource.get("Properties") or {})

    authorizers: dict[str, Authorizer] = {}
    api_default: dict[str, str | None] = {}
    for api_id, props in apis.items():
        auth = props.get("Auth") or {}
        for name, spec in (auth.get("Authorizers") or {}).items():
            if "FunctionArn" not in spec:
                log.warning("authorizer %s (JWT?) is not emulated locally", name)
                continue
            headers = tuple((spec.get("Identity") or {}).get("Headers") or ())
            authorizers[f"{api_id}.{name}"] = Authorizer(
                name=name,
                function=str(spec["FunctionArn"]),
                identity_headers=headers,
                simple_responses=bool(spec.get("EnableSimpleResponses", False)),
                payload_version=str(spec.get("AuthorizerPayloadFormatVersion", "2.0")),
            )
        default = auth.get("DefaultAuthorizer")
        api_default[api_id] = f"{api_id}.{default}" if default else None

    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resolver.resolve(_merge_globals(function_globals, resource.get("Properties") or {}))
        variables = (props.get("Environment") or {}).get("Variables") or {}
        reserved = props.get("ReservedConcurrentExecutions")
        logging_config = props.get("LoggingConfig") or {}
        system_env: dict[str, str] = {}
        if logging_config.get("LogFormat") == "JSON":
            system_env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            if logging_config.get("ApplicationLogLevel"):
                system_env["AWS_LAMBDA_LOG_LEVEL"] = str(logging_config["ApplicationLogLevel"])
        functions[logical_id] = Function(
            logical_id=logical_id,
            code_uri=(path.parent / str(props.get("CodeUri", "."))).resolve(),
            handler=str(props["Handler"]),
            env={str(k): _env_value(v) for k, v in variables.items()},
            timeout=float(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
            events=props.get("Events") or {},
            reserved_concurrency=int(reserved) if reserved is not None else None,
            system_env=system_env,
        )
        for event_name, event in functions[logical_id].events.items():
            etype, eprops = event.get("Type"), event.get("Properties") or {}
            if etype == "HttpApi":
                api_id = str(eprops.get("ApiId", "ServerlessHttpApi"))
                auth_name = (eprops.get("Auth") or {}).get("Authorizer")
                if auth_name == "NONE":
                    authorizer = None
                elif auth_name:
                    authorizer = f"{api_id}.{auth_name}"
                else:
                    authorizer = api_default.get(api_id)
                method = str(eprops.get("Method", "ANY")).upper()
                routes.append(
                    HttpRoute(
                        method="ANY"
                        if method in ("X-AMAZON-APIGATEWAY-ANY-METHOD", "*")
                        else method,
                        path=str(eprops.get("Path", "$default")),
                        function=logical_id,
                        authorizer=authorizer,
                    )
                )
            elif etype in ("MSK", "SelfManagedKafka"):
                destination = (eprops.get("DestinationConfig") or {}).get("OnFailure")
                retries = eprops.get("MaximumRetryAttempts")
                msk.append(
                    MskMapping(
                        function=logical_id,
                        event_name=event_name,
                        stream=str(eprops.get("Stream", "")),
                        topics=tuple(str(t) for t in eprops.get("Topics") or ()),
                        consumer_group_id=str(
                            eprops.get("ConsumerGroupId")
                            or (eprops.get("SelfManagedKafkaEventSourceConfig") or {}).get(
                                "ConsumerGroupId"
                            )
                            or logical_id
                        ),
                        batch_size=int(eprops.get("BatchSize", 100)),
                        batching_window_seconds=float(
                            eprops.get("MaximumBatchingWindowInSeconds", 0)
                        ),
                        starting_position=str(eprops.get("StartingPosition", "LATEST")),
                        has_on_failure_destination=bool(destination),
                        function_response_types=tuple(eprops.get("FunctionResponseTypes") or ()),
                        maximum_retry_attempts=int(retries) if retries is not None else None,
                        enabled=_enabled(eprops),
                    )
                )
            elif etype in ("Schedule", "ScheduleV2"):
                schedules.append(
                    Schedule(
                        function=logical_id,
                        event_name=event_name,
                        expression=str(eprops.get("Schedule") or eprops.get("ScheduleExpression")),
                        input=eprops.get("Input"),
                        enabled=_enabled(eprops),
                    )
                )

    for auth in authorizers.values():
        if auth.function not in functions:
            raise ValueError(f"authorizer {auth.name} points at unknown function {auth.function}")
    default_auth = next((authorizers[d] for d in api_default.values() if d in authorizers), None)
    return Template(
        path=path,
        parameters=parameters,
        functions=functions,
        routes=routes,
        authorizers=authorizers,
        default_authorizer=default_auth,
        msk_mappings=msk,
        schedules=schedules,
    )
