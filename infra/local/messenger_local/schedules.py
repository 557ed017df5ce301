"""Schedule / ScheduleV2 events: invoke the function every rate(N unit), like EventBridge does."""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from typing import Any

from messenger_local.runtime import LambdaRuntime
from messenger_local.template import ACCOUNT_ID, REGION, Schedule

log = logging.getLogger("messenger_local.schedules")

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^rate\(\s*(\d+(?:\.\d+)?)\s+(second|minute|hour|day)s?\s*\)$", re.IGNORECASE)


def rate_seconds(expression: str) -> float | None:
    """Seconds between runs for rate(...); None for cron(...)/at(...), not emulated locally.

    AWS accepts minutes and up only; seconds are accepted here for local overrides and tests.
    """
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


def scheduled_event(schedule: Schedule) -> Any:
    """The EventBridge "Scheduled Event" (or the configured Input, which replaces it)."""
    if schedule.input is not None:
        import json

        return json.loads(schedule.input) if isinstance(schedule.input, str) else schedule.input
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": REGION,
        "resources": [
            f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{schedule.function}-{schedule.event_name}"
        ],
        "detail": {},
    }


class Schedules:
    """One timer thread per rate schedule; a run that overlaps the next tick delays it."""

    def __init__(self, schedules: list[Schedule], runtime: LambdaRuntime) -> None:
        self.runtime = runtime
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.runs: dict[str, int] = {}
        self.plan: list[tuple[Schedule, float]] = []
        for schedule in schedules:
            if not schedule.enabled:
                continue
            seconds = rate_seconds(schedule.expression)
            if seconds is None or seconds <= 0:
                log.warning(
                    "%s: schedule %r is not emulated locally (only rate(...)); invoke it by hand",
                    schedule.function,
                    schedule.expression,
                )
                continue
            self.plan.append((schedule, seconds))

    def start(self) -> None:
        for schedule, seconds in self.plan:
            thread = threading.Thread(
                target=self._run,
                args=(schedule, seconds),
                name=f"schedule-{schedule.function}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def _run(self, schedule: Schedule, seconds: float) -> None:
        next_run = time.monotonic() + seconds
        while not self._stop.wait(max(0.0, next_run - time.monotonic())):
            result = self.runtime.invoke(schedule.function, scheduled_event(schedule))
            key = f"{schedule.function}.{schedule.event_name}"
            self.runs[key] = self.runs.get(key, 0) + 1
            if not result.ok and not self._stop.is_set():
                log.error("%s: scheduled run failed: %s", schedule.function, result.error_payload())
            next_run = max(next_run + seconds, time.monotonic())

    def signal_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
