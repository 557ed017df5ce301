"""`sam build` ships bytecode the deployed runtime loads as is (decision "Bytecode as deployed").

Lambda's /opt and /var/task are read-only: a module without a matching `.pyc` is compiled on
every cold start. Each layer's Makefile and the functions' one (functions/Makefile) compile the
built tree with the template's runtime interpreter (layers/bytecode.mk) into unchecked-hash pycs.
These tests run the Makefiles as `sam build` does (a scratch copy of the folder, `--makefile` the
source Makefile, ARTIFACTS_DIR) and read the pycs' headers; the built `.aws-sam/build` layers are
checked too when a `sam build` has run (`make test` builds first).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from messenger_local.template import load_yaml
from tests.support import ROOT, template

BYTECODE_MK = ROOT / "layers" / "bytecode.mk"
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, check_source off


def _make(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@cache
def runtime_python() -> str:
    found = _make("-s", "-f", str(BYTECODE_MK), "runtime-python")
    assert found.returncode == 0, f"no runtime interpreter: {found.stderr}"
    return found.stdout.strip()


# Run by the runtime interpreter: its own tag, magic number and source hash (keyed by the magic).
_CHECK = """
import importlib.util, json, pathlib, sys
problems, count = [], 0
for source in sorted(pathlib.Path(sys.argv[1]).rglob("*.py")):
    count += 1
    pyc = pathlib.Path(importlib.util.cache_from_source(str(source)))
    if not pyc.is_file():
        problems.append(f"{source}: no {pyc.name}")
        continue
    header = pyc.read_bytes()[:16]
    if header[:4] != importlib.util.MAGIC_NUMBER:
        problems.append(f"{pyc}: magic {header[:4]!r}, not {importlib.util.MAGIC_NUMBER!r}")
    elif int.from_bytes(header[4:8], "little") != int(sys.argv[2]):
        problems.append(f"{pyc}: flags {header[4:8]!r}, not unchecked-hash")
    elif header[8:16] != importlib.util.source_hash(source.read_bytes()):
        problems.append(f"{pyc}: stale (another source)")
print(json.dumps({"count": count, "problems": problems}))
"""


def _build(
    source: Path, target: str, artifacts: Path, scratch: Path, makefile: Path | None = None
) -> None:
    shutil.copytree(source, scratch)
    artifacts.mkdir()  # as SAM does
    built = _make("--makefile", str(makefile or source / "Makefile"), target, cwd=scratch,
                  ARTIFACTS_DIR=str(artifacts))  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr


def _assert_compiled(tree: Path) -> int:
    """Every module under `tree` has a runtime pyc matching its source; returns how many."""
    out = subprocess.run(
        [runtime_python(), "-c", _CHECK, str(tree), str(UNCHECKED_HASH)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["count"] > 0, f"nothing built in {tree}"
    assert result["problems"] == [], "\n".join(result["problems"][:20])
    return int(result["count"])


def test_the_runtime_interpreter_is_the_templates_runtime() -> None:
    declared = load_yaml(ROOT / "template.yaml")["Globals"]["Function"]["Runtime"]
    code = "import sys; print(f'python{sys.version_info[0]}.{sys.version_info[1]}')"
    out = subprocess.run([runtime_python(), "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == declared


def test_messenger_layer_ships_runtime_bytecode(tmp_path: Path) -> None:
    artifacts = tmp_path / "MessengerLayer"
    _build(ROOT / "layers" / "messenger", "build-MessengerLayer", artifacts, tmp_path / "src")
    assert _assert_compiled(artifacts / "python") > 30


def test_function_package_ships_runtime_bytecode(tmp_path: Path) -> None:
    function = template().functions["GetMyProfile"]
    artifacts = tmp_path / "GetMyProfile"
    # Every function's one recipe (its Metadata.ContextPath), run in a copy of its own folder.
    context = load_yaml(ROOT / "template.yaml")["Resources"]["GetMyProfile"]["Metadata"]
    makefile = ROOT / context["ContextPath"] / "Makefile"
    _build(function.code_uri, "build-GetMyProfile", artifacts, tmp_path / "src", makefile)
    assert _assert_compiled(artifacts) == 1
    assert (artifacts / "__pycache__").is_dir()


def test_build_fails_without_the_runtime_interpreter(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "layers" / "messenger", tmp_path / "src")
    built = _make(
        "--makefile",
        str(ROOT / "layers" / "messenger" / "Makefile"),
        "build-MessengerLayer",
        cwd=tmp_path / "src",
        ARTIFACTS_DIR=str(tmp_path / "out"),
        PY_VERSION="3.99",
    )
    assert built.returncode != 0
    assert "no python3.99 interpreter" in built.stderr


@pytest.mark.parametrize("layer", ["DepsLayer", "MessengerLayer"])
def test_built_layer_ships_runtime_bytecode(layer: str) -> None:
    built = ROOT / ".aws-sam" / "build" / layer / "python"
    if not built.is_dir():
        pytest.skip("no sam build output (`make build`)")
    _assert_compiled(built)
