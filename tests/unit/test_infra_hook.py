"""The PreTraffic hook: migrations, then a smoke check; CodeDeploy hears Failed if either fails."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from tests.support import LambdaContext, handler_module

pytestmark = pytest.mark.unit

HOOK_EVENT = {"DeploymentId": "d-123", "LifecycleEventHookExecutionId": "hook-456"}


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, list[str]]:
    module = handler_module("MigrateDatabase")
    reported: list[str] = []
    monkeypatch.setattr(module, "_report", lambda event, status: reported.append(status))
    monkeypatch.setattr(module, "database_url", lambda: "postgresql://u:p@proxy:5432/messenger")
    monkeypatch.setattr(module, "apply_migrations", lambda url: ["0001_init"])
    monkeypatch.setattr(module, "mongodb_uri", lambda: "mongodb://docdb:27017/?tls=true")
    monkeypatch.setattr(module, "apply_mongo_indexes", lambda uri, database: None)
    return module, reported


class _Conn:
    def __enter__(self) -> _Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, sql: str) -> Any:
        assert sql == "SELECT 1"
        return self

    def fetchone(self) -> tuple[int]:
        return (1,)


class _Redis:
    def __init__(self, fail: bool) -> None:
        self.fail = fail

    def ping(self) -> bool:
        if self.fail:
            import redis

            raise redis.exceptions.ConnectionError("no route")
        return True


def _services(monkeypatch: pytest.MonkeyPatch, postgres_ok: bool, redis_ok: bool) -> None:
    import psycopg

    import messenger.platform.redis

    def connect(*args: Any, **kwargs: Any) -> _Conn:
        if not postgres_ok:
            raise psycopg.OperationalError("connection refused")
        return _Conn()

    monkeypatch.setattr(psycopg, "connect", connect)
    monkeypatch.setattr(messenger.platform.redis, "client", lambda: _Redis(fail=not redis_ok))


def test_succeeds_when_migrated_and_both_answer(
    hook: tuple[ModuleType, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, reported = hook
    _services(monkeypatch, postgres_ok=True, redis_ok=True)
    result = module.lambda_handler(dict(HOOK_EVENT), LambdaContext("hook"))
    assert result["status"] == "Succeeded"
    assert result["checks"] == {"postgres": "ok", "redis": "ok"}
    assert reported == ["Succeeded"]


@pytest.mark.parametrize(("postgres_ok", "redis_ok"), [(False, True), (True, False)])
def test_reports_failed_when_a_smoke_check_fails(
    hook: tuple[ModuleType, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    postgres_ok: bool,
    redis_ok: bool,
) -> None:
    module, reported = hook
    _services(monkeypatch, postgres_ok=postgres_ok, redis_ok=redis_ok)
    result = module.lambda_handler(dict(HOOK_EVENT), LambdaContext("hook"))
    assert result["status"] == "Failed"
    assert reported == ["Failed"]


def test_reports_failed_when_migrations_fail(
    hook: tuple[ModuleType, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, reported = hook

    def broken(url: str) -> list[str]:
        raise RuntimeError("lock timeout")

    monkeypatch.setattr(module, "apply_migrations", broken)
    assert module.lambda_handler(dict(HOOK_EVENT), LambdaContext("hook"))["status"] == "Failed"
    assert reported == ["Failed"]


def test_direct_invocation_raises_on_a_failed_smoke_check(
    hook: tuple[ModuleType, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, reported = hook
    _services(monkeypatch, postgres_ok=True, redis_ok=False)
    with pytest.raises(RuntimeError, match="smoke check failed"):
        module.lambda_handler({}, LambdaContext("hook"))
    assert reported == []
