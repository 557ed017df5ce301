"""The execution environment's Postgres connection: opened on first use, reused, reopened once.

One connection per environment is what Lambda needs (one request at a time); RDS Proxy pools them
in AWS, which is also why server-side prepared statements are off (they would pin connections).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import psycopg

from messenger.errors import register_unavailable
from messenger.observability import logger
from messenger.secrets import database_url

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

register_unavailable(psycopg.OperationalError)

_connection: psycopg.Connection | None = None


def connection() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed or _connection.broken:
        _connection = psycopg.connect(
            database_url(), autocommit=True, connect_timeout=3, prepare_threshold=None
        )
    return _connection


def transact(work: Callable[[psycopg.Connection], T]) -> T:
    """Run `work` in one transaction, on a fresh connection once more if the reused one had died.

    A broken connection means the transaction never committed, so the retry cannot double-apply.
    """
    for attempt in (1, 2):
        conn = connection()
        try:
            with conn.transaction():
                return work(conn)
        except psycopg.OperationalError:
            if attempt == 2 or not conn.broken:
                raise
            logger.warning("Postgres connection was broken; reconnecting once")
    raise AssertionError("unreachable")
