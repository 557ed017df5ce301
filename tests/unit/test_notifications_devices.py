"""Push devices with in-memory fakes: one device per token, the session's, moved on re-use."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from messenger.kernel.errors import NotFound
from messenger.notifications.api import SessionDevices
from messenger.notifications.models import DeviceIn
from messenger.notifications.service import DevicesService, StoredDevice
from tests.unit.notification_fakes import FakeDevices, FakeSns, ctx

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
ANN, BOB = uuid.uuid4(), uuid.uuid4()
TOKEN = "a3f1c2b4d5e6f708192a3b4c5d6e7f80a1b2c3d4e5f60718293a4b5c6d7e8f90"


@pytest.fixture
def world() -> tuple[DevicesService, FakeDevices, FakeSns]:
    store, sns = FakeDevices(), FakeSns()
    return DevicesService(store, sns), store, sns


def test_a_token_registered_twice_is_one_device(world: tuple) -> None:
    service, _, sns = world
    first, created = service.register(ctx(ANN), DeviceIn(platform="fcm", token=TOKEN), NOW)
    assert created
    again, created_again = service.register(ctx(ANN), DeviceIn(platform="fcm", token=TOKEN), NOW)
    assert not created_again
    assert again == first
    assert len(sns.endpoints) == 1
    assert [d.device_id for d in service.list(ctx(ANN)).items] == [first.device_id]
    # The same token on another platform is another device.
    other, _ = service.register(ctx(ANN), DeviceIn(platform="apns", token=TOKEN), NOW)
    assert other.device_id != first.device_id


def test_a_device_moves_to_the_session_that_registered_it_last(world: tuple) -> None:
    service, _, sns = world
    service.register(ctx(ANN, "old"), DeviceIn(platform="fcm", token=TOKEN), NOW)
    service.register(ctx(ANN, "new"), DeviceIn(platform="fcm", token=TOKEN), NOW)
    assert service.remove_session_devices(ANN, "old") == 0
    assert len(service.list(ctx(ANN)).items) == 1
    assert service.remove_session_devices(ANN, "new") == 1
    assert service.list(ctx(ANN)).items == []
    assert len(sns.deleted) == 1


def test_logout_removes_that_sessions_devices_only(world: tuple) -> None:
    service, _, sns = world
    service.register(ctx(ANN, "phone"), DeviceIn(platform="apns", token="p" * 64), NOW)
    kept, _ = service.register(ctx(ANN, "tablet"), DeviceIn(platform="apns", token="t" * 64), NOW)
    assert SessionDevices(service).remove_session_devices(ANN, "phone") == 1
    assert [d.device_id for d in service.list(ctx(ANN)).items] == [kept.device_id]
    assert len(sns.endpoints) == 1


def test_a_token_that_moved_to_another_account_leaves_the_previous_owner(world: tuple) -> None:
    service, store, sns = world
    service.register(ctx(ANN), DeviceIn(platform="fcm", token=TOKEN), NOW)
    bobs, created = service.register(ctx(BOB, "b"), DeviceIn(platform="fcm", token=TOKEN), NOW)
    assert created
    assert service.list(ctx(ANN)).items == []
    assert [d.device_id for d in service.list(ctx(BOB)).items] == [bobs.device_id]
    assert sns.deleted == []  # the endpoint is the token's: it now serves Bob
    assert store.owner_of(bobs.device_id) == BOB


def test_removing_a_device_that_is_not_the_callers_is_404(world: tuple) -> None:
    service, _, sns = world
    device, _ = service.register(ctx(ANN), DeviceIn(platform="fcm", token=TOKEN), NOW)
    with pytest.raises(NotFound) as caught:
        service.remove(ctx(BOB), device.device_id)
    assert caught.value.code == "device_not_found"
    with pytest.raises(NotFound):
        service.remove(ctx(ANN), uuid.uuid4())
    service.remove(ctx(ANN), device.device_id)
    assert sns.endpoints == {}
    with pytest.raises(NotFound):
        service.remove(ctx(ANN), device.device_id)


def test_removal_by_session_is_best_effort_for_the_caller(world: tuple) -> None:
    service, store, _ = world

    def down(user: uuid.UUID) -> list[StoredDevice]:
        raise ConnectionError("DynamoDB unreachable")

    store.of_user = down
    assert SessionDevices(service).remove_session_devices(ANN, "s1") == 0  # never raises


@pytest.mark.parametrize(
    "body",
    [
        {"platform": "webpush", "token": TOKEN},
        {"platform": "fcm", "token": ""},
        {"platform": "fcm", "token": "has space"},
        {"platform": "fcm", "token": "x" * 4097},
        {"platform": "fcm"},
        {"platform": "fcm", "token": TOKEN, "extra": 1},
    ],
)
def test_bad_device_bodies_are_refused(body: dict) -> None:
    with pytest.raises(ValidationError):
        DeviceIn.model_validate(body)


def test_stored_devices_keep_their_creation_time(world: tuple) -> None:
    service, store, _ = world
    device, _ = service.register(ctx(ANN), DeviceIn(platform="fcm", token=TOKEN), NOW)
    stored = store.get(ANN, device.device_id)
    assert stored is not None
    assert replace(stored, session_id=None).created_at == NOW
