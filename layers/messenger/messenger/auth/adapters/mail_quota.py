"""Mail quotas in Redis: one slot per interval (SET NX EX) and fixed-window counts (INCR)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from messenger.platform.redis import RedisClient


class RedisMailQuota:
    def __init__(self, redis: RedisClient) -> None:
        self.redis = redis

    def wait_before(self, key: str, interval_seconds: int) -> int | None:
        client = self.redis()
        if client.set(f"mail-quota:{key}", "1", ex=interval_seconds, nx=True):
            return None
        return max(1, int(client.ttl(f"mail-quota:{key}")))

    def within(self, key: str, limit: int, window_seconds: int) -> bool:
        pipe = self.redis().pipeline(transaction=True)
        pipe.incr(f"mail-quota:{key}")
        pipe.expire(f"mail-quota:{key}", window_seconds, nx=True)
        count, _ = pipe.execute()
        return int(count) <= limit
