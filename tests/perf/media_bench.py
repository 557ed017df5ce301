"""Bench rows of the media RPCs (tests/perf/bench.py's warm part): starting an upload, sending a
message with a file, and reading a history page whose 50 messages each carry one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from tests.support import template

if TYPE_CHECKING:
    from tests.perf.bench import Client, Rpc

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 92  # 100 bytes


def _bucket() -> str:
    return template().functions["CreateUpload"].env["MEDIA_BUCKET"]


def uploaded(api: httpx.Client, user: dict[str, Any], count: int) -> list[str]:
    """Files uploaded as a client does (setup, not measured)."""
    from tests.perf.bench import setup_call

    ids = []
    body = {"purpose": "attachment", "content_type": "image/png", "size": len(PNG)}
    for _ in range(count):
        created = setup_call(
            lambda: api.post("/v1/uploads", json=body, headers=user["headers"])
        ).json()
        httpx.post(
            created["upload"]["url"],
            data=created["upload"]["fields"],
            files={"file": ("f.png", PNG, "image/png")},
        ).raise_for_status()
        ids.append(str(created["upload_id"]))
    return ids


def media_rows(
    api: httpx.Client, client: Client, me: dict[str, Any], n: int, backing: dict[str, str]
) -> list[Rpc]:
    from tests.perf.bench import Rpc, measure_with_floor, note

    timed = measure_with_floor(backing)
    bucket, owner = _bucket(), str(me["user_id"])
    friend = client.user()
    client.befriend(me, friend)
    chat_id = api.post(
        "/v1/chats", json={"participants": [friend["user_id"]]}, headers=me["headers"]
    ).json()["chat_id"]
    url = f"/v1/chats/{chat_id}/messages"
    note("media: uploads for the sends")
    files = uploaded(api, me, n + 10)
    upload_body = {"purpose": "attachment", "content_type": "image/png", "size": len(PNG)}
    for i in range(10):  # warm CreateUpload, SendMessage's file path, GetChatHistory's signing
        api.post("/v1/uploads", json=upload_body, headers=me["headers"])
        api.post(url, json={"attachment_ids": [files[n + i]]}, headers=me["headers"])
        api.get(url, headers=me["headers"])
    sender = {"chat_id": chat_id, "author": owner, "others": [friend["user_id"]], "bucket": bucket}
    return [
        timed(
            Rpc("POST /v1/uploads"),
            n,
            lambda _: api.post("/v1/uploads", json=upload_body, headers=me["headers"]),
            ("create_upload", n, {"owner": owner, "bucket": bucket}),
        ),
        timed(
            Rpc("POST /v1/chats/{id}/messages (1 file)"),
            n,
            lambda i: api.post(
                url, json={"content": f"f{i}", "attachment_ids": [files[i]]}, headers=me["headers"]
            ),
            ("send_with_file", n, sender),
        ),
        timed(
            Rpc("GET /v1/chats/{id}/messages (50 w/ files)"),
            2 * n,
            lambda _: api.get(url, headers=me["headers"]),
            ("history_with_files", 2 * n, {"chat_id": chat_id, "bucket": bucket}),
        ),
    ]
