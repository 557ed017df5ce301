"""The execution environment's Redis client (ElastiCache in AWS), made on first use and reused,
and the one Redis-down policy: what a caller that can do without Redis catches (`REDIS_DOWN`).

Adapters receive `client` (the getter, not a client: nothing is made before the first command)
from messenger.bootstrap.

Every command waits at most a second (socket timeouts), is retried once only when the pooled
connection turned out dead (a Redis restart or failover: the retry runs on a fresh connection),
never after a timeout (a hung server would double the wait), and none starts once the invocation
has no time left (messenger.platform.deadline).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import redis as redis_driver
from redis.backoff import NoBackoff
from redis.retry import Retry

from messenger.kernel.errors import register_unavailable
from messenger.platform import deadline
from messenger.platform.settings import get_settings

REDIS_DOWN = (
    redis_driver.exceptions.ConnectionError,
    redis_driver.exceptions.TimeoutError,
    deadline.DeadlineExceeded,
)
"""What a Redis call raises when Redis cannot answer (in time): callers that can do without Redis
(a cache falling back to its store, a limiter failing open, a best-effort log) catch exactly
these, log a warning and carry on; everything else propagates."""

register_unavailable(redis_driver.exceptions.ConnectionError, redis_driver.exceptions.TimeoutError)

COMMAND_TIMEOUT_SECONDS = 1.0

RedisClient = Callable[[], redis_driver.Redis]
"""How adapters receive Redis: a getter called per command or pipeline (`client` below)."""

_client: redis_driver.Redis | None = None


def client() -> redis_driver.Redis:
    """The client, for one command or pipeline (raises DeadlineExceeded when no time is left)."""
    global _client
    deadline.seconds_left(COMMAND_TIMEOUT_SECONDS)
    if _client is None:
        _client = make_client(get_settings().require("redis_url"))
    return _client


def make_client(url: str) -> redis_driver.Redis:
    settings = get_settings()
    tls: dict[str, str] = {}
    if url.startswith("rediss://") and settings.redis_ssl_ca_certs:
        # ElastiCache (TLS only): verify the server against the certs layer's bundle.
        tls = {"ssl_ca_certs": settings.redis_ssl_ca_certs, "ssl_cert_reqs": "required"}
    return redis_driver.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=COMMAND_TIMEOUT_SECONDS,
        socket_connect_timeout=COMMAND_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis_driver.exceptions.ConnectionError,)),
        health_check_interval=30,
        **tls,
    )


# ElastiCache Serverless shards keys across slots and refuses multi-key commands whose keys hash to
# different slots (CROSSSLOT). Reading or dropping several keys is therefore a pipeline of
# single-key commands: one round trip, valid on any topology.


def get_many(redis: redis_driver.Redis, keys: Sequence[str]) -> list[Any]:
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.get(key)
    return list(pipe.execute())


def delete_many(redis: redis_driver.Redis, keys: Iterable[str]) -> None:
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.delete(key)
    pipe.execute()
