"""Postgres schema migrations with yoyo-migrations; the SQL lives beside this module.

Applied by `make dev`, by the tests, and in AWS by the MigrateDatabase function (the PreTraffic
hook), always before new code takes traffic. yoyo takes a lock, so concurrent runs are safe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from yoyo import get_backend, read_migrations

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def yoyo_uri(database_url: str) -> str:
    _scheme, sep, rest = database_url.partition("://")
    if not sep:
        raise ValueError("DATABASE_URL must be a URL (postgresql://...)")
    return f"postgresql+psycopg://{rest}"


def apply_migrations(database_url: str) -> list[str]:
    """Apply every pending migration; return the ids applied (empty when up to date)."""
    backend = get_backend(yoyo_uri(database_url))
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]


def apply_mongo_indexes(
    mongodb_uri: str, database: str, index_setups: Sequence[Callable[[Any], None]]
) -> None:
    """MongoDB has no schema to migrate; its indexes are created idempotently instead, by each
    setup (a Mongo-backed context's `ensure_indexes(db)`, handed over by messenger.bootstrap)."""
    import pymongo

    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        mongodb_uri, retryWrites=False, serverSelectionTimeoutMS=5000
    )
    try:
        for setup in index_setups:
            setup(client[database])
    finally:
        client.close()
