"""Push devices on moto (DynamoDB table `Devices`, SNS platform endpoints), invoked with the
events/ samples: register (one endpoint per token), list, remove, and logout removing the
session's devices."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.helpers import account_with_email, authorize_identity, http_call
from tests.support import invoke, sample_event, template

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_process_env")]


@pytest.fixture(scope="module")
def devices_env(realtime_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The device table and moto's SNS with the three platform applications (as the local
    gateway creates them)."""
    from messenger.bootstrap import session_devices
    from messenger.notifications.adapters import devices, sns
    from messenger.platform.settings import get_settings
    from messenger_local.sns import ensure_platform_applications

    moto = realtime_env["DYNAMODB_ENDPOINT"]
    extra = {
        "DEVICES_TABLE": template().functions["RegisterDevice"].env["DEVICES_TABLE"],
        "SNS_ENDPOINT": moto,
        **ensure_platform_applications(moto),
    }
    os.environ.update(extra)
    for cached in (get_settings, devices.configure, sns.client, session_devices):
        cached.cache_clear()
    try:
        yield {**realtime_env, **extra}
    finally:
        for name in extra:
            os.environ.pop(name, None)
        for cached in (get_settings, devices.configure, sns.client, session_devices):
            cached.cache_clear()


def _sns(env: dict[str, str]) -> Any:
    from messenger_local.sns import client

    return client(env["SNS_ENDPOINT"])


def _endpoint_exists(env: dict[str, str], arn: str) -> bool:
    try:
        _sns(env).get_endpoint_attributes(EndpointArn=arn)
    except _sns(env).exceptions.NotFoundException:
        return False
    return True


def _stored(user: uuid.UUID) -> list[Any]:
    from messenger.notifications.adapters.devices import DynamoDevices

    return DynamoDevices().of_user(user)


def _call(logical_id: str, user: uuid.UUID, session: str, **kwargs: Any) -> tuple[int, Any]:
    status, body, _ = http_call(logical_id, user_id=str(user), session_id=session, **kwargs)
    return status, body


def test_register_list_and_remove_a_device(devices_env: dict[str, str]) -> None:
    user, session = uuid.uuid4(), uuid.uuid4().hex
    token = uuid.uuid4().hex * 2
    body = {"platform": "fcm", "token": token}
    status, device = _call("RegisterDevice", user, session, body=body)
    assert status == 201
    assert device["platform"] == "fcm"
    assert set(device) == {"device_id", "platform", "created_at"}
    again = _call("RegisterDevice", user, session, body=body)
    assert again == (200, device)
    (stored,) = _stored(user)
    assert stored.session_id == session
    assert _endpoint_exists(devices_env, stored.endpoint_arn)
    attributes = _sns(devices_env).get_endpoint_attributes(EndpointArn=stored.endpoint_arn)
    assert attributes["Attributes"]["Token"] == token
    assert _call("ListDevices", user, session) == (200, {"items": [device]})
    assert _call("ListDevices", uuid.uuid4(), session) == (200, {"items": []})

    path = {"device_id": device["device_id"]}
    other = _call("DeleteDevice", uuid.uuid4(), session, path_parameters=path)
    assert other[0] == 404
    assert other[1]["code"] == "device_not_found"
    assert _call("DeleteDevice", user, session, path_parameters=path)[0] == 204
    assert not _endpoint_exists(devices_env, stored.endpoint_arn)
    assert _call("ListDevices", user, session) == (200, {"items": []})
    assert _call("DeleteDevice", user, session, path_parameters=path)[0] == 404


def test_logout_removes_that_sessions_devices_only(devices_env: dict[str, str]) -> None:
    user, token, email = account_with_email()
    status, other, _ = http_call("Login", {"email": email, "password": "correct horse"})
    assert status == 200
    identity, other_identity = authorize_identity(token), authorize_identity(other["access_token"])
    assert identity is not None
    assert other_identity is not None
    mine = {"platform": "apns", "token": "a" * 64}
    theirs = {"platform": "apns_sandbox", "token": "b" * 64}
    assert _call("RegisterDevice", user, identity[1], body=mine)[0] == 201
    status, kept = _call("RegisterDevice", user, other_identity[1], body=theirs)
    assert status == 201
    arns = {d.platform: d.endpoint_arn for d in _stored(user)}

    status, _, _ = http_call("Logout", token=token, user_id=str(user))
    assert status == 204
    assert _call("ListDevices", user, other_identity[1]) == (200, {"items": [kept]})
    assert not _endpoint_exists(devices_env, arns["apns"])
    assert _endpoint_exists(devices_env, arns["apns_sandbox"])


@pytest.mark.parametrize(
    "body",
    [
        {"platform": "webpush", "token": "t"},
        {"platform": "fcm", "token": ""},
        {"platform": "fcm", "token": "with space"},
        {"platform": "fcm"},
        {"token": "t"},
        [],
    ],
)
def test_a_bad_device_is_422_and_nothing_is_stored(devices_env: dict[str, str], body: Any) -> None:
    user = uuid.uuid4()
    status, problem = _call("RegisterDevice", user, "s", body=body)
    assert status == 422
    assert problem["code"] == "validation_failed"
    assert _stored(user) == []


def test_a_device_id_that_is_no_uuid_is_422(devices_env: dict[str, str]) -> None:
    status, _ = _call("DeleteDevice", uuid.uuid4(), "s", path_parameters={"device_id": "nope"})
    assert status == 422


def test_the_samples_answer(devices_env: dict[str, str]) -> None:
    assert invoke("RegisterDevice", sample_event("RegisterDevice"))["statusCode"] in (200, 201)
    assert invoke("ListDevices", sample_event("ListDevices"))["statusCode"] == 200
    assert invoke("DeleteDevice", sample_event("DeleteDevice"))["statusCode"] == 404


def _published(env: dict[str, str]) -> list[dict[str, Any]]:
    """Every notification moto's SNS kept (the `default` message: the notification itself)."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"{env['SNS_ENDPOINT']}/moto-api/data.json") as response:
        state = json.loads(response.read())
    found = []
    for endpoint in state.get("sns", {}).get("PlatformEndpoint", []):
        for message in (endpoint.get("messages") or {}).values():
            found.append({**json.loads(json.loads(message)["default"]), "arn": endpoint["arn"]})
    return found


def _message_sent(chat_id: str, author: str, *others: str) -> dict[str, Any]:
    import base64
    import json

    event = sample_event("NotifyMessageSent")
    (record,) = next(iter(event["records"].values()))
    envelope = json.loads(base64.b64decode(record["value"]))
    envelope["id"] = str(uuid.uuid4())
    envelope["data"].update(
        message_id=str(uuid.uuid4()),
        chat_id=chat_id,
        author_id=author,
        content="x" * 150,
        participants=[author, *others],
    )
    record["value"] = base64.b64encode(json.dumps(envelope).encode()).decode()
    return event


def test_a_message_notifies_the_others_devices_once(devices_env: dict[str, str]) -> None:
    from tests.integration.helpers import friends

    ann, bob = friends()
    status, chat, _ = http_call("CreateChat", {"participants": [bob]}, user_id=ann)
    assert status in (200, 201)
    status, _, _ = http_call(
        "SendMessage", {"content": "one"}, user_id=ann, path_parameters={"chat_id": chat["chat_id"]}
    )
    assert status == 201  # bob has 1 unread now
    for user, token in ((ann, "c" * 64), (bob, "d" * 64), (bob, "e" * 64)):
        body = {"platform": "apns", "token": f"{token[:32]}{uuid.uuid4().hex}"}
        assert _call("RegisterDevice", uuid.UUID(user), "s", body=body)[0] == 201
    bobs = {str(d.device_id) for d in _stored(uuid.UUID(bob))}
    anns = {str(d.device_id) for d in _stored(uuid.UUID(ann))}

    event = _message_sent(chat["chat_id"], ann, bob)
    assert invoke("NotifyMessageSent", event) == {"batchItemFailures": []}
    assert invoke("NotifyMessageSent", event) == {"batchItemFailures": []}  # redelivered
    mine = [n for n in _published(devices_env) if n["device_id"] in bobs | anns]
    assert {n["device_id"] for n in mine} == bobs  # not the author's, each device once
    assert len(mine) == 2
    ann_nickname = http_call("GetProfile", path_parameters={"user_id": ann})[1]["nickname"]
    for notification in mine:
        assert notification["user_id"] == bob
        assert notification["title"] == ann_nickname
        assert len(notification["body"]) == 100
        assert notification["badge"] == 1
        assert notification["data"]["chat_id"] == chat["chat_id"]


def test_a_disabled_endpoint_removes_its_device(devices_env: dict[str, str]) -> None:
    from tests.integration.helpers import friends

    ann, bob = friends()
    status, chat, _ = http_call("CreateChat", {"participants": [bob]}, user_id=ann)
    assert status in (200, 201)
    body = {"platform": "fcm", "token": uuid.uuid4().hex}
    assert _call("RegisterDevice", uuid.UUID(bob), "s", body=body)[0] == 201
    (device,) = _stored(uuid.UUID(bob))
    _sns(devices_env).set_endpoint_attributes(
        EndpointArn=device.endpoint_arn, Attributes={"Enabled": "false"}
    )
    event = _message_sent(chat["chat_id"], ann, bob)
    assert invoke("NotifyMessageSent", event) == {"batchItemFailures": []}
    assert _stored(uuid.UUID(bob)) == []


def test_a_platform_this_environment_has_no_application_for_is_422(
    devices_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from messenger.platform.settings import get_settings

    monkeypatch.setenv("FCM_PLATFORM_APPLICATION_ARN", "")
    get_settings.cache_clear()
    try:
        user = uuid.uuid4()
        status, problem = _call("RegisterDevice", user, "s", body={"platform": "fcm", "token": "t"})
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert status == 422
    assert problem["errors"][0]["field"] == "platform"
    assert _stored(user) == []
