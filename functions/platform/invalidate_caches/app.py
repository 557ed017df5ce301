"""MSK consumer of user, friendship and chat events: drops the cached views they make stale
(profiles; friends and blocks; a group's membership after a member change).

The request path already invalidates right after its commit; this is the second chance for an
execution environment that died in between. Deleting a key twice is harmless, so redeliveries
need no dedupe.
"""

from __future__ import annotations

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import kafka_entrypoint

# isort: split
from messenger.bootstrap import cache_invalidation
from messenger.chats.events import ChatMemberAdded, ChatMemberRemoved, ChatUpdated, MembersChanged
from messenger.friends.events import (
    BLOCK_EVENTS,
    FRIENDSHIP_EVENTS,
    BlockChanged,
    FriendshipChanged,
)
from messenger.kernel.events import EventEnvelope
from messenger.users.events import ProfileUpdated

users, friends, chats = cache_invalidation()


def invalidate(event: EventEnvelope) -> None:
    data = event.parse(
        ProfileUpdated,
        *FRIENDSHIP_EVENTS,
        *BLOCK_EVENTS,
        ChatMemberAdded,
        ChatMemberRemoved,
        ChatUpdated,
    )
    if isinstance(data, ProfileUpdated):
        users.forget_profile(data.user_id)
    elif isinstance(data, FriendshipChanged):
        friends.forget(data.from_user_id, data.to_user_id)
    elif isinstance(data, BlockChanged):  # both users' block sets (and relations)
        friends.forget(data.user_id, data.blocked_user_id)
    elif isinstance(data, (MembersChanged, ChatUpdated)):  # members or roles changed
        chats.forget(data.chat_id)


lambda_handler = kafka_entrypoint(invalidate)
