"""The function specs (infra/app/functions.yaml), read and checked.

One entry per Lambda function says what differs between functions; infra/generate.py derives
the template blocks from it, infra/monitoring.py the alarms and dashboard, and the tests the
lists they check (which functions publish, which are monitored). A key the reader does not know
is an error, not a silent no-op.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import cfn_yaml

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "infra" / "app"
SPECS = APP / "functions.yaml"
BASE = APP / "base.yaml"

TOPICS = ("UserEvents", "FriendshipEvents", "ChatEvents")  # + "Topic" = the template parameter
KEYS = frozenset(
    {
        "code",
        "service",
        "http",
        "public",
        "websocket",
        "consumes",
        "schedule",
        "publishes",
        "mongo",
        "dynamodb",
        "pushes",
        "statements",
        "env",
        "memory",
        "timeout",
        "reserved_concurrency",
        "provisioned_concurrency",
        "hook",
        "samples",
    }
)
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "ANY"})


@dataclass(frozen=True)
class Consumer:
    """One MSK event source: a topic read by a consumer group."""

    topic: str  # e.g. UserEvents (parameter UserEventsTopic)
    group: str
    batching_window: int = 1
    max_pollers: int = 2
    # Only these event types reach the function (the mapping's FilterCriteria); () = all.
    event_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    name: str
    code: str  # functions/<code>/app.py
    service: str
    http: tuple[str, str] | None = None  # (METHOD, /path)
    public: bool = False
    websocket: str | None = None
    consumes: tuple[Consumer, ...] = ()
    schedule: dict[str, Any] | None = None
    publishes: tuple[str, ...] = ()
    mongo: bool = False
    dynamodb: dict[str, list[str]] = field(default_factory=dict)
    pushes: bool = False
    statements: tuple[dict[str, Any], ...] = ()
    env: dict[str, Any] = field(default_factory=dict)
    memory: int | None = None
    timeout: int | None = None
    reserved_concurrency: int | str | None = None
    provisioned_concurrency: str | None = None
    hook: bool = False
    samples: tuple[str, ...] = ()

    @property
    def batch(self) -> bool:
        """Invoked by an event source mapping or a schedule (not by a client waiting)."""
        return bool(self.consumes or self.schedule)

    @property
    def shifted(self) -> bool:
        """Deployed by CodeDeploy (every function but the hook that gates the others)."""
        return not self.hook


def _fail(name: str, message: str) -> None:
    raise ValueError(f"infra/app/functions.yaml: {name}: {message}")


def _consumers(name: str, raw: Any) -> tuple[Consumer, ...]:
    found = []
    for topic, value in (raw or {}).items():
        if topic not in TOPICS:
            _fail(name, f"consumes unknown topic {topic} (one of {', '.join(TOPICS)})")
        if isinstance(value, str):
            found.append(Consumer(topic, value))
        else:
            extra = set(value) - {"group", "batching_window", "max_pollers", "event_types"}
            if extra:
                _fail(name, f"consumes.{topic}: unknown {sorted(extra)}")
            found.append(
                Consumer(topic, **{**value, "event_types": tuple(value.get("event_types", ()))})
            )
    return tuple(found)


def parse(name: str, raw: dict[str, Any]) -> Spec:
    """One entry of functions.yaml, checked."""
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]+", name):
        _fail(name, "a function is named by its CloudFormation logical id (PascalCase)")
    unknown = set(raw) - KEYS
    if unknown:
        _fail(name, f"unknown keys {sorted(unknown)} (known: {', '.join(sorted(KEYS))})")
    code = str(raw.get("code") or "")
    if not re.fullmatch(r"[a-z0-9_]+/[a-z0-9_]+", code):
        _fail(name, f"code must be <context>/<function folder>, not {code!r}")
    http = None
    if "http" in raw:
        method, _, path = str(raw["http"]).partition(" ")
        if method not in METHODS or not path.startswith("/"):
            _fail(name, f"http must be 'METHOD /path', not {raw['http']!r}")
        http = (method, path)
    publishes = tuple(raw.get("publishes") or ())
    for topic in publishes:
        if topic not in TOPICS:
            _fail(name, f"publishes unknown topic {topic} (one of {', '.join(TOPICS)})")
    triggers = [k for k in ("http", "websocket", "consumes", "schedule") if k in raw]
    if len(triggers) > 1:
        _fail(name, f"one trigger per function, not {triggers}")
    if raw.get("public") and http is None:
        _fail(name, "public applies to an http route")
    samples = tuple(raw.get("samples") or (f"{code.rsplit('/', 1)[-1]}.json",))
    return Spec(
        name=name,
        code=code,
        service=str(raw.get("service") or code.split("/", 1)[0]),
        http=http,
        public=bool(raw.get("public", False)),
        websocket=raw.get("websocket"),
        consumes=_consumers(name, raw.get("consumes")),
        schedule=raw.get("schedule"),
        publishes=publishes,
        mongo=bool(raw.get("mongo", False)),
        dynamodb=dict(raw.get("dynamodb") or {}),
        pushes=bool(raw.get("pushes", False)),
        statements=tuple(raw.get("statements") or ()),
        env=dict(raw.get("env") or {}),
        memory=raw.get("memory"),
        timeout=raw.get("timeout"),
        reserved_concurrency=raw.get("reserved_concurrency"),
        provisioned_concurrency=raw.get("provisioned_concurrency"),
        hook=bool(raw.get("hook", False)),
        samples=samples,
    )


def load(path: Path = SPECS) -> dict[str, Spec]:
    """Every function's spec, in file order."""
    raw = cfn_yaml.load(path)
    specs = {name: parse(name, entry or {}) for name, entry in raw.items()}
    hooks = [s.name for s in specs.values() if s.hook]
    if len(hooks) > 1:
        raise ValueError(f"infra/app/functions.yaml: one CodeDeploy hook, not {hooks}")
    return specs


def authorizers(base: dict[str, Any]) -> set[str]:
    """Functions the base template's HTTP APIs use as Lambda authorizers."""
    found: set[str] = set()
    for resource in (base.get("Resources") or {}).values():
        if resource.get("Type") != "AWS::Serverless::HttpApi":
            continue
        auth = (resource.get("Properties") or {}).get("Auth") or {}
        for spec in (auth.get("Authorizers") or {}).values():
            ref = (spec.get("FunctionArn") or {}).get("Ref", "")
            found.add(str(ref).split(".", 1)[0])
    return found


def producers(specs: dict[str, Spec] | None = None) -> set[str]:
    """Functions that publish events (the tests check only they and consumers touch Kafka)."""
    return {s.name for s in (specs or load()).values() if s.publishes}
