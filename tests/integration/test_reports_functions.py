"""Reports (issue 14): FileReport invoked with its events/ sample against MongoDB, Redis and
Postgres: the stored snapshot outlives the message's deletion, only participants report a
message, `report.filed` commits with the report, and the REPORT limit (10/h) holds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.helpers import friends, http_call, new_profile

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_process_env")]


@pytest.fixture
def mongo(in_process_env: dict[str, str]) -> Iterator[Any]:
    import pymongo

    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        in_process_env["MONGODB_URI"], tz_aware=True
    )
    try:
        yield client[in_process_env["MONGODB_DATABASE"]]
    finally:
        client.close()


def report(user: str, body: dict[str, Any]) -> tuple[int, Any]:
    status, answer, _ = http_call("FileReport", body, user_id=user)
    return status, answer


def test_the_sample_names_an_unknown_user() -> None:
    status, body, _ = http_call("FileReport")
    assert (status, body["code"]) == (404, "user_not_found")


def test_a_reported_message_keeps_its_snapshot_after_deletion(mongo: Any) -> None:
    ann, bob = friends()
    status, chat, _ = http_call("CreateChat", {"participants": [bob]}, user_id=ann)
    assert status == 201
    chat_id = chat["chat_id"]
    status, message, _ = http_call(
        "SendMessage", {"content": "buy now"}, user_id=ann, path_parameters={"chat_id": chat_id}
    )
    assert status == 201
    status, filed = report(
        bob,
        {
            "message_id": message["message_id"],
            "chat_id": chat_id,
            "reason": "spam",
            "comment": " a link ",
        },
    )
    assert status == 202
    status, _, _ = http_call(
        "DeleteMessage",
        user_id=ann,
        path_parameters={"chat_id": chat_id, "message_id": message["message_id"]},
    )
    assert status == 204
    assert mongo.messages.find_one({"_id": message["message_id"]})["deleted"] is True
    stored = mongo.reports.find_one({"_id": filed["report_id"]})
    assert stored["reporter_id"] == bob
    assert stored["reason"] == "spam"
    assert stored["comment"] == "a link"
    assert stored["snapshot"]["message"]["content"] == "buy now"
    assert stored["snapshot"]["chat"]["participants"] == [ann, bob]
    event = mongo.outbox.find_one({"key": bob, "payload.type": "report.filed"})
    assert event["payload"]["data"]["report_id"] == filed["report_id"]
    assert event["payload"]["data"]["snapshot"]["message"]["content"] == "buy now"


def test_a_user_report_snapshots_the_profile(mongo: Any) -> None:
    ann, bob = new_profile(), new_profile()
    status, filed = report(ann, {"user_id": bob, "reason": "abuse"})
    assert status == 202
    stored = mongo.reports.find_one({"_id": filed["report_id"]})
    assert stored["snapshot"]["user"]["user_id"] == bob


def test_only_participants_report_a_message_and_nothing_is_stored_otherwise(mongo: Any) -> None:
    ann, bob = friends()
    status, chat, _ = http_call("CreateChat", {"participants": [bob]}, user_id=ann)
    chat_id = chat["chat_id"]
    outsider = new_profile()
    before = mongo.reports.count_documents({"reporter_id": outsider})
    status, body = report(outsider, {"chat_id": chat_id, "reason": "other"})
    assert (status, body["code"]) == (403, "not_participant")
    status, body = report(
        ann, {"chat_id": chat_id, "message_id": str(uuid.uuid4()), "reason": "other"}
    )
    assert (status, body["code"]) == (404, "message_not_found")
    status, body = report(ann, {"chat_id": str(uuid.uuid4()), "reason": "other"})
    assert (status, body["code"]) == (404, "chat_not_found")
    assert mongo.reports.count_documents({"reporter_id": outsider}) == before


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "spam"},  # nothing reported
        {"user_id": str(uuid.uuid4()), "reason": "rude"},
        {"message_id": str(uuid.uuid4()), "reason": "spam"},  # without its chat
        {"user_id": str(uuid.uuid4()), "reason": "spam", "comment": "x" * 1001},
        {"user_id": str(uuid.uuid4()), "reason": "spam", "extra": 1},
    ],
)
def test_bad_reports_are_422(body: dict[str, Any]) -> None:
    status, answer = report(new_profile(), body)
    assert (status, answer["code"]) == (422, "validation_failed")


def test_reporters_are_limited_to_ten_an_hour() -> None:
    ann, bob = new_profile(), new_profile()
    for _ in range(10):
        assert report(ann, {"user_id": bob, "reason": "spam"})[0] == 202
    status, body, headers = http_call("FileReport", {"user_id": bob, "reason": "spam"}, user_id=ann)
    assert (status, body["code"]) == (429, "rate_limited")
    assert int(headers["retry-after"]) > 0
