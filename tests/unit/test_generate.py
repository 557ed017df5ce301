"""template.yaml is generated from the specs (infra/app/): current, complete, and checked.

The hand-edited sources are infra/app/base.yaml (everything but the functions) and
infra/app/functions.yaml (one entry per function); `make template` writes template.yaml, the
alarms and dashboard stacks and events/index.json. These tests fail when one is stale, when a spec
is malformed, when the deployed dependency graph has a cycle, and when a Makefile target is
missing from `make help`.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from infra import cfn_yaml, generate, monitoring, specs
from tests.unit.sam_template import ROOT, functions, http_routes

pytestmark = pytest.mark.unit

SAM_PY = ROOT / ".tools" / "sam" / "bin" / "python"


def test_generated_files_are_current() -> None:
    stale = [str(p.relative_to(ROOT)) for p in generate.stale()]
    assert stale == [], f"stale: {stale}: run `make template`"


def test_every_template_function_has_exactly_one_spec() -> None:
    assert list(specs.load()) == list(functions())


def test_every_function_has_its_log_group_and_routes_come_from_the_spec() -> None:
    for name, spec in specs.load().items():
        logs = cfn_yaml.load(ROOT / "infra" / "app" / "logs.yaml")
        assert logs["Resources"][f"{name}LogGroup"]["Type"] == "AWS::Logs::LogGroup"
        if spec.http:
            assert [(m, p) for m, p, _ in http_routes()[name]] == [spec.http]


def test_the_hand_edited_part_is_small() -> None:
    """The point of the specs: far fewer lines to read and edit than the template they make."""
    hand = sum(len(p.read_text().splitlines()) for p in (specs.SPECS, specs.BASE))
    generated = len((ROOT / "template.yaml").read_text().splitlines())
    per_function = len(specs.SPECS.read_text().splitlines()) / len(specs.load())
    assert per_function < 10, per_function
    assert hand < generated


def test_a_cfn_yaml_round_trip_keeps_the_data() -> None:
    data = cfn_yaml.load(ROOT / "template.yaml")
    assert cfn_yaml.loads(cfn_yaml.dump(data)) == data


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"code": "users/x", "htp": "GET /v1/x"}, "unknown keys"),
        ({"code": "x"}, "code must be"),
        ({"code": "users/x", "http": "FETCH /v1/x"}, "http must be"),
        ({"code": "users/x", "publishes": ["UserEvent"]}, "publishes unknown topic"),
        ({"code": "users/x", "consumes": {"Nope": "g"}}, "consumes unknown topic"),
        ({"code": "users/x", "http": "GET /v1/x", "websocket": "x"}, "one trigger"),
        ({"code": "users/x", "public": True}, "public applies"),
    ],
)
def test_a_malformed_spec_is_refused(entry: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        specs.parse("Example", entry)


def test_each_alarms_stack_stays_within_cloudformations_limits() -> None:
    stacks = sorted((ROOT / monitoring.ALARMS_DIR).glob("alarms-*.yaml"))
    assert len(stacks) > 1  # one per context
    for path in stacks:
        alarms = cfn_yaml.load(path)
        assert len(alarms["Parameters"]) <= monitoring.LIMIT, path.name
        assert len(alarms["Outputs"]) <= monitoring.LIMIT, path.name


@pytest.mark.skipif(not SAM_PY.exists(), reason="no aws-sam-cli venv (`make tools`)")
def test_the_transformed_template_has_no_dependency_cycle() -> None:
    """As CloudFormation sees it: an alarm on the API would make every alias wait for itself."""
    done = subprocess.run(
        [str(SAM_PY), "-m", "infra.graph", "template.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no dependency cycle" in done.stdout


def _targets(makefile: Path) -> tuple[set[str], set[str]]:
    text = makefile.read_text(encoding="utf-8")
    phony = {t for line in re.findall(r"^\.PHONY: (.+)$", text, re.MULTILINE) for t in line.split()}
    helped = set(re.findall(r"^([a-zA-Z_-]+):.*?## ", text, re.MULTILINE))
    return phony, helped


def test_make_help_lists_every_target() -> None:
    phony, helped = _targets(ROOT / "Makefile")
    assert "template" in helped
    assert phony <= helped, f"no `## help` for {sorted(phony - helped)}"


@pytest.mark.parametrize("path", sorted((ROOT / "infra").glob("*.py")), ids=lambda p: p.name)
def test_the_deploy_tooling_does_not_import_the_laptop_emulator(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import) messenger_local\b", source, re.MULTILINE), path.name
