"""Profile editing, search, friends and cache invalidation, invoked with their events/ samples."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
import redis

from tests.integration.helpers import http_call, msk_event, new_profile
from tests.support import invoke, sample_event, unique

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_process_env")]


def test_update_with_the_sample_body_and_the_cache_follows(in_process_env: Any) -> None:
    user_id = new_profile()
    assert http_call("GetProfile", path_parameters={"user_id": user_id})[0] == 200  # cached now
    sample_body = json.loads(sample_event("UpdateMyProfile")["body"])
    status, profile, _ = http_call("UpdateMyProfile", sample_body, user_id=user_id)
    assert status == 200
    assert profile["description"] == sample_body["description"]
    status, public, _ = http_call("GetProfile", path_parameters={"user_id": user_id})
    assert public["avatar_url"] == sample_body["avatar_url"], "stale cache after update"


def test_update_of_a_missing_profile_is_not_ready() -> None:
    status, body, _ = http_call("UpdateMyProfile", {"description": "x"}, user_id=str(uuid.uuid4()))
    assert (status, body["code"]) == (404, "profile_not_ready")


def test_search_sample_runs() -> None:
    status, body, _ = http_call("SearchUsers")
    assert status == 200
    assert set(body) == {"items", "next_cursor"}


def test_prefix_search_is_served_by_the_index(db: Any) -> None:
    db.execute("SET enable_seqscan = off")
    plan = "\n".join(
        r[0]
        for r in db.execute(
            "EXPLAIN SELECT user_id FROM users.profiles WHERE lower(nickname) LIKE 'abc%'"
            " ORDER BY lower(nickname) USING ~<~ LIMIT 21"
        ).fetchall()
    )
    assert "profiles_nickname_ci" in plan
    assert "Seq Scan" not in plan


def test_friends_sample_answers_for_a_user_with_no_friends() -> None:
    status, body, _ = http_call("GetFriends", user_id=new_profile())
    assert (status, body) == (
        200,
        {"friends": [], "incoming": [], "outgoing": [], "next_cursor": None},
    )


def test_invalidation_drops_a_groups_membership_after_a_member_change(in_process_env: Any) -> None:
    cache = redis.Redis.from_url(in_process_env["REDIS_URL"])
    event = sample_event("InvalidateCaches", "invalidate_caches_chat_events.json")
    key = "chat-members:v2:5b2f8c1e-9d3a-4e7b-8c6d-1a2b3c4d5e6f"
    for _ in range(2):  # a redelivery is as harmless as the first delivery
        cache.set(key, "stale")
        assert invoke("InvalidateCaches", event) == {"batchItemFailures": []}
        assert not cache.exists(key)


@pytest.mark.parametrize(
    "sample", ["invalidate_caches_user_events.json", "invalidate_caches_friendship_events.json"]
)
def test_invalidation_handles_every_delivery(in_process_env: Any, sample: str) -> None:
    cache = redis.Redis.from_url(in_process_env["REDIS_URL"])
    event = sample_event("InvalidateCaches", sample)
    keys = [
        "profile:v1:7d3c5d2e-8a4b-4c1f-9e2a-1b6f0c9d4e51",
        "friends:v1:7d3c5d2e-8a4b-4c1f-9e2a-1b6f0c9d4e51",
        "friends:v1:0f8e2b6a-3c1d-4e5f-8a9b-2c3d4e5f6a7b",
    ]
    for _ in range(2):  # a redelivery is as harmless as the first delivery
        cache.mset(dict.fromkeys(keys, "stale"))
        assert invoke("InvalidateCaches", event) == {"batchItemFailures": []}
        remaining = {k for k in keys if cache.exists(k)}
        if "user" in sample:
            assert "profile:v1:7d3c5d2e-8a4b-4c1f-9e2a-1b6f0c9d4e51" not in remaining
        else:
            assert not remaining & set(keys[1:])


def befriend(a: str, b: str) -> None:
    nickname_of = {
        u: http_call("GetProfile", path_parameters={"user_id": u})[1]["nickname"] for u in (a, b)
    }
    assert http_call("SendFriendRequest", {"nickname": nickname_of[b]}, user_id=a)[0] == 201
    accepted = http_call(
        "AcceptFriendRequest", user_id=b, path_parameters={"nickname": nickname_of[a]}
    )
    assert accepted[0] == 200


def friend_ids(user: str, **query: str) -> tuple[list[str], str | None]:
    status, body, _ = http_call("GetFriends", user_id=user, query=query or None)
    assert status == 200, body
    return [f["user_id"] for f in body["friends"]], body["next_cursor"]


def profile_updated(user: str, nickname: str, version: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "user.profile_updated",
        "version": 1,
        "occurred_at": version,
        "data": {
            "user_id": user,
            "nickname": nickname,
            "description": None,
            "avatar_url": None,
            "updated_at": version,
        },
    }


def consume_user_events(*envelopes: dict[str, Any]) -> None:
    event = msk_event(*envelopes)
    assert invoke("UpdateFriendsOnUserEvents", event) == {"batchItemFailures": []}


def outbox_event(db: Any, user: str, event_type: str) -> dict[str, Any]:
    row = db.execute(
        "SELECT payload FROM messaging.outbox WHERE key = %s AND payload->>'type' = %s"
        " ORDER BY seq DESC LIMIT 1",
        (user, event_type),
    ).fetchone()
    assert row is not None
    return dict(row[0])


def test_friends_pages_follow_a_rename_and_not_an_older_event(db: Any) -> None:
    tag = unique("")[:6]
    owner, bea, cyd = new_profile(), new_profile(f"b{tag}x"), new_profile(f"c{tag}x")
    befriend(owner, bea)
    befriend(cyd, owner)
    assert friend_ids(owner)[0] == [bea, cyd]
    first, cursor = friend_ids(owner, limit="1")
    assert (first, cursor is not None) == ([bea], True)
    assert friend_ids(owner, limit="1", cursor=cursor) == ([cyd], None)

    status, _, _ = http_call("UpdateMyProfile", {"nickname": f"d{tag}x"}, user_id=bea)
    assert status == 200
    renamed = outbox_event(db, bea, "user.profile_updated")
    consume_user_events(renamed)
    status, body, _ = http_call("GetFriends", user_id=owner)
    assert [(f["user_id"], f["nickname"]) for f in body["friends"]] == [
        (cyd, f"c{tag}x"),
        (bea, f"d{tag}x"),
    ]
    # An event older than the one applied (a redelivery overtaken) changes nothing.
    consume_user_events(profile_updated(bea, f"a{tag}x", "2001-01-01T00:00:00Z"))
    consume_user_events(renamed)  # and the same one again
    assert friend_ids(owner)[0] == [cyd, bea]
    assert friend_ids(cyd)[0] == [owner]


def test_an_acceptance_lists_the_friend_under_the_key_the_context_holds(db: Any) -> None:
    """A rename applied by the consumer is what a later acceptance uses, even when newer than
    the profile (the consumer's row is the lock both take)."""
    tag = unique("")[:6]
    owner, bea, cyd = new_profile(), new_profile(f"b{tag}x"), new_profile(f"c{tag}x")
    consume_user_events(profile_updated(bea, f"e{tag}x", "2100-01-01T00:00:00Z"))
    befriend(owner, bea)
    befriend(owner, cyd)
    assert friend_ids(owner)[0] == [cyd, bea]
    keys = dict(
        db.execute(
            "SELECT friend, sort_key FROM friends.friend_list WHERE owner = %s", (owner,)
        ).fetchall()
    )
    assert keys == {uuid.UUID(bea): f"e{tag}x", uuid.UUID(cyd): f"c{tag}x"}


def test_unfriending_and_blocking_take_the_pair_off_both_lists(db: Any) -> None:
    owner, bea, cyd = new_profile(), new_profile(), new_profile()
    befriend(owner, bea)
    befriend(owner, cyd)
    bea_nickname = http_call("GetProfile", path_parameters={"user_id": bea})[1]["nickname"]
    assert (
        http_call("RemoveFriend", user_id=owner, path_parameters={"nickname": bea_nickname})[0]
        == 204
    )
    assert http_call("BlockUser", user_id=cyd, path_parameters={"user_id": owner})[0] == 204
    assert friend_ids(owner)[0] == []
    assert (friend_ids(bea)[0], friend_ids(cyd)[0]) == ([], [])
    rows = db.execute(
        "SELECT 1 FROM friends.friend_list WHERE %(u)s IN (owner, friend)", {"u": owner}
    ).fetchall()
    assert rows == []


def test_the_first_page_lists_requests_beside_friends_and_later_pages_do_not() -> None:
    owner, bea, cyd, dee = new_profile(), new_profile(), new_profile(), new_profile()
    befriend(owner, bea)
    befriend(owner, cyd)
    dee_nickname = http_call("GetProfile", path_parameters={"user_id": dee})[1]["nickname"]
    assert http_call("SendFriendRequest", {"nickname": dee_nickname}, user_id=owner)[0] == 201
    status, first, _ = http_call("GetFriends", user_id=owner, query={"limit": "1"})
    assert [r["user_id"] for r in first["outgoing"]] == [dee]
    status, second, _ = http_call(
        "GetFriends", user_id=owner, query={"limit": "1", "cursor": first["next_cursor"]}
    )
    assert status == 200
    assert (second["incoming"], second["outgoing"]) == ([], [])
    assert (len(second["friends"]), second["next_cursor"]) == (1, None)


def friendship_event(event_type: str, a: str, b: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "version": 1,
        "occurred_at": "2026-12-07T12:00:00Z",
        "data": {"from_user_id": a, "to_user_id": b, "at": "2026-12-07T12:00:00Z"},
    }


def reconcile(*envelopes: dict[str, Any]) -> None:
    event = sample_event("ReconcileFriendLists")
    record = next(iter(event["records"].values()))[0]
    records = [
        {**record, "offset": n, "value": base64.b64encode(json.dumps(e).encode()).decode()}
        for n, e in enumerate(envelopes)
    ]
    event["records"] = {f"{record['topic']}-{record['partition']}": records}
    assert invoke("ReconcileFriendLists", event) == {"batchItemFailures": []}


def test_friendships_written_without_the_lists_are_listed_and_unlisted_from_their_events(
    db: Any,
) -> None:
    """What a version from before the lists writes during a canary: the friendship row alone."""
    owner, bea = new_profile(), new_profile()
    low, high = sorted([uuid.UUID(owner), uuid.UUID(bea)])
    db.execute(
        "INSERT INTO friends.friendships (user_low, user_high, status, requested_by,"
        " requested_at, responded_at) VALUES (%s, %s, 'accepted', %s, now(), now())",
        (low, high, uuid.UUID(owner)),
    )
    assert friend_ids(owner)[0] == []
    reconcile(friendship_event("friendship.accepted", bea, owner))
    assert friend_ids(owner)[0] == [bea]
    assert friend_ids(bea)[0] == [owner]
    reconcile(friendship_event("friendship.accepted", bea, owner))  # a redelivery: no change
    assert friend_ids(owner)[0] == [bea]

    db.execute(
        "DELETE FROM friends.friendships WHERE user_low = %s AND user_high = %s", (low, high)
    )
    reconcile(friendship_event("friendship.removed", owner, bea))
    assert (friend_ids(owner)[0], friend_ids(bea)[0]) == ([], [])


def test_a_late_acceptance_event_does_not_list_a_pair_that_is_no_longer_friends() -> None:
    owner, bea = new_profile(), new_profile()
    befriend(owner, bea)
    bea_nickname = http_call("GetProfile", path_parameters={"user_id": bea})[1]["nickname"]
    assert (
        http_call("RemoveFriend", user_id=owner, path_parameters={"nickname": bea_nickname})[0]
        == 204
    )
    reconcile(friendship_event("friendship.accepted", bea, owner))  # out of order, or replayed
    assert (friend_ids(owner)[0], friend_ids(bea)[0]) == ([], [])
