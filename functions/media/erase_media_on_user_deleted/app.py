"""MSK consumer of `user.deleted` (media): the user's avatar objects and uploads (objects and
records). Their messages' files go with each message's `message.deleted`. Idempotent; other
event types are skipped."""

from __future__ import annotations

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import kafka_entrypoint

# isort: split
from messenger.bootstrap import media_service
from messenger.kernel.events import EventEnvelope
from messenger.platform.observability import logger
from messenger.users.events import UserDeleted

media = media_service()


def erase(event: EventEnvelope) -> None:
    deleted = event.parse(UserDeleted)
    if deleted is None:
        return
    removed = media.erase_user(deleted.user_id)
    logger.info("Media erased", extra={"user_id": str(deleted.user_id), "objects": removed})


lambda_handler = kafka_entrypoint(erase)
