"""The execution environment's Postgres connection: opened on first use, reused, reopened once.

One connection per environment is what Lambda needs (one request at a time); RDS Proxy pools them
in AWS, which is also why server-side prepared statements are off (they would pin connections).

Outages, bounded by the invocation's deadline (messenger.platform.deadline):
- connecting waits at most CONNECT_TIMEOUT_SECONDS and never past the deadline;
- every wait on the server (statements, COMMIT) ends at the deadline: the connection, left in an
  unknown state, is closed and the call fails as unavailable (a hung server answers 503, never a
  Lambda timeout);
- a connection the server dropped while it sat idle (a restart, a failover, an idle timeout) is
  seen before the next statement is sent (its socket is readable: the server's goodbye or EOF)
  and replaced, so that statement runs once on a fresh connection: nothing was sent on the dead
  one, so nothing can apply twice;
- `transact` retries its whole transaction once on a fresh connection when the connection broke
  mid-transaction (an uncommitted transaction is gone with its connection).
"""

from __future__ import annotations

import math
import select
import time
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from psycopg import pq

from messenger.kernel.errors import register_unavailable
from messenger.platform import deadline
from messenger.platform.observability import logger
from messenger.platform.secrets import database_url

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

CONNECT_TIMEOUT_SECONDS = 3.0

register_unavailable(psycopg.OperationalError)


class DeadlineConnection(psycopg.Connection[Any]):
    """A connection whose every wait on the server ends at the invocation's deadline."""

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        if timeout is not None or not deadline.active():
            return super().wait(gen, interval=interval, timeout=timeout)
        # Even with no time left the wait gets a moment (never an exception from inside
        # psycopg's own bookkeeping, e.g. a ROLLBACK on the way out of a transaction).
        timeout = max(deadline.seconds_left_or_zero(), deadline.MIN_CALL_SECONDS)
        started = time.monotonic()
        try:
            return super().wait(gen, interval=interval, timeout=timeout)
        except psycopg.OperationalError:
            if time.monotonic() - started >= timeout and not self.closed:
                # Out of time mid-conversation: the connection's state is unknown; drop it.
                logger.warning("Postgres did not answer before the deadline; closing")
                self.pgconn.finish()
            raise


_connection: psycopg.Connection[Any] | None = None


def _dropped_while_idle(conn: psycopg.Connection[Any]) -> bool:
    """An idle connection has nothing to read, unless the server said goodbye or hung up."""
    if conn.pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    try:
        readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    except (OSError, ValueError, psycopg.OperationalError):
        return True
    return bool(readable)


def _connect() -> psycopg.Connection[Any]:
    # libpq counts whole seconds, at least 2; past the deadline nothing is attempted.
    timeout = max(2, math.floor(deadline.seconds_left(CONNECT_TIMEOUT_SECONDS)))
    return DeadlineConnection.connect(
        database_url(), autocommit=True, connect_timeout=timeout, prepare_threshold=None
    )


def connection() -> psycopg.Connection[Any]:
    global _connection
    if _connection is not None and not (_connection.closed or _connection.broken):
        if not _dropped_while_idle(_connection):
            return _connection
        logger.warning("Postgres dropped the idle connection; reconnecting")
        _connection.close()
    _connection = _connect()
    return _connection


def transact(work: Callable[[psycopg.Connection[Any]], T]) -> T:
    """Run `work` in one transaction, on a fresh connection once more if the reused one had died.

    A broken connection means the transaction never committed, so the retry cannot double-apply.
    """
    for attempt in (1, 2):
        conn = connection()
        try:
            with conn.transaction():
                return work(conn)
        except psycopg.OperationalError:
            if attempt == 2 or not conn.broken or not deadline.has_time():
                raise
            logger.warning("Postgres connection was broken; reconnecting once")
    raise AssertionError("unreachable")
