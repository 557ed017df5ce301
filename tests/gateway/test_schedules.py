"""Schedule events fire at their rate with an EventBridge-shaped event."""

from __future__ import annotations

from pathlib import Path

import pytest

from messenger_local.gateway import LocalGateway
from messenger_local.schedules import rate_seconds

from .conftest import FIXTURE_TEMPLATE, read_jsonl, reference, wait_for

pytestmark = pytest.mark.integration


def test_rate_expressions() -> None:
    assert rate_seconds("rate(1 minute)") == 60
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("rate(2 seconds)") == 2
    assert rate_seconds("rate(1 hour)") == 3600
    assert rate_seconds("cron(0 12 * * ? *)") is None


def test_schedule_fires(tmp_path: Path) -> None:
    gateway = LocalGateway(
        FIXTURE_TEMPLATE,
        parameters={"TickRate": "rate(1 second)"},
        env={"OUT_DIR": str(tmp_path)},
        port=0,
        state_dir=tmp_path,
        enable_kafka=False,
    )
    with gateway:
        ticks = wait_for(
            lambda: (
                len(read_jsonl(tmp_path / "ticks.jsonl")) >= 2
                and read_jsonl(tmp_path / "ticks.jsonl")
            ),
            timeout=10,
            what="two ticks",
        )
    event = ticks[0]
    assert set(reference("sam_scheduled_event.json")) <= set(event)
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
