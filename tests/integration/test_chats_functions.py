"""The chats functions, invoked with their events/ samples against Postgres, Redis and MongoDB."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.helpers import friends, http_call
from tests.support import invoke, sample_event

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_process_env")]


def test_samples_drive_a_whole_conversation(db: Any) -> None:
    ann, bob = friends()
    status, chat, _ = http_call("CreateChat", {"participants": [bob]}, user_id=ann)
    assert status == 201
    chat_id = chat["chat_id"]
    path = {"chat_id": chat_id}

    status, message, _ = http_call(
        "SendMessage", user_id=ann, path_parameters=path
    )  # the sample's body: content + client_message_id
    assert status == 201
    assert message["content"] == "Hello there!"
    assert http_call("SendMessage", user_id=ann, path_parameters=path)[0] == 200  # its retry

    status, page, _ = http_call("GetChatHistory", user_id=bob, path_parameters=path)
    assert (status, [m["message_id"] for m in page["items"]]) == (200, [message["message_id"]])
    status, chats, _ = http_call("ListChats", user_id=bob)
    assert chats["items"][0]["unread_count"] == 1

    status, _, _ = http_call(
        "MarkChatRead", {"message_id": message["message_id"]}, user_id=bob, path_parameters=path
    )
    assert status == 204
    assert http_call("ListChats", user_id=bob)[1]["items"][0]["unread_count"] == 0


def test_the_sample_chat_does_not_exist() -> None:
    status, body, _ = http_call("SendMessage", user_id=str(uuid.uuid4()))
    assert (status, body["code"]) == (404, "chat_not_found")


def test_mongo_outbox_is_relayed(in_process_env: Any) -> None:
    import pymongo

    ann, bob = friends()
    chat_id = http_call("CreateChat", {"participants": [bob]}, user_id=ann)[1]["chat_id"]
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(in_process_env["MONGODB_URI"])
    outbox = client[in_process_env["MONGODB_DATABASE"]].outbox
    created = outbox.find_one({"key": chat_id})
    assert created is not None
    assert created["payload"]["type"] == "chat.created"
    assert "pending" not in created, "Kafka is up: published right away"
    # As if the fast path had failed: the relay publishes it once it is old enough.
    outbox.update_one(
        {"_id": created["_id"]},
        {"$set": {"pending": True, "created_at": created["created_at"].replace(year=2020)}},
    )
    report = invoke("OutboxRelay", sample_event("OutboxRelay"))
    assert report["mongodb"]["published"] >= 1
    assert "pending" not in (outbox.find_one({"_id": created["_id"]}) or {})
    client.close()
