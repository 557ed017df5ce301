"""The realtime context's public queries, for other contexts (friends: who is online)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uuid
    from collections.abc import Iterable


def online_among(user_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The users holding at least one live WebSocket connection (one BatchGetItem per 100, the
    batches concurrent)."""
    wanted = list(user_ids)
    if not wanted:
        return set()
    # Imported here: a function asking this pays for pynamodb/botocore only on its first call.
    from pynamodb.exceptions import PynamoDBException

    from messenger.platform.deadline import DeadlineExceeded
    from messenger.platform.observability import logger
    from messenger.realtime.adapters.store import DynamoConnections

    try:
        return {c.user_id for c in DynamoConnections().of_users(wanted, int(time.time()))}
    except (PynamoDBException, DeadlineExceeded) as exc:
        # Presence is a hint: degrade to "offline", never fail.
        logger.warning("Presence unavailable", extra={"error": repr(exc)})
        return set()
