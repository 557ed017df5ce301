"""Login throttling in Redis: failures counted per (email, client IP) and per email, fixed windows.

A client is refused (429) once its own (email, IP) pair reached `max_failures` in the window, or
once the email as a whole reached `max_failures_per_email` (a much higher ceiling against guessing
from many addresses). So an attacker who knows an email locks out only themselves: the owner,
from another address, still logs in. A correct password clears only that client's count; the
per-email count runs out with its window (else each success would hand a distributed guesser a
fresh ceiling).

Both keys of an email share a hash tag, so they live in one slot: the failure's two counters are
updated in one MULTI, which ElastiCache Serverless accepts (decision "No multi-key Redis commands").
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from messenger.platform.redis import RedisClient


def _digest(value: str) -> str:
    # Hashed so the cache never holds addresses (email or IP) in clear.
    return hashlib.sha256(value.encode()).hexdigest()


def email_key(email: str) -> str:
    return "login-failures:{" + _digest(email) + "}"


def client_key(email: str, client_ip: str) -> str:
    return email_key(email) + ":" + _digest(client_ip)


class RedisLoginThrottle:
    def __init__(
        self,
        max_failures: int,
        max_failures_per_email: int,
        window_seconds: int,
        redis: RedisClient,
    ) -> None:
        self.redis = redis
        self.max_failures = max_failures
        self.max_failures_per_email = max_failures_per_email
        self.window_seconds = window_seconds

    def retry_after(self, email: str, client_ip: str) -> int | None:
        keys = (client_key(email, client_ip), email_key(email))
        pipe = self.redis().pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
            pipe.ttl(key)
        client_failures, client_ttl, email_failures, email_ttl = pipe.execute()
        waits = []
        if client_failures is not None and int(client_failures) >= self.max_failures:
            waits.append(int(client_ttl))
        if email_failures is not None and int(email_failures) >= self.max_failures_per_email:
            waits.append(int(email_ttl))
        return max(max(waits), 1) if waits else None

    def record_failure(self, email: str, client_ip: str) -> None:
        pipe = self.redis().pipeline(transaction=True)
        for key in (client_key(email, client_ip), email_key(email)):
            pipe.incr(key)
            pipe.expire(key, self.window_seconds, nx=True)
        pipe.execute()

    def reset(self, email: str, client_ip: str) -> None:
        self.redis().delete(client_key(email, client_ip))

    def clear(self, email: str, client_ip: str) -> None:
        # One slot (the hash tag): one DEL of both keys. Other clients' own counts run out with
        # their window: their keys are not enumerable without a SCAN.
        self.redis().delete(email_key(email), client_key(email, client_ip))
