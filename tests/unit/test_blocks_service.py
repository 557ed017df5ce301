"""Blocks as the other contexts see them (issue 14): the friends context's public queries, the
friend-request refusal, and the chats use-cases' filters (direct chats refused, a group's
history and unread counts without the blocked author), with fakes."""

from __future__ import annotations

import uuid

import pytest

from messenger.chats.models import Chat, SendMessageRequest
from messenger.chats.service import ChatsService
from messenger.friends.api import FriendsApi
from messenger.friends.service import BlockSets, Relations, refuse_blocked_request
from messenger.kernel.clock import utcnow
from messenger.kernel.context import RequestContext
from messenger.kernel.errors import Forbidden, NotFound
from tests.unit.chat_fakes import FakeChatStore, FakeFriends
from tests.unit.fakes import FakeOutbox, FakeRateLimiter

pytestmark = pytest.mark.unit

ANN, BOB, CAT = (uuid.uuid4() for _ in range(3))


class Relationships:
    """The cached store's two queries, counting reads (one per question)."""

    def __init__(self, blocks: set[tuple[uuid.UUID, uuid.UUID]]) -> None:
        self.blocks = blocks
        self.reads = 0

    def relations(self, user: uuid.UUID) -> Relations:
        return Relations({}, [])

    def block_sets(self, user: uuid.UUID) -> BlockSets:
        self.reads += 1
        return BlockSets(
            blocked=frozenset(str(b) for a, b in self.blocks if a == user),
            blockers=frozenset(str(a) for a, b in self.blocks if b == user),
        )

    def forget(self, *users: uuid.UUID) -> None: ...


def test_who_blocked_answers_from_one_read_of_the_authors_blocks() -> None:
    store = Relationships({(BOB, ANN), (CAT, BOB), (ANN, CAT)})
    api = FriendsApi(store)
    assert api.who_blocked(ANN, [BOB, CAT]) == {BOB}
    assert store.reads == 1
    assert api.who_blocked(ANN, []) == set()
    assert api.who_blocked(CAT, [ANN, BOB]) == {ANN}


def test_blocked_by_is_whom_the_user_blocked_not_who_blocked_them() -> None:
    api = FriendsApi(Relationships({(BOB, ANN), (BOB, CAT), (CAT, BOB)}))
    assert api.blocked_by(BOB) == {ANN, CAT}
    assert api.blocked_by(ANN) == set()
    assert api.either_blocked(ANN, BOB)
    assert api.either_blocked(BOB, ANN)
    assert not api.either_blocked(ANN, CAT)


def test_a_blocked_user_asking_the_blocker_is_told_the_blocker_does_not_exist() -> None:
    with pytest.raises(NotFound) as refused:
        refuse_blocked_request(frozenset({BOB}), ANN)  # BOB blocked ANN, ANN asks
    assert refused.value.code == "user_not_found"
    with pytest.raises(NotFound):
        refuse_blocked_request(frozenset({ANN, BOB}), ANN)  # both: still "does not exist"
    with pytest.raises(Forbidden) as own:
        refuse_blocked_request(frozenset({ANN}), ANN)  # ANN blocked BOB: unblock first
    assert own.value.code == "blocked"
    refuse_blocked_request(frozenset(), ANN)  # no block: nothing refused


class World:
    def __init__(self) -> None:
        self.store = FakeChatStore()
        self.friends = FakeFriends()
        self.chats = ChatsService(self.store, self.friends, FakeOutbox(), FakeRateLimiter())

    def chat(self, *members: uuid.UUID) -> uuid.UUID:
        chat = Chat(
            chat_id=uuid.uuid4(),
            type="direct" if len(members) == 2 else "group",
            title="g" if len(members) > 2 else None,
            participants=list(members),
            created_by=members[0],
            created_at=utcnow(),
            last_message=None,
            unread_count=0,
        )
        self.store.add_chat(chat)
        return chat.chat_id

    def send(self, author: uuid.UUID, chat_id: uuid.UUID, text: str) -> None:
        self.chats.send(RequestContext(user_id=author), chat_id, SendMessageRequest(content=text))

    def history(self, reader: uuid.UUID, chat_id: uuid.UUID) -> list[str | None]:
        page = self.chats.history(RequestContext(user_id=reader), chat_id, 50, None)
        return [m.content for m in page.items]


def test_a_direct_chat_with_a_block_refuses_both_sides_with_blocked() -> None:
    world = World()
    chat = world.chat(ANN, BOB)
    world.send(ANN, chat, "before")
    world.friends.block(BOB, ANN)
    for sender in (ANN, BOB):
        with pytest.raises(Forbidden) as refused:
            world.send(sender, chat, "after")
        assert refused.value.code == "blocked"
    assert world.history(BOB, chat) == ["before"]  # a direct chat's history stays


def test_a_former_friend_without_a_block_is_still_not_friends() -> None:
    world = World()
    chat = world.chat(ANN, BOB)
    world.friends.strangers.add(frozenset((ANN, BOB)))
    with pytest.raises(Forbidden) as refused:
        world.send(ANN, chat, "hi")
    assert refused.value.code == "not_friends"


def test_in_a_group_the_blocker_neither_sees_nor_counts_the_blocked_authors_messages() -> None:
    world = World()
    chat = world.chat(ANN, BOB, CAT)
    world.send(ANN, chat, "one")
    world.friends.block(CAT, ANN)
    world.send(ANN, chat, "two")
    world.send(BOB, chat, "three")
    assert world.history(CAT, chat) == ["three"]
    assert world.history(BOB, chat) == ["three", "two", "one"]  # others see them as usual
    assert world.store.unread[chat][CAT] == 2  # "one" (before the block) and "three"
    assert world.store.unread[chat][BOB] == 2
    # Reading up to what CAT sees recounts without the blocked author's later messages.
    world.send(ANN, chat, "five")
    last_seen = world.chats.history(RequestContext(user_id=CAT), chat, 1, None).items[0]
    world.chats.mark_read(RequestContext(user_id=CAT), chat, last_seen.message_id)
    assert world.store.unread[chat][CAT] == 0
    world.send(CAT, chat, "four")  # the blocker's messages still reach the blocked author
    assert world.history(ANN, chat)[0] == "four"


# -- mute -------------------------------------------------------------------------------------


def test_a_mute_is_in_force_until_it_ends_or_is_lifted() -> None:
    from datetime import timedelta

    from messenger.chats.api import ChatsApi
    from messenger.kernel.errors import InvalidInput

    world = World()
    chat = world.chat(ANN, BOB, CAT)
    api = ChatsApi(world.store, world.friends)
    later = utcnow() + timedelta(hours=1)
    world.chats.mute(RequestContext(user_id=ANN), chat, later)
    world.chats.mute(RequestContext(user_id=BOB), chat, None)  # until unmuted
    assert api.muted_members(chat) == {ANN, BOB}
    details = world.chats.chat(RequestContext(user_id=ANN), chat)
    assert (details.muted, details.muted_until) == (True, later)
    details = world.chats.chat(RequestContext(user_id=BOB), chat)
    assert (details.muted, details.muted_until) == (True, None)
    details = world.chats.chat(RequestContext(user_id=CAT), chat)
    assert (details.muted, details.muted_until) == (False, None)
    world.chats.unmute(RequestContext(user_id=BOB), chat)
    world.chats.unmute(RequestContext(user_id=BOB), chat)  # idempotent
    assert api.muted_members(chat) == {ANN}
    world.store.muted[chat][ANN] = utcnow() - timedelta(seconds=1)  # ended
    assert api.muted_members(chat) == set()
    with pytest.raises(InvalidInput):
        world.chats.mute(RequestContext(user_id=ANN), chat, utcnow() - timedelta(minutes=1))
    outsider = uuid.uuid4()
    with pytest.raises(Forbidden):
        world.chats.mute(RequestContext(user_id=outsider), chat, None)
    with pytest.raises(NotFound):
        world.chats.mute(RequestContext(user_id=ANN), uuid.uuid4(), None)


def test_a_muted_chat_still_counts_unread() -> None:
    world = World()
    chat = world.chat(ANN, BOB, CAT)
    world.chats.mute(RequestContext(user_id=CAT), chat, None)
    world.send(ANN, chat, "hi")
    assert world.store.unread[chat][CAT] == 1
