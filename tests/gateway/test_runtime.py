"""Execution environments: warm reuse, cold starts, concurrency, timeouts, errors."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from messenger_local.gateway import LocalGateway

from .conftest import FIXTURE_TEMPLATE

pytestmark = pytest.mark.integration


def test_warm_environment_is_reused(http_gateway: LocalGateway) -> None:
    first = http_gateway.invoke("Misc", {"action": "nothing"})
    second = http_gateway.invoke("Misc", {"action": "nothing"})
    assert first.ok
    assert second.ok
    assert second.payload["pid"] == first.payload["pid"]
    assert not second.cold_start


def test_busy_environment_means_another_one(http_gateway: LocalGateway) -> None:
    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(
                lambda _: http_gateway.invoke("Misc", {"action": "sleep", "seconds": 0.5}),
                range(2),
            )
        )
    assert all(r.ok for r in results)
    assert len({r.payload["pid"] for r in results}) == 2
    assert http_gateway.runtime.environments("Misc") >= 2


def test_timeout_kills_the_environment(http_gateway: LocalGateway) -> None:
    started = time.monotonic()
    result = http_gateway.invoke("Misc", {"action": "sleep", "seconds": 30})
    assert time.monotonic() - started < 5
    assert result.error_type == "Sandbox.Timedout"
    assert result.error_message == "Task timed out after 1.00 seconds"
    after = http_gateway.invoke("Misc", {"action": "nothing"})
    assert after.ok


def test_handler_error_is_reported_like_lambda(http_gateway: LocalGateway) -> None:
    result = http_gateway.invoke("Misc", {"action": "crash"})
    assert not result.ok
    assert result.error_payload()["errorType"] == "ValueError"
    assert result.error_payload()["errorMessage"] == "handler crashed"
    assert any("app.py" in frame for frame in result.error_payload()["stackTrace"])


def test_prewarm_creates_environments_before_the_first_invoke(tmp_path: Path) -> None:
    gateway = LocalGateway(
        FIXTURE_TEMPLATE,
        env={"OUT_DIR": str(tmp_path)},
        state_dir=tmp_path,
        enable_kafka=False,
        enable_schedules=False,
    )
    try:
        gateway.prewarm("Echo", "Misc")
        assert gateway.runtime.environments("Echo") == 1
        assert not gateway.invoke("Misc", {"action": "nothing"}).cold_start
    finally:
        gateway.runtime.close()
    assert gateway.invoke("Misc", {}).error_type == "Runtime.Closed"
