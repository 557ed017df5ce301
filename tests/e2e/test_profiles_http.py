"""PATCH /v1/users/me and GET /v1/users/search through real HTTP: every rule of API.md."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest

from tests.e2e.flows import bearer, signed_up
from tests.support import unique

pytestmark = pytest.mark.e2e


def patch(api: httpx.Client, user: dict[str, Any], body: Any) -> httpx.Response:
    return api.patch("/v1/users/me", json=body, headers=bearer(user["access_token"]))


def code(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return response.status_code, response.json()["code"]


def test_patch_semantics_absent_unchanged_null_cleared(api: httpx.Client) -> None:
    user = signed_up(api)
    set_both = {"description": "hello", "avatar_url": "https://cdn.example.com/a.png"}
    updated = patch(api, user, set_both)
    assert updated.status_code == 200, updated.text
    assert {k: updated.json()[k] for k in set_both} == set_both
    assert updated.json()["email"] == user["email"]

    only_description = patch(api, user, {"description": "changed"}).json()
    assert only_description["avatar_url"] == set_both["avatar_url"]
    cleared = patch(api, user, {"avatar_url": None}).json()
    assert cleared["avatar_url"] is None
    assert cleared["description"] == "changed"
    assert patch(api, user, {}).json() == cleared

    me = api.get("/v1/users/me", headers=bearer(user["access_token"])).json()
    assert me == cleared


def test_nickname_change_moves_the_lookup_and_publishes(
    api: httpx.Client, backing_env: dict[str, str]
) -> None:
    user = signed_up(api)
    new = unique("New")
    assert patch(api, user, {"nickname": new}).json()["nickname"] == new
    headers = bearer(user["access_token"])
    found = api.get(f"/v1/users/by-nickname/{new.lower()}", headers=headers)
    assert found.json()["user_id"] == user["user_id"]
    old = api.get(f"/v1/users/by-nickname/{user['nickname']}", headers=headers)
    assert code(old) == (404, "user_not_found")
    with psycopg.connect(backing_env["DATABASE_URL"]) as conn:
        payloads = conn.execute(
            "SELECT payload FROM messaging.outbox WHERE key = %s"
            " AND payload->>'type' = 'user.profile_updated'",
            (user["user_id"],),
        ).fetchall()
    assert [p[0]["data"]["nickname"] for p in payloads] == [new]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": "x" * 501}, "description"),
        ({"avatar_url": "http://cdn.example.com/a.png"}, "avatar_url"),
        ({"avatar_url": "https://cdn.example.com/" + "a" * 2048}, "avatar_url"),
        ({"avatar_url": "not a url"}, "avatar_url"),
        ({"nickname": None}, "nickname"),
        ({"nickname": "no spaces"}, "nickname"),
        ({"nickname": "ab"}, "nickname"),
        ({"email": "x@example.com"}, "email"),
    ],
)
def test_patch_rules_are_422(api: httpx.Client, body: dict[str, Any], field: str) -> None:
    user = signed_up(api)
    response = patch(api, user, body)
    assert code(response) == (422, "validation_failed")
    assert field in {e["field"] for e in response.json()["errors"]}
    unchanged = api.get("/v1/users/me", headers=bearer(user["access_token"])).json()
    assert unchanged["description"] is None


def test_taken_nickname_is_409_case_insensitively(api: httpx.Client) -> None:
    first, second = signed_up(api), signed_up(api)
    assert code(patch(api, second, {"nickname": first["nickname"].upper()})) == (
        409,
        "nickname_taken",
    )
    malformed = api.patch(
        "/v1/users/me",
        content=b"{nope",
        headers={**bearer(second["access_token"]), "content-type": "application/json"},
    )
    assert code(malformed) == (400, "malformed_json")


def test_two_clients_racing_for_one_nickname(api: httpx.Client) -> None:
    racers = [signed_up(api), signed_up(api)]
    wanted = unique("race")
    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(
            pool.map(lambda u: patch(api, u, {"nickname": wanted}).status_code, racers)
        )
    assert statuses == [200, 409]


def test_search_by_prefix_pages_without_repeats(api: httpx.Client) -> None:
    prefix = unique("S")
    users = [signed_up(api) for _ in range(5)]
    for i, user in enumerate(users):
        assert patch(api, user, {"nickname": f"{prefix}_{i}"}).status_code == 200
    headers = bearer(users[0]["access_token"])
    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": prefix.lower(), "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/users/search", params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 2
        seen += [p["nickname"] for p in body["items"]]
        assert all("email" not in p for p in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"{prefix}_{i}" for i in range(5)]


def test_search_treats_like_wildcards_literally(api: httpx.Client) -> None:
    user = signed_up(api)
    base = unique("w")
    assert patch(api, user, {"nickname": base + "ab"}).status_code == 200
    headers = bearer(user["access_token"])
    assert api.get("/v1/users/search", params={"q": base + "a"}, headers=headers).json()["items"]
    for wildcard in ("_", "%"):
        found = api.get("/v1/users/search", params={"q": base + wildcard}, headers=headers)
        assert found.status_code == 200
        assert found.json()["items"] == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "x" * 33},
        {"q": "a", "limit": 0},
        {"q": "a", "limit": 101},
        {"q": "a", "cursor": "%%%not-a-cursor"},
    ],
)
def test_search_rules_are_422(api: httpx.Client, params: dict[str, Any]) -> None:
    user = signed_up(api)
    response = api.get("/v1/users/search", params=params, headers=bearer(user["access_token"]))
    assert code(response) == (422, "validation_failed")
