"""Files over real HTTP: uploads to the local S3 through the presigned POST, attachments
downloaded through their signed URLs, avatars through the local CDN, deleted messages' files
removed by the consumer (through the broker and the gateway's MSK trigger)."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import httpx
import pytest
from kafka import KafkaProducer

from messenger.kernel.clock import rfc3339, utcnow
from messenger_local.gateway import LocalGateway
from tests.e2e.flows import bearer, befriend, signed_up
from tests.support import poll, template

pytestmark = pytest.mark.e2e

JSON = {"content-type": "application/json"}
BAD_TEXT = ["a\x00b", "a\ud800b"]  # as tests/e2e/test_bad_input_http.py sends them


def raw(value: Any) -> bytes:
    return json.dumps(value).encode()  # ensure_ascii: \u0000 and \ud800 travel as escapes


def problem(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return response.status_code, response.json()["code"]


JPEG = b"\xff\xd8\xff\xe0" + os.urandom(3000) + b"\xff\xd9"


def upload(
    api: httpx.Client,
    user: dict[str, Any],
    data: bytes,
    content_type: str = "image/jpeg",
    purpose: str = "attachment",
    send_as: bytes | None = None,
    send_type: str | None = None,
) -> str:
    """POST /v1/uploads, then the file itself to S3 as a browser's form would (multipart)."""
    answer = api.post(
        "/v1/uploads",
        json={
            "purpose": purpose,
            "content_type": content_type,
            "size": len(data),
            "filename": "photo.jpg",
        },
        headers=bearer(user["access_token"]),
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    fields = dict(created["upload"]["fields"])
    if send_type:
        fields["Content-Type"] = send_type
    stored = httpx.post(
        created["upload"]["url"],
        data=fields,
        files={"file": ("photo.jpg", send_as if send_as is not None else data, content_type)},
        timeout=15,
    )
    assert stored.status_code in (200, 201, 204), stored.text
    return str(created["upload_id"])


@pytest.fixture
def chat(api: httpx.Client) -> tuple[dict[str, Any], dict[str, Any], str]:
    ann, bob = signed_up(api), signed_up(api)
    befriend(api, ann, bob)
    created = api.post(
        "/v1/chats", json={"participants": [bob["user_id"]]}, headers=bearer(ann["access_token"])
    )
    assert created.status_code == 201, created.text
    return ann, bob, str(created.json()["chat_id"])


def send(
    api: httpx.Client, user: dict[str, Any], chat_id: str, body: dict[str, Any]
) -> httpx.Response:
    return api.post(
        f"/v1/chats/{chat_id}/messages", json=body, headers=bearer(user["access_token"])
    )


def test_a_photo_goes_to_s3_and_comes_back_through_its_signed_url(
    api: httpx.Client, chat: tuple[dict[str, Any], dict[str, Any], str]
) -> None:
    ann, bob, chat_id = chat
    upload_id = upload(api, ann, JPEG)
    sent = send(api, ann, chat_id, {"content": "from the beach", "attachment_ids": [upload_id]})
    assert sent.status_code == 201, sent.text
    (attachment,) = sent.json()["attachments"]
    assert (attachment["attachment_id"], attachment["size"], attachment["filename"]) == (
        upload_id,
        len(JPEG),
        "photo.jpg",
    )
    downloaded = httpx.get(attachment["url"], timeout=15)
    assert downloaded.status_code == 200
    assert downloaded.content == JPEG
    assert downloaded.headers["content-type"] == "image/jpeg"

    page = api.get(f"/v1/chats/{chat_id}/messages", headers=bearer(bob["access_token"])).json()
    (read,) = page["items"][0]["attachments"]
    assert httpx.get(read["url"], timeout=15).content == JPEG
    listed = api.get("/v1/chats", headers=bearer(bob["access_token"])).json()["items"][0]
    assert listed["last_message"]["attachments"][0]["attachment_id"] == upload_id

    again = send(api, ann, chat_id, {"content": "again", "attachment_ids": [upload_id]})
    assert (again.status_code, again.json()["code"]) == (409, "upload_used")


def test_other_bytes_than_declared_cannot_be_attached(
    api: httpx.Client, chat: tuple[dict[str, Any], dict[str, Any], str]
) -> None:
    """S3 enforces the policy in AWS; the moto server does not, and the HEAD check holds
    either way."""
    ann, _, chat_id = chat
    bigger = upload(api, ann, JPEG, send_as=JPEG + b"!")
    other_type = upload(api, ann, JPEG, send_type="text/html")
    for upload_id in (bigger, other_type):
        answer = send(api, ann, chat_id, {"content": "x", "attachment_ids": [upload_id]})
        assert answer.status_code == 409, answer.text
        assert answer.json()["code"] == "upload_incomplete"
    history = api.get(f"/v1/chats/{chat_id}/messages", headers=bearer(ann["access_token"]))
    assert history.json()["items"] == []


@pytest.mark.parametrize("bad", BAD_TEXT)
def test_a_filename_with_bad_text_is_422(api: httpx.Client, bad: str) -> None:
    user = signed_up(api)
    body = {"purpose": "attachment", "content_type": "text/plain", "size": 3, "filename": bad}
    answer = api.post(
        "/v1/uploads", content=raw(body), headers={**JSON, **bearer(user["access_token"])}
    )
    assert problem(answer) == (422, "validation_failed")
    assert [e["field"] for e in answer.json()["errors"]] == ["filename"]


def test_uploads_refuse_what_api_md_refuses(api: httpx.Client) -> None:
    user = signed_up(api)
    for body in (
        {"purpose": "attachment", "content_type": "text/html", "size": 10},
        {"purpose": "avatar", "content_type": "application/pdf", "size": 10},
        {"purpose": "avatar", "content_type": "image/png", "size": 5 * 2**20 + 1},
        {"purpose": "attachment", "content_type": "video/mp4", "size": 25 * 2**20 + 1},
    ):
        answer = api.post("/v1/uploads", json=body, headers=bearer(user["access_token"]))
        assert (answer.status_code, answer.json()["code"]) == (422, "validation_failed"), body
    assert api.post("/v1/uploads", json={}).status_code == 401


def warm_up_avatars(api: httpx.Client, user: dict[str, Any]) -> None:
    """The first avatar call of an execution environment loads the media context (MongoDB and
    S3 clients) inside its deadline: on a loaded machine that can end as 503 (nothing written).
    An unknown upload loads it all and changes nothing."""

    def loaded() -> bool:
        answer = api.patch(
            "/v1/users/me",
            json={"avatar_upload_id": str(uuid.uuid4())},
            headers=bearer(user["access_token"]),
        )
        assert answer.status_code in (404, 503), answer.text
        return answer.status_code == 404

    poll(loaded, timeout=60, interval=0.5)


def test_an_avatar_has_a_stable_url_on_the_cdn_and_the_old_one_goes(
    api: httpx.Client, gateway: LocalGateway
) -> None:
    user = signed_up(api)
    warm_up_avatars(api, user)
    first = upload(api, user, JPEG, purpose="avatar")
    answer = api.patch(
        "/v1/users/me", json={"avatar_upload_id": first}, headers=bearer(user["access_token"])
    )
    assert answer.status_code == 200, answer.text
    first_url = answer.json()["avatar_url"]
    assert first_url.startswith(f"{gateway.url}/_cdn/AvatarsCdn/{user['user_id']}/")
    for _ in range(2):  # stable: the same URL, the same image
        image = httpx.get(first_url, timeout=15)
        assert (image.status_code, image.content) == (200, JPEG)
        assert image.headers["content-type"] == "image/jpeg"
    public = api.get(f"/v1/users/{user['user_id']}", headers=bearer(user["access_token"]))
    assert public.json()["avatar_url"] == first_url

    png = b"\x89PNG\r\n\x1a\n" + os.urandom(500)
    second = upload(api, user, png, content_type="image/png", purpose="avatar")
    second_url = api.patch(
        "/v1/users/me", json={"avatar_upload_id": second}, headers=bearer(user["access_token"])
    ).json()["avatar_url"]
    assert httpx.get(second_url, timeout=15).content == png
    assert httpx.get(first_url, timeout=15).status_code == 403  # deleted (CloudFront + OAC)

    plain = "https://example.com/me.png"
    patched = api.patch(
        "/v1/users/me", json={"avatar_url": plain}, headers=bearer(user["access_token"])
    )
    assert patched.json()["avatar_url"] == plain
    assert httpx.get(second_url, timeout=15).status_code == 403


def test_a_deleted_message_loses_its_files(
    api: httpx.Client,
    chat: tuple[dict[str, Any], dict[str, Any], str],
    backing_env: dict[str, str],
) -> None:
    """The consumer of `message.deleted` (the event the delete path publishes), end to end."""
    from messenger_local.s3 import client

    ann, bob, chat_id = chat
    kept = send(api, ann, chat_id, {"attachment_ids": [upload(api, ann, JPEG)]}).json()
    doomed = send(api, ann, chat_id, {"attachment_ids": [upload(api, ann, JPEG)]}).json()
    url = doomed["attachments"][0]["url"]
    assert httpx.get(url, timeout=15).status_code == 200
    now = rfc3339(utcnow())
    envelope = {
        "id": str(uuid.uuid4()),
        "type": "message.deleted",
        "version": 1,
        "occurred_at": now,
        "data": {
            "chat_id": chat_id,
            "message_id": doomed["message_id"],
            # The publisher's whole schema (chats.events.MessageDeleted): the push consumer on
            # the same topic dead-letters an event that breaks it (retrying its partition first).
            "author_id": ann["user_id"],
            "deleted_by": ann["user_id"],
            "at": now,
            "participants": [ann["user_id"], bob["user_id"]],
        },
    }
    producer = KafkaProducer(bootstrap_servers=backing_env["KAFKA_BOOTSTRAP_SERVERS"], acks="all")
    producer.send("chat-events", key=chat_id.encode(), value=json.dumps(envelope).encode())
    producer.flush()
    producer.close()

    s3 = client(backing_env["S3_ENDPOINT"])
    bucket = template().functions["RemoveMessageAttachments"].env["MEDIA_BUCKET"]

    def files_of(message: dict[str, Any]) -> list[str]:
        prefix = f"attachments/{chat_id}/{message['message_id']}/"
        return [
            o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
        ]

    poll(lambda: files_of(doomed) == [], timeout=30, interval=0.3)
    assert httpx.get(url, timeout=15).status_code == 404
    assert len(files_of(kept)) == 1
    assert httpx.get(kept["attachments"][0]["url"], timeout=15).status_code == 200
