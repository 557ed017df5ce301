"""Friends through real HTTP: every status and code of API.md, races and the cooldown."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest

from tests.e2e.flows import bearer, signed_up
from tests.support import poll, unique

pytestmark = pytest.mark.e2e


def send(api: httpx.Client, sender: dict[str, Any], nickname: str) -> httpx.Response:
    return api.post(
        "/v1/friends/requests", json={"nickname": nickname}, headers=bearer(sender["access_token"])
    )


def answer(api: httpx.Client, user: dict[str, Any], nickname: str, verb: str) -> httpx.Response:
    return api.post(f"/v1/friends/requests/{nickname}/{verb}", headers=bearer(user["access_token"]))


def remove(api: httpx.Client, user: dict[str, Any], nickname: str) -> httpx.Response:
    return api.delete(f"/v1/friends/{nickname}", headers=bearer(user["access_token"]))


def overview(api: httpx.Client, user: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    response = api.get("/v1/friends", headers=bearer(user["access_token"]))
    assert response.status_code == 200, response.text
    body: dict[str, list[dict[str, Any]]] = response.json()
    return body


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["user_id"] for i in items]


def problem(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return response.status_code, response.json()["code"]


def test_request_accept_and_symmetric_lists(api: httpx.Client) -> None:
    ann, bob = signed_up(api), signed_up(api)
    sent = send(api, ann, bob["nickname"].upper())
    assert (sent.status_code, sent.json()) == (201, {"status": "requested"})
    assert ids(overview(api, ann)["outgoing"]) == [bob["user_id"]]
    incoming = overview(api, bob)["incoming"]
    assert ids(incoming) == [ann["user_id"]]
    assert set(incoming[0]) == {"user_id", "nickname", "avatar_url", "requested_at"}

    accepted = answer(api, bob, ann["nickname"], "accept")
    assert (accepted.status_code, accepted.json()) == (200, {"status": "accepted"})
    for me, other in ((ann, bob), (bob, ann)):
        lists = overview(api, me)
        assert ids(lists["friends"]) == [other["user_id"]]
        assert lists["incoming"] == lists["outgoing"] == []
        assert {"user_id", "nickname", "avatar_url", "since"} <= set(lists["friends"][0])


def test_request_errors(api: httpx.Client) -> None:
    ann, bob = signed_up(api), signed_up(api)
    assert problem(send(api, ann, "nobody_" + unique())) == (404, "user_not_found")
    assert problem(send(api, ann, ann["nickname"])) == (422, "cannot_befriend_self")
    assert send(api, ann, bob["nickname"]).status_code == 201
    assert problem(send(api, ann, bob["nickname"])) == (409, "request_pending")
    mutual = send(api, bob, ann["nickname"])
    assert (mutual.status_code, mutual.json()["status"]) == (200, "accepted")
    assert problem(send(api, ann, bob["nickname"])) == (409, "already_friends")
    bad = api.post("/v1/friends/requests", json={}, headers=bearer(ann["access_token"]))
    assert problem(bad) == (422, "validation_failed")


def test_accept_and_reject_need_a_pending_request(api: httpx.Client) -> None:
    ann, bob = signed_up(api), signed_up(api)
    assert problem(answer(api, bob, ann["nickname"], "accept")) == (404, "request_not_found")
    assert problem(answer(api, bob, "nobody_" + unique(), "reject")) == (404, "request_not_found")
    send(api, ann, bob["nickname"])
    assert problem(answer(api, ann, bob["nickname"], "accept")) == (404, "request_not_found")
    assert answer(api, bob, ann["nickname"], "accept").status_code == 200
    assert problem(answer(api, bob, ann["nickname"], "accept")) == (404, "request_not_found")


def test_reject_then_cooldown_then_request_again(
    api: httpx.Client, backing_env: dict[str, str]
) -> None:
    ann, bob = signed_up(api), signed_up(api)
    send(api, ann, bob["nickname"])
    rejected = answer(api, bob, ann["nickname"], "reject")
    assert (rejected.status_code, rejected.json()) == (200, {"status": "rejected"})
    assert overview(api, ann)["outgoing"] == []
    assert overview(api, bob)["incoming"] == []
    inside = send(api, ann, bob["nickname"])
    assert problem(inside) == (409, "request_rejected")
    assert "retry_after" in inside.json()

    with psycopg.connect(backing_env["DATABASE_URL"]) as conn:  # 24 h pass
        conn.execute(
            "UPDATE friends.friendships SET responded_at = responded_at - interval '25 hours'"
            " WHERE %s IN (user_low, user_high)",
            (ann["user_id"],),
        )
    after = send(api, ann, bob["nickname"])
    assert (after.status_code, after.json()) == (201, {"status": "requested"})


def test_remove_a_friend_and_cancel_a_request(api: httpx.Client) -> None:
    ann, bob, cid = signed_up(api), signed_up(api), signed_up(api)
    send(api, ann, bob["nickname"])
    answer(api, bob, ann["nickname"], "accept")
    assert remove(api, bob, ann["nickname"]).status_code == 204
    assert overview(api, ann)["friends"] == overview(api, bob)["friends"] == []
    assert problem(remove(api, ann, bob["nickname"])) == (404, "not_friends")

    send(api, ann, cid["nickname"])
    assert problem(remove(api, cid, ann["nickname"])) == (404, "not_friends")
    assert remove(api, ann, cid["nickname"]).status_code == 204
    assert overview(api, cid)["incoming"] == []
    assert problem(remove(api, ann, "nobody_" + unique())) == (404, "not_friends")


def test_two_users_asking_each_other_at_once_become_friends_once(
    api: httpx.Client, backing_env: dict[str, str]
) -> None:
    for _ in range(3):
        ann, bob = signed_up(api), signed_up(api)
        with ThreadPoolExecutor(2) as pool:
            answers = list(
                pool.map(
                    lambda pair: send(api, pair[0], pair[1]["nickname"]),
                    [(ann, bob), (bob, ann)],
                )
            )
        assert sorted(r.status_code for r in answers) == [200, 201]
        assert ids(overview(api, ann)["friends"]) == [bob["user_id"]]
        assert ids(overview(api, bob)["friends"]) == [ann["user_id"]]
        with psycopg.connect(backing_env["DATABASE_URL"]) as conn:
            rows = conn.execute(
                "SELECT count(*) FROM friends.friendships WHERE %s IN (user_low, user_high)",
                (ann["user_id"],),
            ).fetchone()
        assert rows == (1,)


def test_profile_change_shows_in_the_friends_list(api: httpx.Client) -> None:
    ann, bob = signed_up(api), signed_up(api)
    send(api, ann, bob["nickname"])
    answer(api, bob, ann["nickname"], "accept")
    assert overview(api, ann)["friends"][0]["nickname"] == bob["nickname"]
    renamed = unique("Ren")
    changed = api.patch(
        "/v1/users/me",
        json={"nickname": renamed, "avatar_url": "https://cdn.example.com/b.png"},
        headers=bearer(bob["access_token"]),
    )
    assert changed.status_code == 200
    friend = overview(api, ann)["friends"][0]
    assert (friend["nickname"], friend["avatar_url"]) == (renamed, "https://cdn.example.com/b.png")


def test_a_renamed_friend_moves_to_their_new_place_in_the_list(api: httpx.Client) -> None:
    """The order follows `user.profile_updated` through the broker (UpdateFriendsOnUserEvents)."""
    ann, bob, cyd = signed_up(api), signed_up(api), signed_up(api)
    for friend in (bob, cyd):
        assert send(api, ann, friend["nickname"]).status_code == 201
        assert answer(api, friend, ann["nickname"], "accept").status_code == 200
    leader, other = sorted((bob, cyd), key=lambda f: f["nickname"].lower())

    def order() -> list[str]:
        return ids(overview(api, ann)["friends"])

    assert order() == [leader["user_id"], other["user_id"]]
    changed = api.patch(
        "/v1/users/me", json={"nickname": unique("zz")}, headers=bearer(leader["access_token"])
    )
    assert changed.status_code == 200
    poll(lambda: order() == [other["user_id"], leader["user_id"]], timeout=30)


def test_friend_routes_need_a_token(api: httpx.Client) -> None:
    assert api.get("/v1/friends").status_code == 401
    assert api.post("/v1/friends/requests", json={"nickname": "x"}).status_code == 401
    assert api.delete("/v1/friends/x", headers=bearer("forged")).status_code == 401


def page(api: httpx.Client, user: dict[str, Any], **params: Any) -> tuple[int, dict[str, Any]]:
    response = api.get("/v1/friends", params=params, headers=bearer(user["access_token"]))
    return response.status_code, response.json()


def test_friends_pages_walk_every_friend_once_in_nickname_order(api: httpx.Client) -> None:
    ann = signed_up(api)
    with ThreadPoolExecutor(4) as pool:
        others = list(pool.map(lambda _: signed_up(api), range(7)))
    friends, asking, asked = others[:5], others[5], others[6]
    for friend in friends:
        assert send(api, ann, friend["nickname"]).status_code == 201
        assert answer(api, friend, ann["nickname"], "accept").status_code == 200
    assert send(api, asking, ann["nickname"]).status_code == 201
    assert send(api, ann, asked["nickname"]).status_code == 201

    status, first = page(api, ann, limit=2)
    assert status == 200, first
    assert ids(first["incoming"]) == [asking["user_id"]]
    assert ids(first["outgoing"]) == [asked["user_id"]]
    walked, body, pages = ids(first["friends"]), first, 1
    while body["next_cursor"] is not None:
        status, body = page(api, ann, limit=2, cursor=body["next_cursor"])
        assert status == 200, body
        assert body["incoming"] == body["outgoing"] == []  # only on the first page
        assert 1 <= len(body["friends"]) <= 2
        walked += ids(body["friends"])
        pages += 1
    by_nickname = sorted(friends, key=lambda f: (f["nickname"].lower(), f["user_id"]))
    assert walked == [f["user_id"] for f in by_nickname]  # no gap, no repeat, in order
    assert pages == 3
    whole = overview(api, ann)  # default limit 100: one page
    assert ids(whole["friends"]) == walked
    assert whole["next_cursor"] is None


def test_friends_page_limits_and_cursors_are_checked(api: httpx.Client) -> None:
    ann = signed_up(api)
    for limit in (0, 501, -1, "x"):
        status, body = page(api, ann, limit=limit)
        assert (status, body["code"]) == (422, "validation_failed"), (limit, body)
    assert page(api, ann, limit=500)[0] == 200
    assert page(api, ann, limit=1)[0] == 200
    for cursor in ("garbage!", "WyJhIl0=", "x" * 600):
        status, body = page(api, ann, cursor=cursor)
        assert (status, body["code"]) == (422, "validation_failed"), (cursor, body)
