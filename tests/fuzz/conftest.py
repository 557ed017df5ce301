"""The fuzz tier: schemathesis against docs/openapi.json, through the session's local gateway.

`world` makes what the generated requests need to reach real data: a logged-in user with a
friend, a direct chat between them and a message in it; the test's hooks draw those real ids
as often as generated ones, so that the chat and friend routes are exercised past their 404s.
The run's totals are printed at the end of the session.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.flows import bearer, befriend, signed_up

# Fuzzing examples per operation (the examples and coverage phases add a bounded number of
# their own). FUZZ_MAX_EXAMPLES raises it for a longer local run.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))

TOTALS: Counter[str] = Counter()
STATUSES: dict[str, Counter[int]] = {}
FINDINGS: list[str] = []
WORLD: dict[str, Any] = {}


@pytest.fixture(scope="session")
def world(gateway: Any) -> Iterator[dict[str, Any]]:
    # One warm environment per route first, one at a time: cold starts all at once on a loaded
    # machine can outlast the init limit, and an init timeout is not what this tier looks for.
    for function_id in sorted({route.function for route in gateway.template.routes}):
        try:
            gateway.prewarm(function_id)
        except Exception:  # an init that timed out under load: once more, then let the run tell
            gateway.prewarm(function_id)
    with httpx.Client(base_url=gateway.url, timeout=30) as api:
        me, friend = signed_up(api), signed_up(api)
        befriend(api, me, friend)
        chat = api.post(
            "/v1/chats",
            json={"participants": [friend["user_id"]]},
            headers=bearer(me["access_token"]),
        )
        assert chat.status_code == 201, chat.text
        chat_id = chat.json()["chat_id"]
        message = api.post(
            f"/v1/chats/{chat_id}/messages",
            json={"content": "hello", "client_message_id": "fuzz-1"},
            headers=bearer(me["access_token"]),
        )
        assert message.status_code == 201, message.text
    WORLD.update(
        base_url=gateway.url,
        me=me,
        friend=friend,
        chat_id=chat_id,
        message_id=message.json()["message_id"],
    )
    yield WORLD
    WORLD.clear()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TOTALS["requests"]:
        return
    terminalreporter.write_sep("-", "fuzz totals")
    terminalreporter.write_line(
        f"fuzz: {TOTALS['requests']} requests to {TOTALS['operations']} operations"
        f" (max {MAX_EXAMPLES} fuzzed examples each), {TOTALS['5xx']} 5xx,"
        f" {TOTALS['violations']} schema violations"
    )
    for operation in sorted(STATUSES):
        seen = ", ".join(f"{s}: {n}" for s, n in sorted(STATUSES[operation].items()))
        terminalreporter.write_line(f"  {operation}  {seen}")
    for finding in sorted(set(FINDINGS)):
        terminalreporter.write_line(f"  {finding}")
