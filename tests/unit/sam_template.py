"""Read template.yaml, samconfig.toml and events/ for the unit tests (no SAM CLI, no AWS).

A tiny CloudFormation-aware YAML loader (short tags such as `!Ref` become their long form) and
SAM's Globals merge rule, so that tests assert what each function really gets.
"""

from __future__ import annotations

import copy
import json
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"
EVENTS = ROOT / "events"

FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tag)


@cache
def template() -> dict[str, Any]:
    with TEMPLATE.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_CfnLoader)  # a SafeLoader subclass
    assert isinstance(data, dict)
    return data


def resources(kind: str | None = None) -> dict[str, dict[str, Any]]:
    found = template()["Resources"]
    return {k: v for k, v in found.items() if kind is None or v["Type"] == kind}


def merge_globals(globals_: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """SAM's rule: maps merge (the resource wins), lists concatenate, scalars are replaced."""
    merged = copy.deepcopy(globals_)
    for key, value in props.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_globals(merged[key], value)
        elif isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = merged[key] + value
        else:
            merged[key] = value
    return merged


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
