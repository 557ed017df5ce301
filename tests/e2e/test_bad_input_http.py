"""Bad input through the local gateway is a documented 4xx with nothing written (issue 10).

Bodies are sent as raw bytes (json.dumps escapes NUL and lone surrogates as \\u0000 / \\ud800,
exactly what a client's JSON encoder sends); every refused write is followed by a read showing
that nothing changed.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from messenger_local.gateway import LocalGateway
from tests.e2e.flows import PASSWORD, bearer, befriend, signed_up
from tests.support import unique

pytestmark = pytest.mark.e2e

JSON = {"content-type": "application/json"}
NESTED = '{"email":' * 5000 + "1" + "}" * 5000
BAD_TEXT = ["a\x00b", "a\ud800b"]


def raw(value: Any) -> bytes:
    return json.dumps(value).encode()  # ensure_ascii: \u0000 and \ud800 travel as escapes


def problem(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return response.status_code, response.json()["code"]


def cursor_of(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


@pytest.fixture(scope="module")
def client(gateway: LocalGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=15) as api:
        yield api


@pytest.fixture(scope="module")
def pair(client: httpx.Client) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Two friends and their direct chat."""
    ann, bob = signed_up(client), signed_up(client)
    befriend(client, ann, bob)
    created = client.post(
        "/v1/chats", json={"participants": [bob["user_id"]]}, headers=bearer(ann["access_token"])
    )
    assert created.status_code == 201, created.text
    return ann, bob, created.json()["chat_id"]


def chats(client: httpx.Client, user: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get("/v1/chats", headers=bearer(user["access_token"]))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# -- 1. a body that is not UTF-8 -------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/json", None])
def test_a_body_that_is_not_utf8_is_400_and_creates_nothing(
    client: httpx.Client, pair: tuple[dict, dict, str], content_type: str | None
) -> None:
    ann, bob, _ = pair
    before = chats(client, ann)
    headers = bearer(ann["access_token"])
    if content_type:
        headers["content-type"] = content_type
    response = client.post("/v1/chats", content=b"\xff\xfe", headers=headers)
    assert problem(response) == (400, "malformed_json")
    almost = b'{"participants": ["' + bob["user_id"].encode() + b'"], "title": "\xe9t\xe9"}'
    response = client.post("/v1/chats", content=almost, headers=headers)  # latin-1, not UTF-8
    assert problem(response) == (400, "malformed_json")
    assert chats(client, ann) == before


def test_a_register_body_that_is_not_utf8_creates_no_account(client: httpx.Client) -> None:
    nickname = unique("nu")
    body = f'{{"email":"{nickname}@example.com","password":"{PASSWORD}","nickname":"{nickname}"'
    response = client.post(
        "/v1/auth/register", content=body.encode() + b',"x":"\xff"}', headers=JSON
    )
    assert problem(response) == (400, "malformed_json")
    login = {"email": f"{nickname}@example.com", "password": PASSWORD}
    assert problem(client.post("/v1/auth/login", json=login)) == (401, "invalid_credentials")


# Routes that take a JSON object body, one per context.
JSON_ROUTES = [
    ("POST", "/v1/auth/register"),
    ("POST", "/v1/auth/login"),
    ("PATCH", "/v1/users/me"),
    ("POST", "/v1/friends/requests"),
    ("POST", "/v1/chats"),
    ("POST", "/v1/uploads"),
]


# -- 2. JSON nested too deeply ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    JSON_ROUTES,
)
def test_deeply_nested_json_is_400(
    client: httpx.Client, pair: tuple[dict, dict, str], method: str, path: str
) -> None:
    ann, _, chat_id = pair
    response = client.request(
        method, path, content=NESTED.encode(), headers={**JSON, **bearer(ann["access_token"])}
    )
    assert problem(response) == (400, "malformed_json")
    response = client.post(
        f"/v1/chats/{chat_id}/messages",
        content=NESTED.encode(),
        headers={**JSON, **bearer(ann["access_token"])},
    )
    assert problem(response) == (400, "malformed_json")


# -- 3. and 4. NUL and unpaired surrogates in text ---------------------------------------------


@pytest.mark.parametrize("bad", BAD_TEXT)
def test_register_and_login_refuse_bad_text_with_422(client: httpx.Client, bad: str) -> None:
    nickname = unique("nt")
    email = f"{nickname}@example.com"
    for body in (
        {"email": email[:1] + bad + email[1:], "password": PASSWORD, "nickname": nickname},
        {"email": email, "password": PASSWORD + bad, "nickname": nickname},
    ):
        response = client.post("/v1/auth/register", content=raw(body), headers=JSON)
        assert problem(response) == (422, "validation_failed")
    for body in ({"email": email + bad, "password": PASSWORD}, {"email": email, "password": bad}):
        response = client.post("/v1/auth/login", content=raw(body), headers=JSON)
        assert problem(response) == (422, "validation_failed")
    login = {"email": email, "password": PASSWORD}
    assert problem(client.post("/v1/auth/login", json=login)) == (401, "invalid_credentials")


@pytest.mark.parametrize("bad", BAD_TEXT)
@pytest.mark.parametrize(
    "patch",
    [{"description": "hi {}"}, {"avatar_url": "https://example.com/{}.png"}, {"nickname": "n{}n"}],
)
def test_profile_patch_refuses_bad_text_and_changes_nothing(
    client: httpx.Client, pair: tuple[dict, dict, str], bad: str, patch: dict[str, str]
) -> None:
    ann, _, _ = pair
    me = client.get("/v1/users/me", headers=bearer(ann["access_token"])).json()
    body = {name: value.format(bad) for name, value in patch.items()}
    response = client.patch(
        "/v1/users/me", content=raw(body), headers={**JSON, **bearer(ann["access_token"])}
    )
    assert problem(response) == (422, "validation_failed")
    assert [e["field"] for e in response.json()["errors"]] == list(patch)
    assert client.get("/v1/users/me", headers=bearer(ann["access_token"])).json() == me


@pytest.mark.parametrize("bad", BAD_TEXT)
def test_friend_request_refuses_bad_text_and_sends_nothing(
    client: httpx.Client, pair: tuple[dict, dict, str], bad: str
) -> None:
    ann, _, _ = pair
    before = client.get("/v1/friends", headers=bearer(ann["access_token"])).json()
    carol = signed_up(client)
    body = {"nickname": carol["nickname"] + bad}
    response = client.post(
        "/v1/friends/requests", content=raw(body), headers={**JSON, **bearer(ann["access_token"])}
    )
    assert problem(response) == (422, "validation_failed")
    assert client.get("/v1/friends", headers=bearer(ann["access_token"])).json() == before


@pytest.mark.parametrize("bad", BAD_TEXT)
def test_messages_refuse_bad_text_and_store_nothing(
    client: httpx.Client, pair: tuple[dict, dict, str], bad: str
) -> None:
    ann, _, chat_id = pair
    url = f"/v1/chats/{chat_id}/messages"
    headers = {**JSON, **bearer(ann["access_token"])}
    before = client.get(url, headers=headers).json()
    for body in (
        {"content": "hello " + bad},
        {"content": bad},
        {"content": "ok", "client_message_id": "c-" + bad},
    ):
        response = client.post(url, content=raw(body), headers=headers)
        assert problem(response) == (422, "validation_failed")
    assert client.get(url, headers=headers).json() == before


@pytest.mark.parametrize("bad", BAD_TEXT)
def test_a_group_title_with_bad_text_creates_no_chat(
    client: httpx.Client, pair: tuple[dict, dict, str], bad: str
) -> None:
    ann, bob, _ = pair
    before = chats(client, ann)
    body = {"participants": [bob["user_id"], str(uuid.uuid4())], "title": "team " + bad}
    response = client.post(
        "/v1/chats", content=raw(body), headers={**JSON, **bearer(ann["access_token"])}
    )
    assert problem(response) == (422, "validation_failed")
    assert [e["field"] for e in response.json()["errors"]] == ["title"]
    assert chats(client, ann) == before


@pytest.mark.parametrize("q", ["a\x00", "a\ud800", "\x00"])
def test_search_refuses_bad_text_with_422(
    client: httpx.Client, pair: tuple[dict, dict, str], q: str
) -> None:
    ann, _, _ = pair
    encoded = q.encode("utf-8", "surrogatepass").hex()
    query = "".join(f"%{encoded[i : i + 2]}" for i in range(0, len(encoded), 2))
    response = client.get(f"/v1/users/search?q={query}", headers=bearer(ann["access_token"]))
    # %ED%A0%80 (a surrogate in UTF-8) is not UTF-8: decoded with a replacement character it
    # is a harmless prefix (200); NUL is refused.
    if "\x00" in q:
        assert problem(response) == (422, "validation_failed")
    else:
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("key", ["a\x00", "a\ud800", 42, ["x"]])
def test_a_search_cursor_holding_bad_text_is_422(
    client: httpx.Client, pair: tuple[dict, dict, str], key: Any
) -> None:
    ann, _, _ = pair
    response = client.get(
        "/v1/users/search",
        params={"q": "a", "cursor": cursor_of(key)},
        headers=bearer(ann["access_token"]),
    )
    assert problem(response) == (422, "validation_failed")


# -- 5. cursors that decode to something unusable ---------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        ["9999-12-31T23:59:59-14:00", "00000000-0000-0000-0000-000000000000"],
        ["0001-01-01T00:00:00+14:00", "00000000-0000-0000-0000-000000000000"],
        ["2026-01-01T00:00:00", "00000000-0000-0000-0000-000000000000"],
        ["2026-01-01T00:00:00Z", "a\ud800"],
        "a\x00",
    ],
)
def test_a_chats_cursor_it_cannot_use_is_422(
    client: httpx.Client, pair: tuple[dict, dict, str], key: Any
) -> None:
    ann, _, _ = pair
    response = client.get(
        "/v1/chats", params={"cursor": cursor_of(key)}, headers=bearer(ann["access_token"])
    )
    assert problem(response) == (422, "validation_failed")
    assert response.json()["errors"] == [{"field": "cursor", "message": "invalid cursor"}]


@pytest.mark.parametrize("cursor", [cursor_of("a\x00"), cursor_of(7), "%00", "YQ"])
def test_a_history_cursor_it_cannot_use_is_422(
    client: httpx.Client, pair: tuple[dict, dict, str], cursor: str
) -> None:
    ann, _, chat_id = pair
    response = client.get(
        f"/v1/chats/{chat_id}/messages?cursor={cursor}", headers=bearer(ann["access_token"])
    )
    assert problem(response) == (422, "validation_failed")


# -- the sweep: path and query parameters, non-object bodies, a header-less POST ---------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # Powertools matches routes on rawPath: path parameters arrive still percent-encoded.
        ("/v1/users/%00", (422, "validation_failed")),
        ("/v1/users/not-a-uuid", (422, "validation_failed")),
        ("/v1/users/by-nickname/%00", (404, "user_not_found")),
        ("/v1/users/by-nickname/a%2Fb", (404, "user_not_found")),
        ("/v1/users/by-nickname/%ED%A0%80", (404, "user_not_found")),
        ("/v1/users/by-nickname/" + "x" * 4000, (404, "user_not_found")),
        ("/v1/chats/%00/messages", (422, "validation_failed")),
        ("/v1/users/search?q=a&limit=99999999999999999999", (422, "validation_failed")),
        ("/v1/users/search?q=a&limit=-1", (422, "validation_failed")),
        ("/v1/users/search?q=a&limit=1e3", (422, "validation_failed")),
        ("/v1/users/search?q=" + "a" * 4000, (422, "validation_failed")),
        ("/v1/chats?limit=99999999999999999999", (422, "validation_failed")),
        ("/v1/chats?cursor=" + "A" * 4000, (422, "validation_failed")),
    ],
)
def test_bad_path_and_query_parameters_are_4xx(
    client: httpx.Client, pair: tuple[dict, dict, str], path: str, expected: tuple[int, str]
) -> None:
    ann, _, _ = pair
    response = client.get(path, headers=bearer(ann["access_token"]))
    assert problem(response) == expected


@pytest.mark.parametrize("nickname", ["%00", "a%2Fb", "%ED%A0%80"])
@pytest.mark.parametrize("action", ["accept", "reject"])
def test_friend_actions_on_a_bad_nickname_are_404(
    client: httpx.Client, pair: tuple[dict, dict, str], nickname: str, action: str
) -> None:
    ann, _, _ = pair
    response = client.post(
        f"/v1/friends/requests/{nickname}/{action}", headers=bearer(ann["access_token"])
    )
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"null", b"1", b"true"])
@pytest.mark.parametrize(
    ("method", "path"),
    JSON_ROUTES,
)
def test_a_body_that_is_not_an_object_is_422(
    client: httpx.Client, pair: tuple[dict, dict, str], body: bytes, method: str, path: str
) -> None:
    ann, _, _ = pair
    response = client.request(
        method, path, content=body, headers={**JSON, **bearer(ann["access_token"])}
    )
    assert problem(response) == (422, "validation_failed")


def test_a_header_less_post_is_422_and_sends_nothing(
    client: httpx.Client, pair: tuple[dict, dict, str]
) -> None:
    ann, _, chat_id = pair
    url = f"/v1/chats/{chat_id}/messages"
    before = client.get(url, headers=bearer(ann["access_token"])).json()
    response = client.post(url, headers=bearer(ann["access_token"]))
    assert problem(response) == (422, "validation_failed")
    response = client.post(url, content=b"hello", headers=bearer(ann["access_token"]))
    assert problem(response) == (400, "malformed_json")
    assert client.get(url, headers=bearer(ann["access_token"])).json() == before
