"""The package's import contract (docs/architecture.md, "Where code goes"), read from the source.

- `kernel` imports nothing of ours but `kernel`.
- `platform` imports `kernel` and `platform` only: no context, no `web`, no `bootstrap`.
- `web` imports `kernel`, `platform` and `web` only.
- A context imports `kernel`, `platform`, itself, and of another context only its `api` module
  (what it may be asked) and its `events` module (the schemas it publishes); never `bootstrap`.
  The contexts' imports form no cycle.
- Only `bootstrap` (and the handlers, the tests and the local runtime) import `bootstrap`; a
  handler takes its use-case from `bootstrap` and of a context imports only its `models` and
  `events`.

Every import counts, also those under TYPE_CHECKING and inside functions.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "messenger" / "messenger"
LAYERS = {"kernel", "platform", "web"}
CONTEXTS = sorted(
    p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file() and p.name not in LAYERS
)
HANDLERS = sorted((ROOT / "functions").glob("*/*/app.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def our_modules() -> frozenset[str]:
    return frozenset(module_name(p) for p in PACKAGE.rglob("*.py"))


def imports_of(path: Path) -> set[str]:
    """Our modules this file imports (`from a import b` is `a.b` when that is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [
                f"{node.module}.{alias.name}"
                if f"{node.module}.{alias.name}" in our_modules()
                else node.module
                for alias in node.names
            ]
        else:
            continue
        found |= {n for n in names if n == "messenger" or n.startswith("messenger.")}
    return found


def part(module: str) -> str:
    """The top-level part of the package a module belongs to: kernel, platform, web, bootstrap,
    a context's name, or "" for the package itself."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else ""


@cache
def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def violations(allowed: dict[str, set[str]]) -> list[str]:
    """`importer -> imported` for every import from a part to a part it may not import."""
    bad = []
    for importer, imported in sorted(graph().items()):
        source = part(importer)
        if source not in allowed:
            continue
        bad += [f"{importer} -> {m}" for m in sorted(imported) if part(m) not in allowed[source]]
    return bad


def test_the_package_has_the_documented_parts() -> None:
    assert {"auth", "chats", "friends", "realtime", "users"} <= set(CONTEXTS)
    assert (PACKAGE / "bootstrap.py").is_file()
    for context in CONTEXTS:
        assert (PACKAGE / context / "api.py").is_file(), f"{context} declares no api"


def test_kernel_imports_only_kernel() -> None:
    assert violations({"kernel": {"kernel"}}) == []


def test_platform_imports_no_context() -> None:
    assert violations({"platform": {"kernel", "platform"}}) == []


def test_web_imports_only_kernel_and_platform() -> None:
    assert violations({"web": {"kernel", "platform", "web"}}) == []


@pytest.mark.parametrize("context", CONTEXTS)
def test_a_context_reaches_another_only_through_its_api(context: str) -> None:
    bad = []
    for importer, imported in sorted(graph().items()):
        if part(importer) != context:
            continue
        for m in sorted(imported):
            other = part(m)
            if other in {"kernel", "platform", context}:
                continue
            if other in CONTEXTS and m in (f"messenger.{other}.api", f"messenger.{other}.events"):
                continue
            bad.append(f"{importer} -> {m}")  # bootstrap, web, another's internals
    assert bad == []


def test_no_import_cycle_between_contexts() -> None:
    edges: dict[str, set[str]] = {c: set() for c in CONTEXTS}
    for importer, imported in graph().items():
        if part(importer) in edges:
            edges[part(importer)] |= {part(m) for m in imported if part(m) in edges} - {
                part(importer)
            }
    done: set[str] = set()

    def visit(context: str, path: tuple[str, ...]) -> None:
        assert context not in path, " -> ".join((*path, context))
        if context in done:
            return
        for other in sorted(edges[context]):
            visit(other, (*path, context))
        done.add(context)

    for context in CONTEXTS:
        visit(context, ())


def test_only_bootstrap_composes() -> None:
    """No module of the package but bootstrap itself imports bootstrap."""
    assert [m for m, imported in graph().items() if "messenger.bootstrap" in imported] == []


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda p: p.parent.name)
def test_handlers_take_their_use_case_from_bootstrap(handler: Path) -> None:
    imported = imports_of(handler)
    beyond_models = sorted(
        m for m in imported if part(m) in CONTEXTS and not m.endswith((".models", ".events"))
    )
    assert beyond_models == []
    assert "messenger.bootstrap" in imported


def test_the_checker_sees_forbidden_imports(tmp_path: Path) -> None:
    """The checks above are only as good as `imports_of`: it sees every form of import."""
    source = tmp_path / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import messenger.users.adapters.profiles\n"
        "from messenger.friends import api\n"
        "from messenger.platform.redis import client\n"
        "if TYPE_CHECKING:\n"
        "    from messenger.chats.service import ChatsService\n"
        "def f() -> None:\n"
        "    from messenger import bootstrap\n"
    )
    assert imports_of(source) == {
        "messenger.users.adapters.profiles",
        "messenger.friends.api",
        "messenger.platform.redis",
        "messenger.chats.service",
        "messenger.bootstrap",
    }


def test_test_modules_do_not_import_each_other() -> None:
    """Shared helpers live in tests/support.py or a tier's helpers module, not in a test module
    (importing one runs its module-level marks and fixtures a second time)."""
    tests = ROOT / "tests"
    bad = []
    for path in sorted(tests.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            bad += [
                f"{path.relative_to(ROOT)} -> {m}"
                for m in modules
                if m.startswith("tests.") and m.rsplit(".", 1)[-1].startswith("test_")
            ]
    assert bad == []
