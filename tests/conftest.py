"""Session-wide real services for the integration and e2e tiers (never for unit tests).

Postgres and Redis are the machine's (or embedded ones when absent); Kafka is a tansu broker
started for the session. Each session gets a fresh Postgres database with the migrations applied
and a Redis database index of its own; Redis is not flushed (every key a test makes is unique to
it, and a concurrent run on the same machine must not lose its keys). Everything started here
stops at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from messenger_local.services import LocalServices, drop_database
from tests.support import ROOT, prepare_backing

TEST_REDIS_DB = 13


def _with_redis_db(url: str, db: int) -> str:
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    return f"{base}/{db}"


@pytest.fixture(scope="session")
def services() -> Iterator[LocalServices]:
    with LocalServices(
        state_dir=ROOT / ".local" / "test",
        services=("postgres", "redis", "kafka", "mongodb", "dynamodb"),
    ) as running:
        yield running


@pytest.fixture(scope="session")
def backing_env(services: LocalServices) -> Iterator[dict[str, str]]:
    """Service URLs for the functions: a fresh migrated database, a dedicated Redis db."""
    env = prepare_backing(
        services, "test", redis_url=_with_redis_db(services.redis_url, TEST_REDIS_DB)
    )
    yield env
    drop_database(env["DATABASE_URL"])


@pytest.fixture(scope="session")
def gateway(backing_env: dict[str, str]) -> Iterator[Any]:
    """The session's local gateway with its MSK triggers (e2e and fuzz share it: a second one
    on the same broker would join the consumer groups and stall them in rebalances)."""
    from tests.e2e.conftest import start_gateway

    running = start_gateway(backing_env, "e2e")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def in_process_env(backing_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The environment the in-process handlers read (settings are read once, on first use)."""
    from messenger.platform.secrets import database_url, mongodb_uri
    from messenger.platform.settings import get_settings

    saved = dict(os.environ)
    os.environ.update(
        backing_env,
        POWERTOOLS_SERVICE_NAME="tests",
        POWERTOOLS_LOG_LEVEL="WARNING",
        POWERTOOLS_METRICS_NAMESPACE="Messenger",
    )
    for cached in (get_settings, database_url, mongodb_uri):
        cached.cache_clear()
    yield backing_env
    os.environ.clear()
    os.environ.update(saved)
    for cached in (get_settings, database_url, mongodb_uri):
        cached.cache_clear()


@pytest.fixture
def db(in_process_env: dict[str, str]) -> Iterator[Any]:
    """A direct connection to the test database, for asserting what was (not) written."""
    import psycopg

    with psycopg.connect(in_process_env["DATABASE_URL"], autocommit=True) as conn:
        yield conn
