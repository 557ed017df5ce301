"""The users consumer and profile reads, invoked with their events/ samples."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.helpers import http_call, msk_event, registered_envelope
from tests.support import invoke, sample_event, unique

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_process_env")]


def profile_of(user_id: str) -> tuple[int, Any]:
    status, body, _ = http_call("GetMyProfile", user_id=user_id)
    return status, body


def test_the_sample_event_creates_a_profile() -> None:
    result = invoke("CreateProfileOnUserRegistered", sample_event("CreateProfileOnUserRegistered"))
    assert result == {"batchItemFailures": []}


def test_profile_appears_once_even_when_delivered_twice(db: Any) -> None:
    envelope = registered_envelope(unique("p"))
    user_id = envelope["data"]["user_id"]
    assert profile_of(user_id)[1]["code"] == "profile_not_ready"
    event = msk_event(envelope)
    assert invoke("CreateProfileOnUserRegistered", event) == {"batchItemFailures": []}
    assert invoke("CreateProfileOnUserRegistered", event) == {"batchItemFailures": []}
    count = db.execute("SELECT count(*) FROM users.profiles WHERE user_id = %s", (user_id,))
    assert count.fetchone() == (1,)
    status, profile = profile_of(user_id)
    assert status == 200
    assert profile["email"] == envelope["data"]["email"]
    assert profile["nickname"] == envelope["data"]["nickname"]


def test_a_nickname_lost_in_a_race_gets_a_variant_never_dropped() -> None:
    nickname = unique("race")
    first, second = registered_envelope(nickname), registered_envelope(nickname.upper())
    assert invoke("CreateProfileOnUserRegistered", msk_event(first, second)) == {
        "batchItemFailures": []
    }
    assert profile_of(first["data"]["user_id"])[1]["nickname"] == nickname
    assert profile_of(second["data"]["user_id"])[1]["nickname"] == nickname.upper() + "_2"


def test_a_poison_record_is_reported_and_the_others_processed() -> None:
    good = registered_envelope(unique("ok"))
    result = invoke("CreateProfileOnUserRegistered", msk_event(good, raw_values=(b"not json",)))
    assert len(result["batchItemFailures"]) == 1
    failed = result["batchItemFailures"][0]["itemIdentifier"]
    assert failed["offset"] == 1
    assert profile_of(good["data"]["user_id"])[0] == 200


def test_profile_reads_by_id_and_nickname() -> None:
    envelope = registered_envelope(unique("Read"))
    invoke("CreateProfileOnUserRegistered", msk_event(envelope))
    user_id, nickname = envelope["data"]["user_id"], envelope["data"]["nickname"]

    status, profile, _ = http_call("GetProfile", path_parameters={"user_id": user_id})
    assert status == 200
    assert "email" not in profile
    assert profile["nickname"] == nickname

    status, profile, _ = http_call(
        "GetProfileByNickname", path_parameters={"nickname": nickname.lower()}
    )
    assert (status, profile["user_id"]) == (200, user_id)


def test_unknown_users_are_404() -> None:
    status, body, _ = http_call("GetProfile", path_parameters={"user_id": str(uuid.uuid4())})
    assert (status, body["code"]) == (404, "user_not_found")
    status, body, _ = http_call("GetProfileByNickname", path_parameters={"nickname": "nobody_x"})
    assert (status, body["code"]) == (404, "user_not_found")
    status, body, _ = http_call("GetProfile", path_parameters={"user_id": "not-a-uuid"})
    assert (status, body["code"]) == (422, "validation_failed")
