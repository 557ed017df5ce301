"""The GCRA limiter's Lua script against the real Redis: bursts, refill, isolation, fail open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from messenger.kernel.errors import RateLimited
from messenger.platform.ratelimit import (
    FRIEND_REQUEST,
    SEND_MESSAGE,
    Limit,
    RedisRateLimiter,
    limit_key,
)
from tests.support import poll, unique

pytestmark = pytest.mark.integration

LIMITS = {
    SEND_MESSAGE: Limit(rate=10, period_seconds=1, burst=20, detail="slow down"),
    FRIEND_REQUEST: Limit(rate=30, period_seconds=3600, burst=30, detail="later"),
}


@pytest.fixture
def client(backing_env: dict[str, str]) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(backing_env["REDIS_URL"], decode_responses=True) as made:
        yield made


@pytest.fixture
def limiter(client: redis.Redis) -> RedisRateLimiter:
    return RedisRateLimiter(LIMITS, redis=lambda: client)


def test_a_burst_passes_then_the_next_waits_one_interval(limiter: RedisRateLimiter) -> None:
    user = unique()
    assert [limiter.wait_ms(SEND_MESSAGE, user) for _ in range(20)] == [0] * 20
    wait = limiter.wait_ms(SEND_MESSAGE, user)
    assert 0 < wait <= 100  # one emission interval at 10/s (less what elapsed meanwhile)
    with pytest.raises(RateLimited) as refused:
        limiter.acquire(SEND_MESSAGE, user)
    assert refused.value.retry_after_seconds == 1  # rounded up to whole seconds
    assert refused.value.code == "rate_limited"


def test_refused_actions_are_not_counted_and_the_bucket_refills(
    limiter: RedisRateLimiter,
) -> None:
    user = unique()
    while limiter.wait_ms(SEND_MESSAGE, user) == 0:  # the burst, and what refilled meanwhile
        pass
    # Hammering while refused does not push the schedule further out: were refused calls
    # counted, each would add an interval (100 ms) to the wait. A token that refills during the
    # loop (a slow machine) is taken, and the next wait is one interval again, never more.
    waits = [limiter.wait_ms(SEND_MESSAGE, user) for _ in range(50)]
    assert max(waits) <= 100
    assert sum(1 for wait in waits if wait > 0) >= 25  # refused, but for a refill or few
    poll(lambda: limiter.wait_ms(SEND_MESSAGE, user) == 0, timeout=5, interval=0.02)


def test_users_and_limits_are_independent(limiter: RedisRateLimiter) -> None:
    ann, bob = unique(), unique()
    for _ in range(20):
        limiter.acquire(SEND_MESSAGE, ann)
    assert limiter.wait_ms(SEND_MESSAGE, ann) > 0
    assert limiter.wait_ms(SEND_MESSAGE, bob) == 0
    assert limiter.wait_ms(FRIEND_REQUEST, ann) == 0


def test_hourly_limit_retry_after_and_key_expiry(
    limiter: RedisRateLimiter, client: redis.Redis
) -> None:
    user = unique()
    for _ in range(30):
        limiter.acquire(FRIEND_REQUEST, user)
    with pytest.raises(RateLimited) as refused:
        limiter.acquire(FRIEND_REQUEST, user)
    assert refused.value.retry_after_seconds == 120  # one request every 2 minutes
    ttl_ms: Any = client.pttl(limit_key(FRIEND_REQUEST, user))
    assert 3_590_000 < ttl_ms <= 3_600_000, "the key lives until the bucket is full again"


def test_redis_down_fails_open_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    limiter = RedisRateLimiter(LIMITS, redis=lambda: dead)
    user = unique()
    for _ in range(25):  # over the burst: still allowed, as nothing can count them
        limiter.acquire(SEND_MESSAGE, user)
    warned = [r for r in caplog.records if "rate limiter unavailable" in r.getMessage()]
    assert len(warned) == 25
    assert all(r.levelname == "WARNING" for r in warned)
