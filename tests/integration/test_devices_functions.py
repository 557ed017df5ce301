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
