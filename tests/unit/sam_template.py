"""Read template.yaml, samconfig.toml and events/ for the unit tests (no SAM CLI, no AWS).

A tiny CloudFormation-aware YAML loader (short tags such as `!Ref` become their long form) and
SAM's Globals merge rule, so that tests assert what each function really gets.
"""

from __future__ import annotations

import json
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from messenger_local.template import load_yaml, merge_globals

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"
EVENTS = ROOT / "events"

FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"


@cache
def template() -> dict[str, Any]:
    return load_yaml(TEMPLATE)


def resources(kind: str | None = None) -> dict[str, dict[str, Any]]:
    found = template()["Resources"]
    return {k: v for k, v in found.items() if kind is None or v["Type"] == kind}


def functions() -> dict[str, dict[str, Any]]:
    """Every function's Properties with Globals.Function merged in."""
    globals_ = (template().get("Globals") or {}).get("Function") or {}
    return {
        name: merge_globals(globals_, resource.get("Properties") or {})
        for name, resource in resources(FUNCTION).items()
    }


def http_routes() -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """Function -> [(METHOD, path, event properties)] of its HttpApi events."""
    routes: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for name, props in functions().items():
        for event in (props.get("Events") or {}).values():
            if event["Type"] == "HttpApi":
                p = event["Properties"]
                routes.setdefault(name, []).append((str(p["Method"]).upper(), p["Path"], p))
    return routes


def events_of(function: str, event_type: str) -> list[dict[str, Any]]:
    found = (functions()[function].get("Events") or {}).values()
    return [e.get("Properties") or {} for e in found if e["Type"] == event_type]


def parameter_default(name: str) -> Any:
    return template()["Parameters"][name].get("Default")


def samconfig() -> dict[str, Any]:
    return tomllib.loads(SAMCONFIG.read_text(encoding="utf-8"))


def event_index() -> dict[str, list[str]]:
    data = json.loads((EVENTS / "index.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def load_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))
