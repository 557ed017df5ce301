"""Check the deployed dependency graph of template.yaml: SAM-transformed, no cycle.

CloudFormation refuses a template whose resources depend on each other in a circle, and it
counts every reference, including those in an alias's UpdatePolicy (its CodeDeploy deployment
group) and the HTTP API's body (every route's and the authorizer's alias). Neither cfn-lint nor
`sam validate` looks at the transformed template, so an alarm that names the API and rolls back
a function behind it passes both and fails at deploy time. This script transforms the template
as `sam deploy` does (samtranslator, from the aws-sam-cli venv) and fails on a cycle; it also
checks that every deployment group waits for the rollback alarms of the nested stack, so they
watch the new version before any traffic moves.

    .tools/sam/bin/python -m infra.graph [template.yaml]   # run by `make validate`
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from infra import cfn_yaml

ROOT = Path(__file__).resolve().parents[1]


class _NoManagedPolicies:
    """SAM asks for the account's managed policies only to resolve names we never use."""

    def load(self) -> dict[str, str]:
        return {}


def transformed(path: Path) -> dict[str, Any]:
    """The template as CloudFormation receives it (code locations replaced: nothing uploads)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from samtranslator.translator.transform import transform  # the aws-sam-cli venv

    template = cfn_yaml.load(path)
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = "s3://bucket/key"
        if resource.get("Type") == "AWS::CloudFormation::Stack":
            props["TemplateURL"] = "https://s3.amazonaws.com/bucket/nested.yaml"
    result: dict[str, Any] = transform(template, {}, _NoManagedPolicies())
    return result


def _references(value: Any, names: set[str]) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0])
            elif key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                found.update(v.split(".", 1)[0] for v in re.findall(r"\$\{([^!}][^}]*)\}", text))
            found |= _references(arg, names)
    elif isinstance(value, list):
        for item in value:
            found |= _references(item, names)
    return found & names


def dependencies(template: dict[str, Any]) -> dict[str, set[str]]:
    """Resource -> the resources it references anywhere (properties, policies, DependsOn)."""
    resources = template["Resources"]
    names = set(resources)
    graph: dict[str, set[str]] = {}
    for name, resource in resources.items():
        depends = resource.get("DependsOn") or []
        depends = [depends] if isinstance(depends, str) else depends
        graph[name] = (_references(resource, names) | set(depends)) - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one resource (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


MAX_RESOURCES = 500  # CloudFormation's limit per template, counted after the transform


def problems(path: Path, alarms_stack: str = "Alarms") -> list[str]:
    """Cycles, and deployment groups that do not wait for an alarms stack (one per context,
    `Alarms<Context>`: each group waits for its function's)."""
    template = transformed(path)
    graph = dependencies(template)
    found = [f"dependency cycle: {' -> '.join(c)}" for c in cycles(graph)]
    if len(template["Resources"]) > MAX_RESOURCES:
        found.append(
            f"{len(template['Resources'])} resources after the SAM transform: over"
            f" CloudFormation's {MAX_RESOURCES} (move some into a nested stack; decision 53)"
        )
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::CodeDeploy::DeploymentGroup" and not any(
            d.startswith(alarms_stack) for d in graph[name]
        ):
            found.append(f"{name} does not wait for an {alarms_stack}<Context> stack's alarms")
    return found


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    path = Path(args[0]) if args else ROOT / "template.yaml"
    found = problems(path)
    for problem in found:
        print(f"{path.name}: {problem}")
    if not found:
        print(f"{path.name}: transformed, no dependency cycle")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
