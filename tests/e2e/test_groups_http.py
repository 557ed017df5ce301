"""Groups, blocks, mutes and reports (issue 14) through real HTTP and the WebSocket: the main
flows a client goes through, with the frames the members (and the removed) get."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from messenger_local.gateway import LocalGateway
from tests.e2e.flows import (
    bearer,
    befriend,
    create,
    device,
    history,
    next_frame,
    of_type,
    problem,
    send,
    signed_up,
)

pytestmark = pytest.mark.e2e

User = dict[str, Any]


def group(api: httpx.Client, owner: User, *members: User) -> str:
    for member in members:
        befriend(api, owner, member)
    response = create(api, owner, list(members), title="crew")
    assert response.status_code == 201, response.text
    return str(response.json()["chat_id"])


def test_a_group_lives_members_come_and_go_with_frames(
    api: httpx.Client, gateway: LocalGateway
) -> None:
    owner, ann, bob, cat = (signed_up(api) for _ in range(4))
    chat_id = group(api, owner, ann, bob)
    befriend(api, owner, cat)
    auth = bearer(owner["access_token"])
    with device(gateway, cat) as cat_ws, device(gateway, bob) as bob_ws:
        added = api.post(
            f"/v1/chats/{chat_id}/members", json={"user_ids": [cat["user_id"]]}, headers=auth
        )
        assert added.status_code == 200, added.text
        roles = {m["user_id"]: m["role"] for m in added.json()["members"]}
        assert roles == {
            owner["user_id"]: "owner",
            ann["user_id"]: "member",
            bob["user_id"]: "member",
            cat["user_id"]: "member",
        }
        frame = next_frame(cat_ws, of_type("chat.member_added", chat_id=chat_id))
        assert frame["data"]["user_ids"] == [cat["user_id"]]
        assert frame["data"]["by"] == owner["user_id"]

        promoted = api.patch(
            f"/v1/chats/{chat_id}/members/{ann['user_id']}", json={"role": "admin"}, headers=auth
        )
        assert promoted.status_code == 200, promoted.text
        next_frame(bob_ws, of_type("chat.updated", chat_id=chat_id))

        renamed = api.patch(
            f"/v1/chats/{chat_id}", json={"title": "Trip"}, headers=bearer(ann["access_token"])
        )
        assert (renamed.status_code, renamed.json()["title"]) == (200, "Trip")

        removed = api.delete(
            f"/v1/chats/{chat_id}/members/{bob['user_id']}", headers=bearer(ann["access_token"])
        )
        assert removed.status_code == 204, removed.text
        frame = next_frame(bob_ws, of_type("chat.member_removed", chat_id=chat_id))
        assert frame["data"]["user_ids"] == [bob["user_id"]]
    assert problem(history(api, bob, chat_id)) == (403, "not_participant")
    events = [
        (m["system"]["event"], m["system"].get("title"))
        for m in reversed(history(api, cat, chat_id).json()["items"])
        if m["kind"] == "system"
    ]
    assert events == [
        ("member_added", None),
        ("role_changed", None),
        ("title_changed", "Trip"),
        ("member_removed", None),
    ]
    left = api.delete(f"/v1/chats/{chat_id}/members/{owner['user_id']}", headers=auth)
    assert left.status_code == 204
    chat = api.get(f"/v1/chats/{chat_id}", headers=bearer(cat["access_token"])).json()
    assert {m["user_id"]: m["role"] for m in chat["members"]}[ann["user_id"]] == "owner"


def test_refusals_of_the_group_routes(api: httpx.Client) -> None:
    owner, ann, bob = (signed_up(api) for _ in range(3))
    chat_id = group(api, owner, ann, bob)
    member = bearer(ann["access_token"])
    assert problem(api.patch(f"/v1/chats/{chat_id}", json={"title": "x"}, headers=member)) == (
        403,
        "not_admin",
    )
    stranger = signed_up(api)
    refused = api.post(
        f"/v1/chats/{chat_id}/members",
        json={"user_ids": [stranger["user_id"]]},
        headers=bearer(owner["access_token"]),
    )
    assert problem(refused) == (403, "not_friends")
    assert refused.json()["non_friends"] == [stranger["user_id"]]
    gone = api.delete(
        f"/v1/chats/{chat_id}/members/{stranger['user_id']}", headers=bearer(owner["access_token"])
    )
    assert problem(gone) == (404, "not_member")
    direct = create(api, owner, [ann]).json()["chat_id"]
    assert problem(
        api.patch(f"/v1/chats/{direct}", json={"title": "x"}, headers=bearer(owner["access_token"]))
    ) == (409, "direct_chat")
    assert problem(
        api.post(f"/v1/chats/{chat_id}/owner", json={"user_id": bob["user_id"]}, headers=member)
    ) == (403, "not_admin")


def test_a_block_hides_the_blocked_user_from_the_blocker(
    api: httpx.Client, gateway: LocalGateway
) -> None:
    owner, ann, bob = (signed_up(api) for _ in range(3))
    chat_id = group(api, owner, ann, bob)
    befriend(api, ann, bob)
    direct = create(api, ann, [bob]).json()["chat_id"]
    assert (
        api.put(f"/v1/blocks/{bob['user_id']}", headers=bearer(ann["access_token"])).status_code
        == 204
    )
    listed = api.get("/v1/blocks", headers=bearer(ann["access_token"])).json()
    assert [(i["user_id"], i["nickname"]) for i in listed["items"]] == [
        (bob["user_id"], bob["nickname"])
    ]
    friends = api.get("/v1/friends", headers=bearer(ann["access_token"])).json()
    assert bob["user_id"] not in [f["user_id"] for f in friends["friends"]]
    asked = api.post(
        "/v1/friends/requests",
        json={"nickname": ann["nickname"]},
        headers=bearer(bob["access_token"]),
    )
    assert problem(asked) == (404, "user_not_found")
    assert problem(send(api, bob, direct, "hey")) == (403, "blocked")
    assert problem(
        api.put(f"/v1/blocks/{ann['user_id']}", headers=bearer(ann["access_token"]))
    ) == (
        422,
        "cannot_block_self",
    )
    with device(gateway, ann) as ann_ws:
        assert send(api, bob, chat_id, "from bob").status_code == 201
        assert send(api, owner, chat_id, "from owner").status_code == 201
        # Ann gets the owner's message, and never bob's before it.
        frame = next_frame(ann_ws, of_type("message.sent", chat_id=chat_id))
        assert frame["data"]["content"] == "from owner"
    seen = [m["content"] for m in history(api, ann, chat_id).json()["items"]]
    assert seen == ["from owner"]
    others = [m["content"] for m in history(api, owner, chat_id).json()["items"]]
    assert others[:2] == ["from owner", "from bob"]
    unread = next(
        c["unread_count"]
        for c in api.get("/v1/chats", headers=bearer(ann["access_token"])).json()["items"]
        if c["chat_id"] == chat_id
    )
    assert unread == 1
    assert (
        api.delete(f"/v1/blocks/{bob['user_id']}", headers=bearer(ann["access_token"])).status_code
        == 204
    )
    assert api.get("/v1/blocks", headers=bearer(ann["access_token"])).json()["items"] == []


def test_mute_and_report(api: httpx.Client) -> None:
    ann, bob = signed_up(api), signed_up(api)
    befriend(api, ann, bob)
    chat_id = create(api, ann, [bob]).json()["chat_id"]
    auth = bearer(bob["access_token"])
    assert (
        api.put(f"/v1/chats/{chat_id}/mute", json={"until": None}, headers=auth).status_code == 204
    )
    chat = api.get(f"/v1/chats/{chat_id}", headers=auth).json()
    assert (chat["muted"], chat["muted_until"]) == (True, None)
    assert api.delete(f"/v1/chats/{chat_id}/mute", headers=auth).status_code == 204
    assert api.get(f"/v1/chats/{chat_id}", headers=auth).json()["muted"] is False
    message = send(api, ann, chat_id, "spam spam").json()
    filed = api.post(
        "/v1/reports",
        json={"chat_id": chat_id, "message_id": message["message_id"], "reason": "spam"},
        headers=auth,
    )
    assert filed.status_code == 202, filed.text
    assert set(filed.json()) == {"report_id"}
    outsider = signed_up(api)
    refused = api.post(
        "/v1/reports",
        json={"chat_id": chat_id, "message_id": message["message_id"], "reason": "spam"},
        headers=bearer(outsider["access_token"]),
    )
    assert problem(refused) == (403, "not_participant")
