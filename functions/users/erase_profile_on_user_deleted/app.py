"""MSK consumer of `user.deleted` (users): the profile, if still there, and its cached copies.

Idempotent (a second erasure finds nothing); other event types on the topic are skipped.
"""

from __future__ import annotations

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import kafka_entrypoint

# isort: split
from messenger.bootstrap import profile_erasure_service
from messenger.kernel.events import EventEnvelope
from messenger.platform.observability import logger
from messenger.users.events import UserDeleted

erasure = profile_erasure_service()


def erase(event: EventEnvelope) -> None:
    deleted = event.parse(UserDeleted)
    if deleted is None:
        return
    if erasure.erase_user(deleted.user_id):
        logger.info("Profile erased", extra={"user_id": str(deleted.user_id)})


lambda_handler = kafka_entrypoint(erase)
