"""What a client does, in a few reusable steps over HTTP."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from messenger_local.gateway import LocalGateway
from tests.support import poll, unique

PASSWORD = "correct horse battery"


def register(api: httpx.Client, nickname: str | None = None) -> dict[str, Any]:
    nickname = nickname or unique("e")
    account = {"email": f"{nickname}@example.com", "password": PASSWORD, "nickname": nickname}
    response = api.post("/v1/auth/register", json=account)
    assert response.status_code == 201, response.text
    return {**account, **response.json()}


def login(api: httpx.Client, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = api.post("/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()
    return session


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for_profile(api: httpx.Client, token: str, timeout: float = 20) -> dict[str, Any]:
    """GET /v1/users/me until the users consumer has created the profile (bounded)."""

    def ready() -> dict[str, Any] | None:
        response = api.get("/v1/users/me", headers=bearer(token))
        if response.status_code == 404:
            assert response.json()["code"] == "profile_not_ready"
            return None
        assert response.status_code == 200, response.text
        profile: dict[str, Any] = response.json()
        return profile

    return poll(ready, timeout=timeout, interval=0.2)


def signed_up(api: httpx.Client) -> dict[str, Any]:
    """A user whose profile exists, with a live token."""
    account = register(api)
    session = login(api, account["email"])
    wait_for_profile(api, session["access_token"])
    return {**account, **session}


def befriend(api: httpx.Client, a: dict[str, Any], b: dict[str, Any]) -> None:
    sent = api.post(
        "/v1/friends/requests", json={"nickname": b["nickname"]}, headers=bearer(a["access_token"])
    )
    assert sent.status_code == 201, sent.text
    accepted = api.post(
        f"/v1/friends/requests/{a['nickname']}/accept", headers=bearer(b["access_token"])
    )
    assert accepted.status_code == 200, accepted.text


# -- chats and their WebSocket frames (used by the chats, messages and realtime tests) -----------
def problem(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return response.status_code, response.json()["code"]


def create(
    api: httpx.Client, user: dict[str, Any], others: list[Any], **extra: Any
) -> httpx.Response:
    body = {"participants": [o["user_id"] if isinstance(o, dict) else o for o in others], **extra}
    return api.post("/v1/chats", json=body, headers=bearer(user["access_token"]))


def send(
    api: httpx.Client,
    user: dict[str, Any],
    chat_id: str,
    content: str,
    client_id: str | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"content": content}
    if client_id is not None:
        body["client_message_id"] = client_id
    return api.post(
        f"/v1/chats/{chat_id}/messages", json=body, headers=bearer(user["access_token"])
    )


def history(api: httpx.Client, user: dict[str, Any], chat_id: str, **params: Any) -> httpx.Response:
    return api.get(
        f"/v1/chats/{chat_id}/messages", params=params, headers=bearer(user["access_token"])
    )


Frame = dict[str, Any]


@contextmanager
def device(gateway: LocalGateway, user: dict[str, Any]) -> Iterator[ClientConnection]:
    """One connected client of `user` (a phone, a laptop...)."""
    with connect(f"{gateway.ws_url}/?token={user['access_token']}", open_timeout=10) as ws:
        yield ws


def next_frame(ws: ClientConnection, wanted: Callable[[Frame], bool], timeout: float = 30) -> Frame:
    """The first frame satisfying `wanted` (others are skipped), within `timeout`: generous,
    because late in a full run the one local DynamoDB (moto, decision 55) queues a frame's calls
    behind the earlier tests' fan-outs. How fast a frame arrives is `make bench`'s to say."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError("no such frame within the timeout")
        try:
            frame: Frame = json.loads(ws.recv(timeout=remaining))
        except TimeoutError:
            raise AssertionError("no such frame within the timeout") from None
        if wanted(frame):
            return frame


def typing_reaches(
    sender: ClientConnection, receiver: ClientConnection, chat_id: str, attempts: int = 3
) -> Frame:
    """`typing` from `sender` until `receiver` hears it: the first typing frame it gets. A
    typing indicator is ephemeral (not in the sync stream); a client repeats it while its user
    types, and one lost to a busy local stack is replaced by the next. Every 10 s at most, so a
    late frame is not mistaken for a later one."""
    frame = json.dumps({"action": "typing", "chat_id": chat_id})
    for _ in range(attempts - 1):
        sender.send(frame)
        with contextlib.suppress(AssertionError):
            return next_frame(receiver, of_type("typing"), timeout=10)
    sender.send(frame)
    return next_frame(receiver, of_type("typing"), timeout=10)


def of_type(kind: str, **data: Any) -> Callable[[Frame], bool]:
    def check(frame: Frame) -> bool:
        return frame.get("type") == kind and all(frame["data"].get(k) == v for k, v in data.items())

    return check


def mail_token(
    api: httpx.Client, to: str, subject: str, count: int = 1, timeout: float = 30
) -> str:
    """The token in the newest of at least `count` mails to `to` with `subject`, from the local
    mailbox (`GET /_local/mail`), polled within `timeout` (a consumer may still be sending)."""
    import re

    def arrived() -> str | None:
        response = api.get("/_local/mail", params={"to": to})
        assert response.status_code == 200, response.text
        mails = [m for m in response.json()["items"] if m["subject"] == subject]
        if len(mails) < count:
            return None
        found = re.search(r"token=([A-Za-z0-9_\-]+)", mails[0]["text"])
        assert found, mails[0]["text"]
        return found.group(1)

    return poll(arrived, timeout=timeout, interval=0.25)


def verified(api: httpx.Client, account: dict[str, Any]) -> None:
    """Follow the verification mail the registration sent."""
    token = mail_token(api, account["email"], "Confirm your email address")
    response = api.post("/v1/auth/email/verify", json={"token": token})
    assert response.status_code == 204, response.text
