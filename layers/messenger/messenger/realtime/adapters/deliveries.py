"""Which connections already received an event, in Redis, for the event's retries only.

Best effort by design: with Redis down nothing is remembered and a retried event may reach a
connection twice (clients dedupe by message id); it is never lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from messenger.platform.observability import logger
from messenger.platform.redis import REDIS_DOWN

if TYPE_CHECKING:
    from collections.abc import Iterable

    from messenger.platform.redis import RedisClient

TTL_SECONDS = 3600


def _key(event_id: str) -> str:
    return f"push-served:v1:{event_id}"


class RedisDeliveryLog:
    def __init__(self, redis: RedisClient) -> None:
        self.redis = redis

    def served(self, event_id: str) -> set[str]:
        try:
            return {str(m) for m in self.redis().smembers(_key(event_id))}
        except REDIS_DOWN as exc:
            logger.warning("Delivery log unavailable", extra={"error": repr(exc)})
            return set()

    def remember(self, event_id: str, connection_ids: Iterable[str]) -> None:
        members = list(connection_ids)
        if not members:
            return
        try:
            pipe = self.redis().pipeline()
            pipe.sadd(_key(event_id), *members)
            pipe.expire(_key(event_id), TTL_SECONDS)
            pipe.execute()
        except REDIS_DOWN as exc:
            logger.warning("Delivery log unavailable", extra={"error": repr(exc)})
