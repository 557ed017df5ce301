"""The environment's Postgres connection after the server dropped it, and past the deadline."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from messenger.kernel import errors
from messenger.platform import deadline, postgres
from tests.support import poll

pytestmark = pytest.mark.integration


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def fresh_connection(in_process_env: dict[str, str]) -> Any:
    postgres._connection = None
    yield postgres.connection()
    if postgres._connection is not None:
        postgres._connection.close()
    postgres._connection = None


def test_a_connection_dropped_while_idle_is_replaced_before_the_next_statement(
    fresh_connection: Any, db: psycopg.Connection
) -> None:
    old_pid = fresh_connection.info.backend_pid
    db.execute("SELECT pg_terminate_backend(%s)", (old_pid,))  # as a restart or failover does
    poll(
        lambda: (
            db.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (old_pid,)).fetchone()
            is None
        ),
        timeout=10,
    )
    row = postgres.connection().execute("SELECT pg_backend_pid()").fetchone()  # no error
    assert row is not None
    assert row[0] != old_pid


def test_a_statement_that_outlives_the_deadline_fails_as_unavailable_and_the_next_one_works(
    fresh_connection: Any,
) -> None:
    started = time.monotonic()
    with deadline.invocation(Context(2_000)), pytest.raises(psycopg.OperationalError) as failed:
        postgres.connection().execute("SELECT pg_sleep(5)")
    assert time.monotonic() - started < 1.8  # the deadline: 2 s minus the 1 s margin
    assert errors.is_unavailable(failed.value)
    assert fresh_connection.closed or fresh_connection.broken
    row = postgres.connection().execute("SELECT 1").fetchone()
    assert row == (1,)
