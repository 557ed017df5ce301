"""MSK consumer of `user.deleted` (realtime): every WebSocket connection of the user forgotten
(DynamoDB) and closed. Idempotent; other event types are skipped."""

from __future__ import annotations

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import kafka_entrypoint

# isort: split
from messenger.bootstrap import connection_erasure
from messenger.kernel.events import EventEnvelope
from messenger.platform.observability import logger
from messenger.users.events import UserDeleted

realtime = connection_erasure()


def erase(event: EventEnvelope) -> None:
    deleted = event.parse(UserDeleted)
    if deleted is None:
        return
    closed = realtime.close_user(deleted.user_id)
    logger.info("Connections erased", extra={"user_id": str(deleted.user_id), "closed": closed})


lambda_handler = kafka_entrypoint(erase)
