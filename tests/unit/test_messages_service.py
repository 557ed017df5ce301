"""Edit, delete, replies, reactions, receipts and one chat: the chats use-cases with fakes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from messenger.chats.models import (
    MAX_DISTINCT_REACTIONS,
    Chat,
    Emoji,
    Message,
    SendMessageRequest,
)
from messenger.chats.service import ChatMembership, ChatsService, Markers, may_delete_for_everyone
from messenger.kernel.clock import utcnow
from messenger.kernel.context import RequestContext
from messenger.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from messenger.platform.events import EventEnvelope
from messenger.realtime.service import push_for
from messenger.web.paths import with_encoded_path
from tests.unit.chat_fakes import FakeChatStore, FakeFriends
from tests.unit.fakes import FakeOutbox, FakeRateLimiter

pytestmark = pytest.mark.unit

ANN, BOB, CAT, EVE = (uuid.uuid4() for _ in range(4))


def ctx(user: uuid.UUID) -> RequestContext:
    return RequestContext(user_id=user)


class World:
    def __init__(self) -> None:
        self.store = FakeChatStore()
        self.outbox = FakeOutbox()
        self.chats = ChatsService(self.store, FakeFriends(), self.outbox, FakeRateLimiter())

    def chat(self, *members: uuid.UUID) -> uuid.UUID:
        chat = Chat(
            chat_id=uuid.uuid4(),
            type="direct" if len(members) == 2 else "group",
            title=None,
            participants=list(members),
            created_by=members[0],
            created_at=utcnow(),
            last_message=None,
            unread_count=0,
        )
        self.store.add_chat(chat)
        return chat.chat_id

    def send(
        self, author: uuid.UUID, chat_id: uuid.UUID, text: str = "hi", **extra: Any
    ) -> Message:
        request = SendMessageRequest(content=text, **extra)
        message, _ = self.chats.send(ctx(author), chat_id, request)
        return message

    def history(self, reader: uuid.UUID, chat_id: uuid.UUID) -> list[Message]:
        return self.chats.history(ctx(reader), chat_id, 50, None).items

    def published(self, kind: str) -> list[dict[str, Any]]:
        return [e.envelope.data for e in self.outbox.published if e.envelope.type == kind]


@pytest.fixture
def world() -> World:
    return World()


def by_id(messages: list[Message], message: Message) -> Message:
    return next(m for m in messages if m.message_id == message.message_id)


# -- the message object ---------------------------------------------------------------------------
def test_a_new_message_has_the_added_fields_with_their_defaults(world: World) -> None:
    chat_id = world.chat(ANN, BOB)
    sent = world.send(ANN, chat_id).model_dump(mode="json")
    assert {k: sent[k] for k in ("kind", "edited_at", "deleted", "reply_to")} == {
        "kind": "text",
        "edited_at": None,
        "deleted": False,
        "reply_to": None,
    }
    assert (sent["reactions"], sent["attachments"]) == ([], [])
    assert "status" not in sent  # not read from the markers: left out, not guessed
    assert "status" not in world.published("message.sent")[0]


# -- edit -----------------------------------------------------------------------------------------
def test_the_author_edits_and_everyone_hears_of_it(world: World) -> None:
    chat_id = world.chat(ANN, BOB)
    sent = world.send(ANN, chat_id, "helo")
    edited = world.chats.edit(ctx(ANN), chat_id, sent.message_id, "hello")
    assert (edited.content, edited.message_id, edited.created_at) == (
        "hello",
        sent.message_id,
        sent.created_at,
    )
    assert edited.edited_at is not None
    assert edited.status == "sent"
    assert by_id(world.history(BOB, chat_id), sent).content == "hello"
    (event,) = world.published("message.edited")
    assert (event["content"], event["author_id"]) == ("hello", str(ANN))
    assert set(event["participants"]) == {str(ANN), str(BOB)}


def test_only_the_author_edits_a_text_message_that_is_not_deleted(world: World) -> None:
    chat_id = world.chat(ANN, BOB)
    sent = world.send(ANN, chat_id)
    with pytest.raises(Forbidden) as refused:
        world.chats.edit(ctx(BOB), chat_id, sent.message_id, "mine now")
    assert refused.value.code == "not_author"
    with pytest.raises(Forbidden) as outsider:
        world.chats.edit(ctx(EVE), chat_id, sent.message_id, "x")
    assert outsider.value.code == "not_participant"
    with pytest.raises(NotFound) as missing:
        world.chats.edit(ctx(ANN), chat_id, uuid.uuid4(), "x")
    assert missing.value.code == "message_not_found"
    with pytest.raises(NotFound) as no_chat:
        world.chats.edit(ctx(ANN), uuid.uuid4(), sent.message_id, "x")
    assert no_chat.value.code == "chat_not_found"

    world.chats.delete(ctx(ANN), chat_id, sent.message_id, "everyone")
    with pytest.raises(Conflict) as deleted:
        world.chats.edit(ctx(ANN), chat_id, sent.message_id, "back")
    assert deleted.value.code == "message_not_editable"

    system = world.send(ANN, chat_id)
    stored = world.store.stored(chat_id, system.message_id)
    stored.message = stored.message.model_copy(update={"kind": "system", "content": None})
    with pytest.raises(Conflict) as not_text:
        world.chats.edit(ctx(ANN), chat_id, system.message_id, "x")
    assert not_text.value.code == "message_not_editable"
    assert world.published("message.edited") == []


# -- delete ---------------------------------------------------------------------------------------
def test_delete_for_everyone_leaves_a_tombstone_in_its_place(world: World) -> None:
    chat_id = world.chat(ANN, BOB)
    before, doomed, after = (world.send(ANN, chat_id, t) for t in ("a", "b", "c"))
    world.chats.react(ctx(BOB), chat_id, doomed.message_id, "👍", True)
    world.store.stored(chat_id, doomed.message_id).attachment_ids = ["att-1"]
    world.chats.delete(ctx(ANN), chat_id, doomed.message_id, "everyone")
    for reader in (ANN, BOB):
        ids = [m.message_id for m in world.history(reader, chat_id)]
        assert ids == [after.message_id, doomed.message_id, before.message_id]
        tombstone = by_id(world.history(reader, chat_id), doomed)
        assert (tombstone.deleted, tombstone.content, tombstone.reactions) == (True, None, [])
        assert tombstone.attachments == []
    (event,) = world.published("message.deleted")
    assert (event["message_id"], event["deleted_by"], event["author_id"]) == (
        str(doomed.message_id),
        str(ANN),
        str(ANN),
    )
    assert event["attachment_ids"] == ["att-1"]  # the media context removes their objects
    world.chats.delete(ctx(ANN), chat_id, doomed.message_id, "everyone")  # again: nothing new
    assert len(world.published("message.deleted")) == 1


def test_only_the_author_deletes_for_everyone(world: World) -> None:
    chat_id = world.chat(ANN, BOB, CAT)
    sent = world.send(ANN, chat_id)
    with pytest.raises(Forbidden) as refused:
        world.chats.delete(ctx(BOB), chat_id, sent.message_id, "everyone")
    assert refused.value.code == "not_author"
    with pytest.raises(NotFound):
        world.chats.delete(ctx(ANN), chat_id, uuid.uuid4(), "everyone")
    assert not by_id(world.history(BOB, chat_id), sent).deleted


def test_who_may_delete_for_everyone_is_one_rule() -> None:
    membership = ChatMembership(uuid.uuid4(), "group", (ANN, BOB))
    message = Message(
        message_id=uuid.uuid4(),
        chat_id=membership.chat_id,
        author_id=ANN,
        content="x",
        created_at=utcnow(),
        client_message_id=None,
    )
    assert may_delete_for_everyone(membership, ANN, message)
    assert not may_delete_for_everyone(membership, BOB, message)


def test_delete_for_me_hides_it_from_my_history_and_unread_count_only(world: World) -> None:
    chat_id = world.chat(ANN, BOB)
    kept, hidden = world.send(ANN, chat_id, "kept"), world.send(ANN, chat_id, "hidden")
    assert world.store.unread[chat_id][BOB] == 2
    world.chats.delete(ctx(BOB), chat_id, hidden.message_id, "me")
    assert [m.message_id for m in world.history(BOB, chat_id)] == [kept.message_id]
    assert [m.content for m in world.history(ANN, chat_id)] == ["hidden", "kept"]
    assert world.store.unread[chat_id][BOB] == 1
    world.chats.delete(ctx(BOB), chat_id, hidden.message_id, "me")  # idempotent
    assert world.store.unread[chat_id][BOB] == 1
    world.chats.delete(ctx(ANN), chat_id, kept.message_id, "me")  # anyone's message, for oneself
    assert world.history(ANN, chat_id)[0].message_id == hidden.message_id
    assert world.outbox.published[-1].envelope.type == "message.sent", "no event"


def test_delete_for_me_of_a_read_message_leaves_the_unread_count(world: World) -> None:
    chat_id = world.chat(ANN, BOB)
    first, second = world.send(ANN, chat_id), world.send(ANN, chat_id)
    world.chats.mark_read(ctx(BOB), chat_id, first.message_id)
    world.chats.delete(ctx(BOB), chat_id, first.message_id, "me")
    assert world.store.unread[chat_id][BOB] == 1
    world.chats.delete(ctx(BOB), chat_id, second.message_id, "me")
    assert world.store.unread[chat_id][BOB] == 0


# -- replies --------------------------------------------------------------------------------------
def test_a_reply_names_a_message_of_the_same_chat(world: World) -> None:
    chat_id, other = world.chat(ANN, BOB), world.chat(ANN, CAT)
    original = world.send(BOB, chat_id, "question")
    reply = world.send(ANN, chat_id, "answer", reply_to=original.message_id)
    assert reply.reply_to == original.message_id
    assert world.published("message.sent")[-1]["reply_to"] == str(original.message_id)
    elsewhere = world.send(CAT, other, "elsewhere")
    for target in (elsewhere.message_id, uuid.uuid4()):
        with pytest.raises(InvalidInput) as refused:
            world.send(ANN, chat_id, "x", reply_to=target)
        assert refused.value.code == "invalid_reply"
        assert refused.value.extra["errors"][0]["field"] == "reply_to"


def test_a_reply_to_a_deleted_message_still_shows(world: World) -> None:
    chat_id = world.chat(ANN, BOB)
    original = world.send(BOB, chat_id, "oops")
    reply = world.send(ANN, chat_id, "what?", reply_to=original.message_id)
    world.chats.delete(ctx(BOB), chat_id, original.message_id, "everyone")
    shown = by_id(world.history(ANN, chat_id), reply)
    assert (shown.content, shown.reply_to) == ("what?", original.message_id)
    late = world.send(ANN, chat_id, "still", reply_to=original.message_id)  # a tombstone: ok
    assert late.reply_to == original.message_id


# -- reactions ------------------------------------------------------------------------------------
def test_reactions_count_per_emoji_with_me_per_reader(world: World) -> None:
    chat_id = world.chat(ANN, BOB, CAT)
    sent = world.send(ANN, chat_id)
    for user, emoji in ((BOB, "👍"), (CAT, "👍"), (CAT, "🎉"), (BOB, "👍")):
        world.chats.react(ctx(user), chat_id, sent.message_id, emoji, True)
    seen = {u: by_id(world.history(u, chat_id), sent).reactions for u in (ANN, BOB, CAT)}
    assert [(r.emoji, r.count, r.me) for r in seen[ANN]] == [("👍", 2, False), ("🎉", 1, False)]
    assert [(r.emoji, r.me) for r in seen[BOB]] == [("👍", True), ("🎉", False)]
    assert [(r.emoji, r.me) for r in seen[CAT]] == [("👍", True), ("🎉", True)]
    added = world.published("message.reaction_added")
    assert [(e["user_id"], e["emoji"], e["count"]) for e in added] == [
        (str(BOB), "👍", 1),
        (str(CAT), "👍", 2),
        (str(CAT), "🎉", 1),
    ], "the repeated add changed nothing and published nothing"

    world.chats.react(ctx(CAT), chat_id, sent.message_id, "🎉", False)
    world.chats.react(ctx(CAT), chat_id, sent.message_id, "🎉", False)  # idempotent
    world.chats.react(ctx(ANN), chat_id, sent.message_id, "👍", False)  # never added: nothing
    (removed,) = world.published("message.reaction_removed")
    assert (removed["user_id"], removed["emoji"], removed["count"]) == (str(CAT), "🎉", 0)
    after = by_id(world.history(ANN, chat_id), sent).reactions
    assert [(r.emoji, r.count) for r in after] == [("👍", 2)]


def test_at_most_twenty_distinct_emoji_per_message(world: World) -> None:
    chat_id = world.chat(ANN, BOB)
    sent = world.send(ANN, chat_id)
    emoji = [chr(0x1F600 + i) for i in range(MAX_DISTINCT_REACTIONS + 1)]
    for e in emoji[:-1]:
        world.chats.react(ctx(ANN), chat_id, sent.message_id, e, True)
    with pytest.raises(Conflict) as full:
        world.chats.react(ctx(BOB), chat_id, sent.message_id, emoji[-1], True)
    assert full.value.code == "too_many_reactions"
    world.chats.react(ctx(BOB), chat_id, sent.message_id, emoji[0], True)  # an existing one: fine
    assert len(by_id(world.history(BOB, chat_id), sent).reactions) == MAX_DISTINCT_REACTIONS


def test_reactions_need_a_message_that_is_not_deleted(world: World) -> None:
    chat_id = world.chat(ANN, BOB)
    sent = world.send(ANN, chat_id)
    with pytest.raises(NotFound) as missing:
        world.chats.react(ctx(BOB), chat_id, uuid.uuid4(), "👍", True)
    assert missing.value.code == "message_not_found"
    with pytest.raises(Forbidden):
        world.chats.react(ctx(EVE), chat_id, sent.message_id, "👍", True)
    world.chats.delete(ctx(ANN), chat_id, sent.message_id, "everyone")
    with pytest.raises(Conflict) as deleted:
        world.chats.react(ctx(BOB), chat_id, sent.message_id, "👍", True)
    assert deleted.value.code == "message_not_editable"
    world.chats.react(ctx(BOB), chat_id, sent.message_id, "👍", False)  # nothing to take back


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [("%F0%9F%91%8D", "👍"), ("👍", "👍"), ("%2B1", "+1"), ("a" * 16, "a" * 16), ("%25", "%")],
)
def test_an_emoji_is_url_decoded_then_checked(raw: str, decoded: str) -> None:
    assert TypeAdapter(Emoji).validate_python(raw) == decoded


@pytest.mark.parametrize("raw", ["", "a" * 17, "%FF", "%00", "%C3", "\ud800"])
def test_an_emoji_outside_the_rules_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Emoji).validate_python(raw)


def test_the_path_is_rebuilt_encoded_from_the_decoded_parameters() -> None:
    route = "PUT /v1/chats/{chat_id}/messages/{message_id}/reactions/{emoji}"
    params = {"chat_id": "c", "message_id": "m", "emoji": "👍/%"}
    event = {"routeKey": route, "rawPath": "/v1/chats/c/messages/m/reactions/👍/%", "x": 1}
    rebuilt = with_encoded_path({**event, "pathParameters": params})
    assert rebuilt["rawPath"] == "/v1/chats/c/messages/m/reactions/%F0%9F%91%8D%2F%25"
    assert rebuilt["x"] == 1
    assert with_encoded_path(event) == event  # no parameters: routing decides
    lone = with_encoded_path({**event, "pathParameters": {**params, "emoji": "\ud800"}})
    assert lone["rawPath"].endswith("/%ED%A0%80")  # not UTF-8 once decoded: a 422, not a 500


# -- receipts and status --------------------------------------------------------------------------
def test_delivered_markers_only_move_forward_and_read_implies_delivered(world: World) -> None:
    chat_id = world.chat(ANN, BOB)
    first, second, third = (world.send(ANN, chat_id) for _ in range(3))
    world.chats.mark_delivered(ctx(BOB), chat_id, second.message_id)
    world.chats.mark_delivered(ctx(BOB), chat_id, first.message_id)  # behind: no move, no event
    world.chats.mark_delivered(ctx(BOB), chat_id, second.message_id)  # there already
    assert [e["message_id"] for e in world.published("chat.delivered")] == [str(second.message_id)]
    world.chats.mark_read(ctx(BOB), chat_id, third.message_id)
    world.chats.mark_delivered(ctx(BOB), chat_id, third.message_id)  # read implies delivered
    assert len(world.published("chat.delivered")) == 1
    assert world.store.markers(chat_id).delivered_up_to(BOB) == str(third.message_id)
    with pytest.raises(NotFound):
        world.chats.mark_delivered(ctx(BOB), chat_id, uuid.uuid4())
    with pytest.raises(Forbidden):
        world.chats.mark_delivered(ctx(EVE), chat_id, first.message_id)


def test_status_of_my_messages_follows_every_other_members_markers(world: World) -> None:
    chat_id = world.chat(ANN, BOB, CAT)
    first, second, theirs = (
        world.send(ANN, chat_id),
        world.send(ANN, chat_id),
        world.send(BOB, chat_id),
    )

    def statuses() -> dict[str, str | None]:
        page = world.history(ANN, chat_id)
        return {
            name: by_id(page, m).status
            for name, m in (("first", first), ("second", second), ("theirs", theirs))
        }

    assert statuses() == {"first": "sent", "second": "sent", "theirs": None}
    world.chats.mark_delivered(ctx(BOB), chat_id, second.message_id)
    assert statuses()["second"] == "sent", "cat has not got it yet"
    world.chats.mark_delivered(ctx(CAT), chat_id, first.message_id)
    assert statuses() == {"first": "delivered", "second": "sent", "theirs": None}
    world.chats.mark_read(ctx(CAT), chat_id, theirs.message_id)
    assert statuses() == {"first": "delivered", "second": "delivered", "theirs": None}
    world.chats.mark_read(ctx(BOB), chat_id, theirs.message_id)
    assert statuses() == {"first": "read", "second": "read", "theirs": None}
    assert all(m.status is None for m in world.history(BOB, chat_id) if m.author_id != BOB)


def test_markers_status_is_one_pass_over_the_members() -> None:
    ids = sorted(str(uuid.uuid4()) for _ in range(3))
    markers = Markers(read={BOB: ids[0]}, delivered={BOB: ids[1], CAT: ids[2]})
    assert markers.delivered_up_to(BOB) == ids[1]
    assert markers.delivered_up_to(ANN) is None
    status = markers.status_for(ANN, [ANN, BOB, CAT])

    def mine(message_id: str) -> Message:
        return Message(
            message_id=uuid.UUID(message_id),
            chat_id=uuid.uuid4(),
            author_id=ANN,
            content="x",
            created_at=utcnow(),
            client_message_id=None,
        )

    assert [status(mine(i)) for i in ids] == ["delivered", "delivered", "sent"]  # cat read none
    assert Markers().status_for(ANN, [ANN])(mine(ids[0])) == "sent"  # alone: nobody to reach


# -- one chat -------------------------------------------------------------------------------------
def test_get_chat_lists_members_roles_and_markers(world: World) -> None:
    chat_id = world.chat(ANN, BOB, CAT)
    first, last = world.send(ANN, chat_id), world.send(ANN, chat_id)
    world.chats.mark_read(ctx(BOB), chat_id, first.message_id)
    world.chats.mark_delivered(ctx(CAT), chat_id, last.message_id)
    chat = world.chats.chat(ctx(BOB), chat_id)
    assert chat.muted_until is None
    members = {m.user_id: m for m in chat.members}
    assert [m.user_id for m in chat.members] == [ANN, BOB, CAT]
    assert {u: m.role for u, m in members.items()} == {ANN: "owner", BOB: "member", CAT: "member"}
    assert {m.joined_at for m in chat.members} == {chat.created_at}
    assert (members[BOB].read_up_to, members[BOB].delivered_up_to) == (first.message_id,) * 2
    assert (members[CAT].read_up_to, members[CAT].delivered_up_to) == (None, last.message_id)
    assert (members[ANN].read_up_to, members[ANN].delivered_up_to) == (None, None)
    assert chat.unread_count == 1
    with pytest.raises(Forbidden) as outsider:
        world.chats.chat(ctx(EVE), chat_id)
    assert outsider.value.code == "not_participant"
    with pytest.raises(NotFound) as missing:
        world.chats.chat(ctx(ANN), uuid.uuid4())
    assert missing.value.code == "chat_not_found"


# -- realtime -------------------------------------------------------------------------------------
def _envelope(kind: str, **data: Any) -> EventEnvelope:
    return EventEnvelope(id=uuid.uuid4(), type=kind, occurred_at=utcnow(), data=data)


@pytest.mark.parametrize(
    "kind",
    [
        "message.edited",
        "message.deleted",
        "message.reaction_added",
        "message.reaction_removed",
    ],
)
def test_what_happens_to_a_message_is_pushed_to_every_participant(kind: str) -> None:
    # Each type's data as its schema (messenger.chats.events) has it.
    common = {"chat_id": str(uuid.uuid4()), "message_id": str(uuid.uuid4())}
    now = utcnow().isoformat()
    data: dict[str, dict[str, Any]] = {
        "message.edited": {"author_id": str(ANN), "content": "hello!", "edited_at": now},
        "message.deleted": {"author_id": str(ANN), "deleted_by": str(ANN), "at": now},
        "message.reaction_added": {"user_id": str(BOB), "emoji": "👍", "count": 1, "at": now},
        "message.reaction_removed": {"user_id": str(BOB), "emoji": "👍", "count": 0, "at": now},
    }
    push = push_for(_envelope(kind, **common, **data[kind], participants=[str(ANN), str(BOB)]))
    assert push is not None
    assert push.users == {ANN, BOB}
    assert b'"participants"' not in push.payload
    assert push.payload.startswith(b'{"type":"' + kind.encode())


def test_a_delivery_receipt_goes_to_the_others_only() -> None:
    event = _envelope(
        "chat.delivered",
        chat_id=str(uuid.uuid4()),
        user_id=str(BOB),
        message_id=str(uuid.uuid4()),
        at=utcnow().isoformat(),
        participants=[str(ANN), str(BOB)],
    )
    push = push_for(event)
    assert push is not None
    assert push.users == {ANN}
