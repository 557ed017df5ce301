"""Profile editing, search, friends and cache invalidation, invoked with their events/ samples."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import redis

from tests.integration.helpers import http_call, new_profile
from tests.support import invoke, sample_event

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
