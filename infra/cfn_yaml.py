"""CloudFormation YAML for the deploy tooling: short tags in, short tags out.

The tooling (infra/generate.py, infra/monitoring.py) reads the hand-edited sources and writes
template.yaml and the monitoring stacks. It must not depend on the laptop emulator
(`messenger_local`), so it has its own loader: `!Ref X` becomes {"Ref": X}, `!GetAtt A.B`
{"Fn::GetAtt": ["A", "B"]}, any other `!Fn` {"Fn::Fn": ...}, the same long form CloudFormation
reads. `dump` writes that data back with the short tags, sequences indented as in the
hand-written template, short scalar lists on one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_FUNCTIONS = (
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "If",
    "Not",
    "Equals",
    "And",
    "Or",
    "ToJsonString",
    "Length",
)
INTRINSICS = frozenset({"Ref", "Condition"} | {f"Fn::{name}" for name in _FUNCTIONS})


class _Loader(yaml.SafeLoader):
    """SafeLoader with CloudFormation's short tags."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
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


_Loader.add_multi_constructor("!", _construct_tag)


def loads(text: str) -> dict[str, Any]:
    """A template (or any CloudFormation-flavoured YAML mapping) as plain data."""
    data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(data, dict):
        raise ValueError("not a YAML mapping")
    return data


def load(path: Path) -> dict[str, Any]:
    return loads(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------------
# Dumping
# ------------------------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    """Block style with indented sequences (`key:\\n  - item`), as the template is written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # the same policy dict twice is written twice, never as an anchor

    def choose_scalar_style(self) -> str:
        """`!Ref Name`, not `!Ref 'Name'`: a tagged scalar is plain whenever YAML allows it."""
        event = self.event
        tag = getattr(event, "tag", None)
        if tag and tag.startswith("!") and not getattr(event, "style", None):
            if self.analysis is None:
                self.analysis = self.analyze_scalar(getattr(event, "value", ""))
            analysis = self.analysis
            plain = (self.flow_level and analysis.allow_flow_plain) or (
                not self.flow_level and analysis.allow_block_plain
            )
            if plain and not analysis.empty and not analysis.multiline:
                return ""
        return str(super().choose_scalar_style())


def _is_short(value: Any) -> bool:
    """Scalars, and intrinsics and lists of them: what reads well on one line."""
    if isinstance(value, dict):
        return len(value) == 1 and next(iter(value)) in INTRINSICS and _is_short(*value.values())
    if isinstance(value, list):
        return all(_is_short(v) for v in value)
    return isinstance(value, str | int | float | bool) and "\n" not in str(value)


def _width(value: Any) -> int:
    if isinstance(value, dict):
        return sum(len(k) + _width(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(_width(v) + 2 for v in value) + 2
    return len(str(value)) + 2


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    flow = bool(value) and _is_short(value) and _width(value) < 90
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


def _represent_dict(dumper: yaml.SafeDumper, value: dict[str, Any]) -> yaml.Node:
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key in INTRINSICS:
            tag = "!" + key.removeprefix("Fn::")
            if key == "Fn::GetAtt" and isinstance(arg, list):
                arg = ".".join(str(a) for a in arg)
            if isinstance(arg, str):
                return dumper.represent_scalar(tag, arg)
            if isinstance(arg, list):
                node = _represent_list(dumper, arg)
                node.tag = tag
                return node
            node = dumper.represent_mapping(tag, arg)
            return node
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items())


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(dict, _represent_dict)


def dump(data: Any, indent: int = 0) -> str:
    """`data` as YAML with short tags, every line indented by `indent` spaces."""
    text = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=10_000, indent=2
    )
    if not indent:
        return text
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))
