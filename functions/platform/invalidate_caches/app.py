"""MSK consumer of user and friendship events: drops the cached views they make stale.

The request path already invalidates right after its commit; this is the second chance for an
execution environment that died in between. Deleting a key twice is harmless, so redeliveries
need no dedupe.
"""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import process_kafka_batch

# isort: split
from messenger.bootstrap import cache_invalidation
from messenger.platform.events import EventEnvelope
from messenger.platform.observability import logger

users, friends = cache_invalidation()


def invalidate(event: EventEnvelope) -> None:
    if event.type == "user.profile_updated":
        users.forget_profile(uuid.UUID(str(event.data["user_id"])))
    elif event.type.startswith("friendship."):
        friends.forget(
            uuid.UUID(str(event.data["from_user_id"])), uuid.UUID(str(event.data["to_user_id"]))
        )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_kafka_batch(event, context, invalidate)
