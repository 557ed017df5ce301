"""Login throttling in Redis: N failures per email within a fixed window, then 429 until it ends."""

from __future__ import annotations

import hashlib

from messenger.cache import redis


def _key(email: str) -> str:
    # Hashed so the cache never holds addresses in clear.
    return "login-failures:" + hashlib.sha256(email.encode()).hexdigest()


class RedisLoginThrottle:
    def __init__(self, max_failures: int, window_seconds: int) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds

    def retry_after(self, email: str) -> int | None:
        key = _key(email)
        pipe = redis().pipeline(transaction=False)
        pipe.get(key)
        pipe.ttl(key)
        failures, ttl = pipe.execute()
        if failures is not None and int(failures) >= self.max_failures:
            return max(int(ttl), 1)
        return None

    def record_failure(self, email: str) -> None:
        key = _key(email)
        pipe = redis().pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, self.window_seconds, nx=True)
        pipe.execute()

    def reset(self, email: str) -> None:
        redis().delete(_key(email))
