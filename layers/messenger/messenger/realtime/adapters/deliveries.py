"""Which connections already received an event, in Redis, for the event's retries only.

Best effort by design: with Redis down nothing is remembered and a retried event may reach a
connection twice (clients dedupe by message id); it is never lost.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis as redis_driver

from messenger.platform.cache import redis
from messenger.platform.observability import logger

TTL_SECONDS = 3600
_REDIS_DOWN = (redis_driver.exceptions.ConnectionError, redis_driver.exceptions.TimeoutError)


def _key(event_id: str) -> str:
    return f"push-served:v1:{event_id}"


class RedisDeliveryLog:
    def served(self, event_id: str) -> set[str]:
        try:
            return {str(m) for m in redis().smembers(_key(event_id))}
        except _REDIS_DOWN as exc:
            logger.warning("Delivery log unavailable", extra={"error": repr(exc)})
            return set()

    def remember(self, event_id: str, connection_ids: Iterable[str]) -> None:
        members = list(connection_ids)
        if not members:
            return
        try:
            pipe = redis().pipeline()
            pipe.sadd(_key(event_id), *members)
            pipe.expire(_key(event_id), TTL_SECONDS)
            pipe.execute()
        except _REDIS_DOWN as exc:
            logger.warning("Delivery log unavailable", extra={"error": repr(exc)})
