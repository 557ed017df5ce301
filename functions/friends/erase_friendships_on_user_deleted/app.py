"""MSK consumer of `user.deleted` (friends): the user's friendships and requests, both ways,
and the cached friend sets they were in. Idempotent; other event types are skipped."""

from __future__ import annotations

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import kafka_entrypoint

# isort: split
from messenger.bootstrap import friends_erasure
from messenger.kernel.events import EventEnvelope
from messenger.platform.observability import logger
from messenger.users.events import UserDeleted

erasure = friends_erasure()


def erase(event: EventEnvelope) -> None:
    deleted = event.parse(UserDeleted)
    if deleted is None:
        return
    removed = erasure.erase_user(deleted.user_id)
    logger.info("Friendships erased", extra={"user_id": str(deleted.user_id), "rows": removed})


lambda_handler = kafka_entrypoint(erase)
