"""MSK consumer of `user.deleted` (chats): the user's messages become tombstones (keeping their
author_id; `message.deleted` each, so their files go and participants are told), then the user
leaves every chat. Idempotent; other event types are skipped."""

from __future__ import annotations

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import kafka_entrypoint

# isort: split
from messenger.bootstrap import chats_erasure
from messenger.kernel.events import EventEnvelope
from messenger.platform.observability import logger
from messenger.users.events import UserDeleted

chats = chats_erasure()


def erase(event: EventEnvelope) -> None:
    deleted = event.parse(UserDeleted)
    if deleted is None:
        return
    done = chats.erase_user(deleted.user_id, str(event.id))
    logger.info(
        "Chats erased",
        extra={
            "user_id": str(deleted.user_id),
            "tombstoned": done.tombstoned,
            "left": done.left,
            "events_dropped": done.events_dropped,
        },
    )


lambda_handler = kafka_entrypoint(erase)
