"""Read template.yaml (the single source of truth) into what the local runtime needs.

Only the subset of CloudFormation/SAM the local gateway has to honour: Parameters, Conditions,
Globals.Function, functions with their HttpApi/MSK/Schedule events and the HttpApi authorizers,
WebSocket APIs (ApiGatewayV2 routes with Lambda proxy integrations), DynamoDB tables, S3
buckets and the CloudFront distributions in front of them.
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


def parse_yaml(text: str) -> dict[str, Any]:
    """A CloudFormation/SAM template's text as plain data (short tags become Fn:: maps)."""
    data = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(data, dict):
        raise ValueError("not a template")
    return data


def load_yaml(path: Path) -> dict[str, Any]:
    return parse_yaml(path.read_text(encoding="utf-8"))


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
class Cors:
    """The HttpApi's CorsConfiguration, which API Gateway applies before any route (decision 52)."""

    allow_origins: tuple[str, ...]
    allow_headers: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False


def _cors(config: Any) -> Cors | None:
    """SAM's CorsConfiguration: true (every origin), an origin string, or the object."""
    if config is None or config is False:
        return None
    if config is True:
        return Cors(allow_origins=("*",), allow_headers=("*",), allow_methods=("*",))
    if isinstance(config, str):
        return Cors(allow_origins=(config.strip("'"),))

    def names(key: str) -> tuple[str, ...]:
        value = config.get(key) or ()
        items = value.split(",") if isinstance(value, str) else value
        return tuple(str(v).strip() for v in items if str(v).strip())

    max_age = config.get("MaxAge")
    return Cors(
        allow_origins=names("AllowOrigins"),
        allow_headers=names("AllowHeaders"),
        allow_methods=names("AllowMethods"),
        expose_headers=names("ExposeHeaders"),
        max_age=int(max_age) if max_age is not None else None,
        allow_credentials=bool(config.get("AllowCredentials", False)),
    )


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


@dataclass(frozen=True)
class WebSocketRoute:
    route_key: str  # $connect, $disconnect, $default or a value of the selection expression
    function: str | None  # the Lambda proxy integration's function (None: not a Lambda route)


@dataclass(frozen=True)
class WebSocketApi:
    logical_id: str
    route_selection_expression: str
    stage: str
    routes: dict[str, WebSocketRoute]

    def management_prefix(self) -> str:
        """The @connections endpoint as the template spells it for AWS (before local rewrite)."""
        return f"https://{self.logical_id}.execute-api.{REGION}.amazonaws.com"


@dataclass(frozen=True)
class Table:
    logical_id: str
    name: str  # TableName, else the logical id (what `!Ref` resolves to locally)
    properties: dict[str, Any]


@dataclass(frozen=True)
class Bucket:
    logical_id: str
    name: str  # BucketName, else the logical id (what `!Ref` resolves to locally)
    properties: dict[str, Any]


@dataclass(frozen=True)
class Distribution:
    """A CloudFront distribution's default S3 origin: served locally by the HTTP gateway."""

    logical_id: str
    bucket: str  # the origin bucket's local name
    origin_path: str  # "" or "/prefix"

    def url_prefix(self) -> str:
        """`!Sub https://${Dist.DomainName}` as the local loader resolves it."""
        return f"https://{self.logical_id}"


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
    websocket_apis: list[WebSocketApi] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    buckets: list[Bucket] = field(default_factory=list)
    distributions: list[Distribution] = field(default_factory=list)
    cors: Cors | None = None  # the HttpApi's CorsConfiguration


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


def merge_globals(globals_: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """SAM's rule: maps merge (function wins), lists concatenate, scalars are overridden."""
    merged = copy.deepcopy(globals_)
    for key, value in props.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_globals(merged[key], value)
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
        props = resolver.resolve(merge_globals(function_globals, resource.get("Properties") or {}))
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

    websocket_apis = _websocket_apis(resources, resolver)
    tables = [
        Table(logical_id, str(props.get("TableName") or logical_id), props)
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::DynamoDB::Table"
        for props in [resolver.resolve(resource.get("Properties") or {})]
    ]
    buckets = [
        Bucket(logical_id, str(props.get("BucketName") or logical_id), props)
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::S3::Bucket"
        for props in [resolver.resolve(resource.get("Properties") or {})]
    ]
    distributions = _distributions(resources, resolver, {b.logical_id: b.name for b in buckets})
    for auth in authorizers.values():
        if auth.function not in functions:
            raise ValueError(f"authorizer {auth.name} points at unknown function {auth.function}")
    default_auth = next((authorizers[d] for d in api_default.values() if d in authorizers), None)
    cors = next((c for p in apis.values() if (c := _cors(p.get("CorsConfiguration")))), None)
    return Template(
        path=path,
        parameters=parameters,
        functions=functions,
        routes=routes,
        authorizers=authorizers,
        default_authorizer=default_auth,
        msk_mappings=msk,
        schedules=schedules,
        websocket_apis=websocket_apis,
        tables=tables,
        buckets=buckets,
        distributions=distributions,
        cors=cors,
    )


def _distributions(
    resources: dict[str, Any], resolver: _Resolver, buckets: dict[str, str]
) -> list[Distribution]:
    """CloudFront distributions whose default behaviour's origin is one of the template's
    buckets (its DomainName a GetAtt of the bucket, which resolves to its logical id here)."""
    found = []
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::CloudFront::Distribution":
            continue
        config = resolver.resolve(resource.get("Properties") or {}).get("DistributionConfig") or {}
        target = (config.get("DefaultCacheBehavior") or {}).get("TargetOriginId")
        origin = next((o for o in config.get("Origins") or [] if o.get("Id") == target), None)
        if origin is None or str(origin.get("DomainName")) not in buckets:
            log.warning("distribution %s: no bucket origin, not served locally", logical_id)
            continue
        path = str(origin.get("OriginPath") or "").rstrip("/")
        found.append(Distribution(logical_id, buckets[str(origin["DomainName"])], path))
    return found


def _integration_function(uri: str) -> str | None:
    """`arn:...:lambda:path/2015-03-31/functions/<fn>/invocations` -> the function."""
    match = re.search(r"/functions/(.+)/invocations$", uri)
    if match is None:
        return None
    target = match.group(1)
    if ":function:" in target:  # a full Lambda ARN, maybe qualified (:live)
        target = target.split(":function:", 1)[1].split(":", 1)[0]
    return target


def _websocket_apis(resources: dict[str, Any], resolver: _Resolver) -> list[WebSocketApi]:
    """AWS::ApiGatewayV2::Api (WEBSOCKET) with their routes, Lambda integrations and stage."""
    by_type: dict[str, dict[str, dict[str, Any]]] = {}
    for logical_id, resource in resources.items():
        kind = str(resource.get("Type", ""))
        if kind.startswith("AWS::ApiGatewayV2::"):
            props = resolver.resolve(resource.get("Properties") or {})
            by_type.setdefault(kind.rsplit("::", 1)[1], {})[logical_id] = props
    apis: list[WebSocketApi] = []
    for api_id, props in by_type.get("Api", {}).items():
        if str(props.get("ProtocolType", "")).upper() != "WEBSOCKET":
            continue
        stage = next(
            (
                str(s.get("StageName"))
                for s in by_type.get("Stage", {}).values()
                if s.get("ApiId") == api_id
            ),
            "$default",
        )
        routes: dict[str, WebSocketRoute] = {}
        for route in by_type.get("Route", {}).values():
            if route.get("ApiId") != api_id:
                continue
            if str(route.get("AuthorizationType", "NONE")).upper() != "NONE":
                log.warning("WebSocket route %s: authorizers are not emulated", route["RouteKey"])
            target = str(route.get("Target", ""))
            integration = by_type.get("Integration", {}).get(target.rpartition("/")[2], {})
            function = _integration_function(str(integration.get("IntegrationUri", "")))
            routes[str(route["RouteKey"])] = WebSocketRoute(str(route["RouteKey"]), function)
        apis.append(
            WebSocketApi(
                logical_id=api_id,
                route_selection_expression=str(
                    props.get("RouteSelectionExpression", "$request.body.action")
                ),
                stage=stage,
                routes=routes,
            )
        )
    return apis
