"""Uploads, attachments and avatars: the functions with their events/ samples, against MongoDB,
Redis, Postgres and the local S3 (the moto server), files sent through the presigned POSTs."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from messenger_local.services import free_port
from tests.integration.helpers import friends, http_call, new_profile
from tests.support import invoke, sample_event, template

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("media_env")]

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
AVATARS = "https://avatars.example.test"


@pytest.fixture(scope="module")
def media_env(in_process_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """What the media functions read beyond the services (the template's bucket, the CDN's
    URL, dummy credentials for moto), with the media context's cached clients rebuilt."""
    import os

    from messenger import bootstrap
    from messenger.media import api
    from messenger.platform.settings import get_settings

    extra = {
        "MEDIA_BUCKET": template().functions["CreateUpload"].env["MEDIA_BUCKET"],
        "AVATARS_BASE_URL": AVATARS,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    os.environ.update(extra)
    get_settings.cache_clear()
    bootstrap._media_for_others.cache_clear()
    api._signer.cache_clear()
    try:
        yield {**in_process_env, **extra}
    finally:
        for name in extra:
            os.environ.pop(name, None)
        get_settings.cache_clear()
        bootstrap._media_for_others.cache_clear()
        api._signer.cache_clear()


def s3(env: dict[str, str]) -> Any:
    from messenger_local.s3 import client

    return client(env["S3_ENDPOINT"])


def mongo_db(env: dict[str, str]) -> Any:
    import pymongo

    client: Any = pymongo.MongoClient(env["MONGODB_URI"])
    return client[env["MONGODB_DATABASE"]]


def create_upload(
    user: str,
    *,
    size: int = len(PNG),
    content_type: str = "image/png",
    purpose: str = "attachment",
    filename: str | None = "pic.png",
) -> dict[str, Any]:
    body: dict[str, Any] = {"purpose": purpose, "content_type": content_type, "size": size}
    if filename is not None:
        body["filename"] = filename
    status, created, _ = http_call("CreateUpload", body, user_id=user)
    assert status == 201, created
    return created


def post_file(created: dict[str, Any], data: bytes, content_type: str | None = None) -> int:
    """As a client does: the form's fields, then the file; moto does not check the policy."""
    fields = dict(created["upload"]["fields"])
    if content_type is not None:
        fields["Content-Type"] = content_type
    answer = httpx.post(
        created["upload"]["url"], data=fields, files={"file": ("x", data, "image/png")}
    )
    return answer.status_code


def uploaded(user: str, data: bytes = PNG, **kwargs: Any) -> str:
    created = create_upload(user, size=len(data), **kwargs)
    assert post_file(created, data) in (200, 201, 204)
    return str(created["upload_id"])


def send(user: str, chat_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    status, answer, _ = http_call(
        "SendMessage", body, user_id=user, path_parameters={"chat_id": chat_id}
    )
    return status, answer


@pytest.fixture
def chat() -> tuple[str, str, str]:
    ann, bob = friends()
    status, created, _ = http_call("CreateChat", {"participants": [bob]}, user_id=ann)
    assert status == 201
    return ann, bob, str(created["chat_id"])


def keys_under(env: dict[str, str], prefix: str) -> list[str]:
    page = s3(env).list_objects_v2(Bucket=env["MEDIA_BUCKET"], Prefix=prefix)
    return [o["Key"] for o in page.get("Contents", [])]


# ------------------------------------------------------------------------------------------------
# CreateUpload
# ------------------------------------------------------------------------------------------------
def test_the_sample_gets_a_post_pinned_to_its_type_and_exact_size(
    media_env: dict[str, str],
) -> None:
    user = str(uuid.uuid4())
    event = sample_event("CreateUpload")
    event["requestContext"]["authorizer"]["lambda"]["user_id"] = user
    result = invoke("CreateUpload", event)
    assert result["statusCode"] == 201
    created = json.loads(result["body"])
    declared = json.loads(event["body"])
    fields = created["upload"]["fields"]
    upload_id = created["upload_id"]
    assert fields["key"] == f"uploads/{user}/{upload_id}"  # never the filename
    assert declared["filename"] not in json.dumps(created)
    assert fields["Content-Type"] == declared["content_type"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert {"Content-Type": declared["content_type"]} in policy["conditions"]
    size = declared["size"]
    assert ["content-length-range", size, size] in policy["conditions"]
    assert created["upload"]["url"] == f"{media_env['S3_ENDPOINT']}/{media_env['MEDIA_BUCKET']}"
    record = mongo_db(media_env).uploads.find_one({"_id": upload_id})
    assert record is not None
    assert (record["owner_id"], record["size"], record["used_by"]) == (user, size, None)


@pytest.mark.parametrize(
    "body",
    [
        {"purpose": "attachment", "content_type": "text/html", "size": 10},
        {"purpose": "attachment", "content_type": "image/svg+xml", "size": 10},
        {"purpose": "attachment", "content_type": "application/pdf", "size": 25 * 2**20 + 1},
        {"purpose": "attachment", "content_type": "application/pdf", "size": 0},
        {"purpose": "attachment", "content_type": "application/pdf", "size": "10"},
        {"purpose": "attachment", "content_type": "application/pdf", "size": 1.5},
        {"purpose": "avatar", "content_type": "application/pdf", "size": 10},
        {"purpose": "avatar", "content_type": "image/png", "size": 5 * 2**20 + 1},
        {"purpose": "banner", "content_type": "image/png", "size": 10},
        {"purpose": "attachment", "content_type": "text/plain", "size": 10, "filename": "a\nb"},
        {"purpose": "attachment", "content_type": "text/plain", "size": 10, "filename": "   "},
        {"purpose": "attachment", "content_type": "text/plain", "size": 10, "extra": 1},
        {"purpose": "attachment", "size": 10},
    ],
)
def test_upload_rules_are_422_and_record_nothing(
    body: dict[str, Any], media_env: dict[str, str]
) -> None:
    user = str(uuid.uuid4())
    status, problem, _ = http_call("CreateUpload", body, user_id=user)
    assert (status, problem["code"]) == (422, "validation_failed")
    assert mongo_db(media_env).uploads.count_documents({"owner_id": user}) == 0


def test_the_largest_files_are_accepted() -> None:
    user = str(uuid.uuid4())
    create_upload(user, size=25 * 2**20, content_type="video/mp4")
    create_upload(user, size=5 * 2**20, content_type="image/webp", purpose="avatar")
    create_upload(user, content_type="IMAGE/PNG", filename=None)  # types compare lower-cased


# ------------------------------------------------------------------------------------------------
# Attachments
# ------------------------------------------------------------------------------------------------
def test_a_message_with_a_file_then_its_history_with_fresh_urls(
    chat: tuple[str, str, str], media_env: dict[str, str]
) -> None:
    ann, bob, chat_id = chat
    upload_id = uploaded(ann)
    status, message = send(ann, chat_id, {"content": "look", "attachment_ids": [upload_id]})
    assert status == 201, message
    (attachment,) = message["attachments"]
    assert {k: attachment[k] for k in ("attachment_id", "content_type", "size", "filename")} == {
        "attachment_id": upload_id,
        "content_type": "image/png",
        "size": len(PNG),
        "filename": "pic.png",
    }
    assert httpx.get(attachment["url"]).content == PNG
    key = f"attachments/{chat_id}/{message['message_id']}/{upload_id}"
    assert keys_under(media_env, f"attachments/{chat_id}/") == [key]
    assert "X-Amz-Expires=7200" in attachment["url"]  # at least an hour

    status, page, _ = http_call("GetChatHistory", user_id=bob, path_parameters={"chat_id": chat_id})
    (read,) = page["items"][0]["attachments"]
    assert "X-Amz-Signature=" in read["url"]  # signed when read, from the stored key
    assert httpx.get(read["url"]).content == PNG
    listed = http_call("ListChats", user_id=bob)[1]["items"][0]["last_message"]
    assert listed["attachments"][0]["attachment_id"] == upload_id
    used = mongo_db(media_env).uploads.find_one({"_id": upload_id})
    assert used["used_by"]["message_id"] == message["message_id"]


def test_a_message_of_files_only_and_a_retry_returns_the_original(
    chat: tuple[str, str, str], media_env: dict[str, str]
) -> None:
    ann, _, chat_id = chat
    first, second = uploaded(ann), uploaded(ann, b"hello", content_type="text/plain")
    body = {"attachment_ids": [first, second], "client_message_id": "files-1"}
    status, message = send(ann, chat_id, body)
    assert (status, message["content"]) == (201, "")
    assert [a["attachment_id"] for a in message["attachments"]] == [first, second]
    status, again = send(ann, chat_id, body)
    assert (status, again["message_id"]) == (200, message["message_id"])
    assert len(keys_under(media_env, f"attachments/{chat_id}/")) == 2  # no second copies
    # The same retry id with other (unused) files: still the original, and no copies left.
    third = uploaded(ann)
    status, again = send(ann, chat_id, {**body, "attachment_ids": [third]})
    assert (status, again["message_id"]) == (200, message["message_id"])
    assert len(keys_under(media_env, f"attachments/{chat_id}/")) == 2


def test_an_upload_is_used_once_and_only_by_its_owner(chat: tuple[str, str, str]) -> None:
    ann, bob, chat_id = chat
    upload_id = uploaded(ann)
    assert send(ann, chat_id, {"content": "1", "attachment_ids": [upload_id]})[0] == 201
    status, problem = send(ann, chat_id, {"content": "2", "attachment_ids": [upload_id]})
    assert (status, problem["code"]) == (409, "upload_used")
    status, problem = send(bob, chat_id, {"content": "3", "attachment_ids": [uploaded(ann)]})
    assert (status, problem["code"]) == (404, "upload_not_found")
    status, problem = send(bob, chat_id, {"content": "4", "attachment_ids": [str(uuid.uuid4())]})
    assert (status, problem["code"]) == (404, "upload_not_found")


def test_files_that_did_not_arrive_as_declared_cannot_be_attached(
    chat: tuple[str, str, str], media_env: dict[str, str]
) -> None:
    ann, _, chat_id = chat
    never_sent = create_upload(ann)["upload_id"]
    other_size = create_upload(ann)
    assert post_file(other_size, PNG + b"more") in (200, 204)  # S3 itself would refuse this
    other_type = create_upload(ann)
    assert post_file(other_type, PNG, content_type="image/gif") in (200, 204)
    for upload_id in (never_sent, other_size["upload_id"], other_type["upload_id"]):
        status, problem = send(ann, chat_id, {"content": "x", "attachment_ids": [upload_id]})
        assert (status, problem["code"]) == (409, "upload_incomplete"), upload_id
    status, problem = send(
        ann, chat_id, {"content": "x", "attachment_ids": [uploaded(ann), never_sent]}
    )
    assert (status, problem["code"]) == (409, "upload_incomplete")
    assert keys_under(media_env, f"attachments/{chat_id}/") == []  # the good one's copy is gone
    assert (
        http_call("GetChatHistory", user_id=ann, path_parameters={"chat_id": chat_id})[1]["items"]
        == []
    )


@pytest.mark.parametrize(
    "attachments",
    [
        lambda user: [uploaded(user, purpose="avatar")],  # not an attachment upload
        lambda user: [str(uuid.uuid4())] * 2,
        lambda user: [str(uuid.uuid4()) for _ in range(11)],
        lambda user: ["not-a-uuid"],
        lambda user: [],
    ],
)
def test_attachment_rules_are_422(chat: tuple[str, str, str], attachments: Any) -> None:
    ann, _, chat_id = chat
    status, problem = send(ann, chat_id, {"attachment_ids": attachments(ann)})
    assert (status, problem["code"]) == (422, "validation_failed")


def test_ten_files_in_one_message(chat: tuple[str, str, str]) -> None:
    ann, _, chat_id = chat
    ids = [uploaded(ann, b"file %d" % i, content_type="text/plain") for i in range(10)]
    status, message = send(ann, chat_id, {"attachment_ids": ids})
    assert status == 201
    assert [a["attachment_id"] for a in message["attachments"]] == ids
    assert httpx.get(message["attachments"][9]["url"]).content == b"file 9"


@contextmanager
def s3_down() -> Iterator[None]:
    """The media context's S3 client pointed at a port nothing listens on."""
    from messenger import bootstrap
    from messenger.media.adapters.storage import make_client

    storage = bootstrap._media_for_others().storage
    saved = storage._client  # type: ignore[attr-defined]
    storage._client = make_client(f"http://127.0.0.1:{free_port()}", "us-east-1")  # type: ignore[attr-defined]
    try:
        yield
    finally:
        storage._client = saved  # type: ignore[attr-defined]


def test_s3_down_is_503_and_nothing_is_written(
    chat: tuple[str, str, str], media_env: dict[str, str]
) -> None:
    ann, _, chat_id = chat
    upload_id = uploaded(ann)
    with s3_down():
        status, problem, headers = http_call(
            "SendMessage",
            {"content": "x", "attachment_ids": [upload_id]},
            user_id=ann,
            path_parameters={"chat_id": chat_id},
        )
    assert (status, problem["code"], headers.get("retry-after")) == (503, "unavailable", "1")
    assert mongo_db(media_env).uploads.find_one({"_id": upload_id})["used_by"] is None
    assert (
        http_call("GetChatHistory", user_id=ann, path_parameters={"chat_id": chat_id})[1]["items"]
        == []
    )
    assert send(ann, chat_id, {"content": "x", "attachment_ids": [upload_id]})[0] == 201  # later


def test_mongo_failing_at_the_commit_is_503_and_drops_the_copies(
    chat: tuple[str, str, str], media_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pymongo.errors import AutoReconnect

    from messenger.platform import mongo_outbox

    ann, _, chat_id = chat
    upload_id = uploaded(ann)

    def broken(work: Any) -> Any:
        raise AutoReconnect("connection reset")

    with monkeypatch.context() as patch:
        patch.setattr(mongo_outbox, "_with_transaction", broken)
        status, problem = send(ann, chat_id, {"content": "x", "attachment_ids": [upload_id]})
    assert (status, problem["code"]) == (503, "unavailable")
    assert keys_under(media_env, f"attachments/{chat_id}/") == []
    assert mongo_db(media_env).uploads.find_one({"_id": upload_id})["used_by"] is None


def test_mongo_down_is_503_for_a_new_upload(
    media_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pymongo

    from messenger.platform import mongo

    user = str(uuid.uuid4())
    dead: Any = pymongo.MongoClient(
        f"mongodb://127.0.0.1:{free_port()}/?directConnection=true", serverSelectionTimeoutMS=300
    )
    with monkeypatch.context() as patch:
        patch.setattr(mongo, "_client", dead)
        status, problem, _ = http_call(
            "CreateUpload",
            {"purpose": "attachment", "content_type": "text/plain", "size": 3},
            user_id=user,
        )
    assert (status, problem["code"]) == (503, "unavailable")
    assert mongo_db(media_env).uploads.count_documents({"owner_id": user}) == 0


def test_the_deleted_message_consumer_removes_its_files(
    chat: tuple[str, str, str], media_env: dict[str, str]
) -> None:
    ann, _, chat_id = chat
    kept = send(ann, chat_id, {"attachment_ids": [uploaded(ann)]})[1]
    gone = send(ann, chat_id, {"attachment_ids": [uploaded(ann), uploaded(ann)]})[1]
    event = sample_event("RemoveMessageAttachments")
    record = next(iter(event["records"].values()))[0]
    envelope = json.loads(base64.b64decode(record["value"]))
    envelope["data"].update(chat_id=chat_id, message_id=gone["message_id"])
    other = {**envelope, "id": str(uuid.uuid4()), "type": "message.sent"}
    other["data"] = {**envelope["data"], "message_id": kept["message_id"]}
    records = [
        {**record, "offset": n, "value": base64.b64encode(json.dumps(e).encode()).decode()}
        for n, e in enumerate((envelope, other, envelope))  # a redelivery is harmless
    ]
    event["records"] = {"chat-events-1": records}
    assert invoke("RemoveMessageAttachments", event) == {"batchItemFailures": []}
    remaining = keys_under(media_env, f"attachments/{chat_id}/")
    assert remaining == [
        f"attachments/{chat_id}/{kept['message_id']}/{kept['attachments'][0]['attachment_id']}"
    ]


def test_the_consumer_sample_runs() -> None:
    assert invoke("RemoveMessageAttachments", sample_event("RemoveMessageAttachments")) == {
        "batchItemFailures": []
    }


# ------------------------------------------------------------------------------------------------
# Avatars
# ------------------------------------------------------------------------------------------------
def avatar_key(url: str) -> str:
    assert url.startswith(AVATARS + "/")
    return "avatars/" + url[len(AVATARS) + 1 :]


def test_an_avatar_upload_becomes_a_stable_url_and_replaced_avatars_are_deleted(
    media_env: dict[str, str],
) -> None:
    user = new_profile()
    first = uploaded(user, purpose="avatar")
    status, profile, _ = http_call("UpdateMyProfile", {"avatar_upload_id": first}, user_id=user)
    assert status == 200, profile
    first_url = profile["avatar_url"]
    key = avatar_key(first_url)
    assert key.startswith(f"avatars/{user}/")
    bucket = media_env["MEDIA_BUCKET"]
    assert s3(media_env).get_object(Bucket=bucket, Key=key)["Body"].read() == PNG
    assert http_call("GetProfile", path_parameters={"user_id": user})[1]["avatar_url"] == first_url
    status, problem, _ = http_call("UpdateMyProfile", {"avatar_upload_id": first}, user_id=user)
    assert (status, problem["code"]) == (409, "upload_used")

    second = uploaded(user, b"GIF89a....", content_type="image/gif", purpose="avatar")
    second_url = http_call("UpdateMyProfile", {"avatar_upload_id": second}, user_id=user)[1][
        "avatar_url"
    ]
    assert second_url != first_url
    assert keys_under(media_env, f"avatars/{user}/") == [avatar_key(second_url)]

    status, profile, _ = http_call(
        "UpdateMyProfile", {"avatar_url": "https://example.com/me.png"}, user_id=user
    )
    assert (status, profile["avatar_url"]) == (200, "https://example.com/me.png")
    assert keys_under(media_env, f"avatars/{user}/") == []
    third = uploaded(user, purpose="avatar")
    assert http_call("UpdateMyProfile", {"avatar_upload_id": third}, user_id=user)[0] == 200
    assert http_call("UpdateMyProfile", {"avatar_url": None}, user_id=user)[1]["avatar_url"] is None
    assert keys_under(media_env, f"avatars/{user}/") == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (lambda user: {"avatar_upload_id": uploaded(user)}, (422, "validation_failed")),
        (lambda user: {"avatar_upload_id": str(uuid.uuid4())}, (404, "upload_not_found")),
        (
            lambda user: {"avatar_upload_id": create_upload(user, purpose="avatar")["upload_id"]},
            (409, "upload_incomplete"),
        ),
        (
            lambda user: {
                "avatar_upload_id": uploaded(user, purpose="avatar"),
                "avatar_url": "https://example.com/a.png",
            },
            (422, "validation_failed"),
        ),
        (lambda user: {"avatar_upload_id": None}, (422, "validation_failed")),
    ],
)
def test_avatar_refusals_leave_the_profile_as_it_was(
    body: Any, expected: tuple[int, str], media_env: dict[str, str]
) -> None:
    user = new_profile()
    before = http_call("GetMyProfile", user_id=user)[1]
    status, problem, _ = http_call("UpdateMyProfile", body(user), user_id=user)
    assert (status, problem["code"]) == expected
    assert http_call("GetMyProfile", user_id=user)[1] == before
    assert keys_under(media_env, f"avatars/{user}/") == []


def test_someone_elses_avatar_upload_is_not_found() -> None:
    user, other = new_profile(), new_profile()
    status, problem, _ = http_call(
        "UpdateMyProfile", {"avatar_upload_id": uploaded(other, purpose="avatar")}, user_id=user
    )
    assert (status, problem["code"]) == (404, "upload_not_found")


def test_postgres_failing_drops_the_avatar_copy(
    media_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    from messenger.users.adapters.profiles import PostgresProfiles

    user = new_profile()
    upload_id = uploaded(user, purpose="avatar")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    with monkeypatch.context() as patch:
        patch.setattr(PostgresProfiles, "update", broken)
        status, problem, _ = http_call(
            "UpdateMyProfile", {"avatar_upload_id": upload_id}, user_id=user
        )
    assert (status, problem["code"]) == (503, "unavailable")
    assert keys_under(media_env, f"avatars/{user}/") == []
    assert http_call("UpdateMyProfile", {"avatar_upload_id": upload_id}, user_id=user)[0] == 200
