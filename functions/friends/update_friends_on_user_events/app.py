"""MSK consumer of `user-events` (friends): `user.profile_updated` moves the user to their new
nickname's place in every friend list; `user.deleted` erases their friendships, requests, blocks
and friend-list rows, both ways, and the cached sets they were in. Idempotent; other event types
are skipped. One consumer for both keeps them in the partition's order (decision 62)."""

from __future__ import annotations

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import kafka_entrypoint

# isort: split
from messenger.bootstrap import friends_consumers
from messenger.kernel.events import EventEnvelope
from messenger.platform.observability import logger
from messenger.users.events import ProfileUpdated, UserDeleted

friends = friends_consumers()


def apply(event: EventEnvelope) -> None:
    data = event.parse(ProfileUpdated, UserDeleted)
    if isinstance(data, UserDeleted):
        removed = friends.erase_user(data.user_id)
        logger.info("Friendships erased", extra={"user_id": str(data.user_id), "rows": removed})
    elif isinstance(data, ProfileUpdated):
        moved = friends.follow_nickname(data.user_id, data.nickname, data.updated_at)
        if moved:
            logger.info(
                "Friend lists reordered", extra={"user_id": str(data.user_id), "rows": moved}
            )


lambda_handler = kafka_entrypoint(apply)
