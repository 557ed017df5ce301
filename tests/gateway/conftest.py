"""Fixtures for the local gateway's tests: a fake template, real tansu, bounded polling."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from messenger_local.gateway import LocalGateway
from messenger_local.services import LocalServices

HERE = Path(__file__).parent
FIXTURE_TEMPLATE = HERE / "fixtures" / "template.yaml"
REFERENCE = HERE / "reference"
REAL_TEMPLATE = HERE.parent.parent / "template.yaml"

T = TypeVar("T")


def reference(name: str) -> Any:
    return json.loads((REFERENCE / name).read_text())


def wait_for(check: Callable[[], T], timeout: float = 20.0, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def read_jsonl(path: Path) -> list[Any]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """tansu (or KAFKA_BOOTSTRAP_SERVERS when given), stopped at the end of the session."""
    state = tmp_path_factory.mktemp("services")
    with LocalServices(state_dir=state, services=["kafka"]) as services:
        yield services.kafka_bootstrap_servers


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the fake functions write what they saw (their OUT_DIR)."""
    return tmp_path_factory.mktemp("out")


@pytest.fixture(scope="module")
def http_gateway(out_dir: Path) -> Iterator[LocalGateway]:
    """The fake template over HTTP only, on a free port."""
    gateway = LocalGateway(
        FIXTURE_TEMPLATE,
        env={"OUT_DIR": str(out_dir)},
        port=0,
        state_dir=out_dir,
        enable_kafka=False,
        enable_schedules=False,
    )
    with gateway:
        yield gateway
