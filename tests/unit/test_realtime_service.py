"""Realtime use-cases with in-memory fakes: fan-out, gone connections, retries, presence, typing."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from messenger.kernel.events import MalformedEvent
from messenger.realtime.service import (
    Connection,
    Outcome,
    PushIncompleteError,
    RealtimeService,
    epoch,
    push_for,
)
from tests.unit.realtime_fakes import (
    ANN,
    AT,
    BOB,
    CAT,
    NOW,
    Directory,
    FakeConnections,
    FakeDeliveries,
    FakePusher,
    envelope,
    message,
)

pytestmark = pytest.mark.unit


@pytest.fixture
def world() -> tuple[RealtimeService, FakeConnections, FakePusher, Directory]:
    connections, pusher, directory = FakeConnections(), FakePusher(), Directory()
    service = RealtimeService(
        connections=connections,
        pusher=pusher,
        friends=directory,
        connection_ttl=timedelta(hours=2),
        sessions=directory,
        chats=directory,
        deliveries=FakeDeliveries(),
        revocations=directory,
    )
    return service, connections, pusher, directory


def test_a_bad_token_is_refused_and_nothing_is_stored(world: Any) -> None:
    service, connections, _, _ = world
    assert service.connect("c1", "nope", NOW) is None
    assert service.connect("c1", None, NOW) is None
    assert connections.by_id == {}


def test_connections_expire_with_api_gateways_two_hour_limit(world: Any) -> None:
    service, connections, _, _ = world
    assert service.connect("c1", "ann", NOW) == ANN
    assert connections.by_id["c1"].expires_at == epoch(NOW + timedelta(hours=2))


def test_first_connection_and_last_disconnection_announce_presence(world: Any) -> None:
    service, _, pusher, _ = world
    service.connect("ann-1", "ann", NOW)
    service.connect("bob-1", "bob", NOW)
    service.connect("bob-2", "bob", NOW)  # a second device: no new announcement
    service.disconnect("bob-1", NOW)  # one device left: still online
    service.disconnect("bob-2", NOW)
    presence = [f["data"] for f in pusher.to("ann-1") if f["type"] == "presence.changed"]
    assert presence == [
        {"user_id": str(BOB), "online": True},
        {"user_id": str(BOB), "online": False},
    ]


def test_a_message_reaches_every_device_of_every_participant(world: Any) -> None:
    service, connections, pusher, _ = world
    for cid, user in (("a1", ANN), ("b1", BOB), ("b2", BOB), ("c1", CAT)):
        connections.by_id[cid] = Connection(cid, user, epoch(NOW) + 60)
    event = message(uuid.uuid4(), ANN, BOB)
    assert service.push_event(event, NOW) == 3
    assert pusher.to("c1") == []
    frame = pusher.to("b2")[0]
    assert frame["type"] == "message.sent"
    assert "participants" not in frame["data"]


def test_a_group_member_who_blocked_the_author_gets_no_frame_of_their_message(
    world: Any,
) -> None:
    service, connections, pusher, directory = world
    for cid, user in (("a1", ANN), ("b1", BOB), ("c1", CAT)):
        connections.by_id[cid] = Connection(cid, user, epoch(NOW) + 60)
    directory.blocks.add((CAT, ANN))
    assert service.push_event(message(uuid.uuid4(), ANN, BOB, CAT), NOW) == 2
    assert pusher.to("c1") == []
    assert [f["type"] for f in pusher.to("b1")] == ["message.sent"]
    # The blocked author's own message from CAT still reaches ANN: blocks are one way.
    assert service.push_event(message(uuid.uuid4(), CAT, ANN, BOB), NOW) == 3
    reaction = envelope(
        "message.reaction_added",
        chat_id=str(uuid.uuid4()),
        message_id=str(uuid.uuid4()),
        user_id=str(ANN),
        emoji="👍",
        count=1,
        at=AT,
        participants=[str(ANN), str(BOB), str(CAT)],
    )
    assert service.push_event(reaction, NOW) == 2  # nor ANN's reactions


def test_group_changes_go_to_the_members_and_a_removal_to_the_removed_too() -> None:
    chat = str(uuid.uuid4())
    common = {"chat_id": chat, "by": str(ANN), "at": AT}
    added = push_for(
        envelope(
            "chat.member_added",
            **common,
            user_ids=[str(CAT)],
            participants=[str(ANN), str(BOB), str(CAT)],
        )
    )
    assert added is not None
    assert added.users == {ANN, BOB, CAT}
    assert "participants" not in json.loads(added.payload)["data"]
    removed = push_for(
        envelope(
            "chat.member_removed", **common, user_ids=[str(CAT)], participants=[str(ANN), str(BOB)]
        )
    )
    assert removed is not None
    assert removed.users == {ANN, BOB, CAT}
    updated = push_for(
        envelope("chat.updated", **common, title="t", participants=[str(ANN), str(BOB)])
    )
    assert updated is not None
    assert updated.users == {ANN, BOB}


def test_a_read_receipt_goes_to_the_others_only() -> None:
    chat = uuid.uuid4()
    event = envelope(
        "chat.read",
        chat_id=str(chat),
        user_id=str(BOB),
        message_id=str(uuid.uuid4()),
        at=AT,
        participants=[str(ANN), str(BOB)],
    )
    push = push_for(event)
    assert push is not None
    assert push.users == {ANN}


def test_friendship_events_go_to_the_other_user() -> None:
    kinds = ("requested", "accepted", "rejected", "removed")
    for kind in (f"friendship.{k}" for k in kinds):
        push = push_for(envelope(kind, from_user_id=str(ANN), to_user_id=str(BOB), at=AT))
        assert push is not None
        assert push.users == {BOB}
        assert push.streamed is not None
        assert push.streamed.type == kind
    # Broken data is refused, not pushed half-formed.
    with pytest.raises(MalformedEvent):
        push_for(envelope("friendship.removed", from_user_id=str(ANN), to_user_id=str(BOB)))


def test_a_gone_connection_is_forgotten_and_the_others_still_served(world: Any) -> None:
    service, connections, pusher, _ = world
    for cid, user in (("a1", ANN), ("b1", BOB), ("b2", BOB)):
        connections.by_id[cid] = Connection(cid, user, epoch(NOW) + 60)
    pusher.outcomes["b1"] = Outcome.GONE
    assert service.push_event(message(uuid.uuid4(), ANN, BOB), NOW) == 2
    assert "b1" not in connections.by_id
    assert set(connections.by_id) == {"a1", "b2"}


def test_a_failing_connection_retries_the_event_for_it_alone(world: Any) -> None:
    service, connections, pusher, _ = world
    for cid, user in (("a1", ANN), ("b1", BOB), ("b2", BOB)):
        connections.by_id[cid] = Connection(cid, user, epoch(NOW) + 60)
    pusher.outcomes["b1"] = Outcome.FAILED
    event = message(uuid.uuid4(), ANN, BOB)
    with pytest.raises(PushIncompleteError):
        service.push_event(event, NOW)
    assert "b1" in connections.by_id  # kept: it may recover
    pusher.outcomes.clear()
    assert service.push_event(event, NOW) == 1  # the retry reaches b1 only
    assert [cid for cid, _ in pusher.frames] == ["a1", "b2", "b1"]


def test_a_group_of_a_hundred_is_one_fan_out(world: Any) -> None:
    service, connections, _, _ = world
    members = [uuid.uuid4() for _ in range(100)]
    for i, user in enumerate(members):
        connections.by_id[f"m{i}"] = Connection(f"m{i}", user, epoch(NOW) + 60)
    assert service.push_event(message(uuid.uuid4(), *members), NOW) == 100


def test_expired_connections_are_ignored(world: Any) -> None:
    service, connections, pusher, _ = world
    connections.by_id["old"] = Connection("old", BOB, epoch(NOW) - 1)
    assert service.push_event(message(uuid.uuid4(), ANN, BOB), NOW) == 0
    assert pusher.frames == []


def test_typing_goes_to_the_other_participants_of_the_callers_chat(world: Any) -> None:
    service, connections, pusher, directory = world
    chat = uuid.uuid4()
    directory.chats[chat] = [ANN, BOB]
    for cid, user in (("a1", ANN), ("a2", ANN), ("b1", BOB), ("c1", CAT)):
        connections.by_id[cid] = Connection(cid, user, epoch(NOW) + 60)
    assert service.typing("a1", chat, NOW) is True
    assert [cid for cid, _ in pusher.frames] == ["b1"]
    assert pusher.frames[0][1] == {
        "type": "typing",
        "data": {"chat_id": str(chat), "user_id": str(ANN)},
    }
    assert service.typing("c1", chat, NOW) is False  # not a participant
    assert service.typing("unknown", chat, NOW) is False
    assert service.typing("a1", uuid.uuid4(), NOW) is False  # no such chat
    assert len(pusher.frames) == 1


def test_typing_in_a_direct_chat_with_a_former_friend_reaches_nobody(world: Any) -> None:
    service, connections, pusher, directory = world
    chat = uuid.uuid4()
    directory.chats[chat], directory.direct = [ANN, BOB], {chat}
    connections.by_id["a1"] = Connection("a1", ANN, epoch(NOW) + 60)
    connections.by_id["b1"] = Connection("b1", BOB, epoch(NOW) + 60)
    assert service.typing("a1", chat, NOW) is True
    directory.friends = {ANN: set(), BOB: set()}  # unfriended: sending there is refused now
    assert service.typing("a1", chat, NOW) is False
    assert [cid for cid, _ in pusher.frames] == ["b1"]


def test_closing_a_session_closes_its_connections_only(world: Any) -> None:
    service, connections, pusher, _ = world
    assert service.connect("a1", "ann", NOW) == ANN
    assert service.connect("a2", "ann-2", NOW) == ANN  # the same user on another device
    assert service.connect("b1", "bob", NOW) == BOB
    pusher.frames.clear()
    assert service.close_session(ANN, "s-ann", NOW) == 1
    assert pusher.closed == ["a1"]
    assert set(connections.by_id) == {"a2", "b1"}
    # The closed session hears why, first; Ann is still online on her other device.
    revoked = {"type": "session.revoked", "data": {"session_id": "s-ann"}}
    assert pusher.frames == [("a1", revoked)]
    pusher.frames.clear()
    assert service.close_session(ANN, "s-ann-2", NOW) == 1
    assert pusher.frames == [
        ("a2", {"type": "session.revoked", "data": {"session_id": "s-ann-2"}}),
        ("b1", {"type": "presence.changed", "data": {"user_id": str(ANN), "online": False}}),
    ]
    assert service.close_session(ANN, "s-ann", NOW) == 0


def test_a_connection_registered_in_a_race_with_logout_is_refused(world: Any) -> None:
    """The token was live when $connect checked it, revoked before the connection was stored:
    the second look refuses it, and nothing announces Ann online."""
    service, connections, pusher, directory = world
    directory.revoke_on_identify["ann"] = 1  # the first check passes, the second sees the logout
    assert service.connect("a1", "ann", NOW) is None
    assert connections.by_id == {}
    assert pusher.frames == []


def test_a_push_skips_and_closes_connections_of_revoked_sessions(world: Any) -> None:
    service, connections, pusher, directory = world
    connections.by_id["a1"] = Connection("a1", ANN, epoch(NOW) + 60, "s-ann")
    connections.by_id["a2"] = Connection("a2", ANN, epoch(NOW) + 60, "s-ann-2")
    connections.by_id["b1"] = Connection("b1", BOB, epoch(NOW) + 60, "s-bob")
    directory.revoked.add("s-ann")
    assert service.push_event(message(uuid.uuid4(), BOB, ANN), NOW) == 2
    assert sorted(cid for cid, _ in pusher.frames) == ["a2", "b1"]
    assert pusher.closed == ["a1"]
    assert "a1" not in connections.by_id


def test_a_connection_keeps_its_session_in_the_users_set() -> None:
    """The UserConnections member carries the session; members written before sessions were
    kept still read (with no session), so a deploy does not lose live connections."""
    from messenger.realtime.adapters.store import _member, _parse

    now = epoch(NOW)
    with_session = Connection("abc=", ANN, now + 60, "0f" * 32)
    legacy = Connection("old=", ANN, now + 60)
    members = {_member(with_session), _member(legacy), f"gone= {now - 1} {'0f' * 32}"}
    assert _parse(ANN, members, now) == [with_session, legacy]
