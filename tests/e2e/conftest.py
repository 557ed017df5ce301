"""The local gateway serving template.yaml over real HTTP, against the session's services."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from messenger_local.gateway import LocalGateway
from tests.support import RELAXED_LIMITS, ROOT

# The relay runs every second locally so the outage test does not wait a minute (a parameter
# override, as `sam deploy --parameter-overrides` would do).
FAST_RELAY = {"OutboxRelaySchedule": "rate(1 second)"}
QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_SERVICE_NAME": "e2e"}


def start_gateway(
    env: dict[str, str],
    name: str,
    *,
    triggers: bool = True,
    parameters: dict[str, str] | None = None,
) -> LocalGateway:
    """A gateway over template.yaml. A second gateway on the session's broker must not run the
    MSK triggers and schedules (`triggers=False`): its consumers would join the session
    gateway's consumer groups, and every join and leave stalls consumption in a rebalance.
    `parameters` default to the fast relay with the per-user rate limits lifted (tests send
    fast on purpose; test_limits_http.py runs a gateway with the real defaults)."""
    return LocalGateway(
        ROOT / "template.yaml",
        parameters={**FAST_RELAY, **RELAXED_LIMITS} if parameters is None else parameters,
        env={**env, **QUIET},
        port=0,
        ws_port=0,
        state_dir=ROOT / ".local" / name,
        function_log_dir=ROOT / ".local" / name / "logs",
        enable_kafka=triggers,
        enable_schedules=triggers,
    ).start()


@pytest.fixture
def api(gateway: LocalGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=15) as client:
        yield client
