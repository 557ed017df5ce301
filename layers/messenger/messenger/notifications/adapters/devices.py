"""Devices in DynamoDB (table `Devices`, pynamodb), one table, two kinds of item:

- hash key = the user id, range key = the device id: the user's device (platform, token, SNS
  endpoint, session); a user's devices are one strongly consistent Query;
- hash key "device#<device id>", range key "owner": whose device the token is now (a token that
  moves to another account leaves its previous owner);
- hash key "sent#<message id>", range key the device id: that notification was sent (claimed
  before the publish, released if it failed; expires after a day: redeliveries come sooner).

Calls are bounded like the realtime store's (1 s connect, 1 s read, no retry); DynamoDB
unreachable or throttling is `unavailable` (503).
"""

from __future__ import annotations

import time
import uuid
from functools import cache
from typing import cast

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError
from pynamodb.models import Model

from messenger.notifications.models import Platform
from messenger.notifications.service import StoredDevice
from messenger.platform.dynamodb import configure_model, is_condition_failure, require_call
from messenger.platform.settings import get_settings

OWNER = "owner"


class DeviceRecord(Model):
    class Meta:
        table_name = "Devices"  # replaced from settings by `configure()`

    owner = UnicodeAttribute(hash_key=True)
    device_id = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute(null=True)
    platform = UnicodeAttribute(null=True)
    token = UnicodeAttribute(null=True)
    endpoint_arn = UnicodeAttribute(null=True)
    session_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # the table's TTL: sent-notification claims only


@cache
def configure() -> None:
    configure_model(DeviceRecord.Meta, get_settings().require("devices_table"))


def _token_key(device_id: uuid.UUID) -> str:
    return f"device#{device_id}"


def _device(record: DeviceRecord) -> StoredDevice:
    return StoredDevice(
        device_id=uuid.UUID(record.device_id),
        user_id=uuid.UUID(record.owner),
        platform=cast(Platform, record.platform),
        token=record.token or "",
        endpoint_arn=record.endpoint_arn or "",
        session_id=record.session_id,
        created_at=record.created_at,
    )


class DynamoDevices:
    def __init__(self) -> None:
        configure()

    def get(self, user: uuid.UUID, device_id: uuid.UUID) -> StoredDevice | None:
        require_call()
        try:
            return _device(DeviceRecord.get(str(user), str(device_id), consistent_read=True))
        except DoesNotExist:
            return None

    def owner_of(self, device_id: uuid.UUID) -> uuid.UUID | None:
        require_call()
        try:
            record = DeviceRecord.get(_token_key(device_id), OWNER, consistent_read=True)
        except DoesNotExist:
            return None
        return uuid.UUID(record.user_id) if record.user_id else None

    def put(self, device: StoredDevice) -> None:
        require_call()
        DeviceRecord(
            str(device.user_id),
            str(device.device_id),
            platform=device.platform,
            token=device.token,
            endpoint_arn=device.endpoint_arn,
            session_id=device.session_id,
            created_at=device.created_at,
        ).save()
        require_call()
        DeviceRecord(_token_key(device.device_id), OWNER, user_id=str(device.user_id)).save()

    def delete(self, user: uuid.UUID, device_id: uuid.UUID) -> StoredDevice | None:
        found = self.get(user, device_id)
        if found is None:
            return None
        require_call()
        DeviceRecord(str(user), str(device_id)).delete()
        require_call()
        try:  # the token's owner item, unless the token has moved on to someone else
            DeviceRecord(_token_key(device_id), OWNER).delete(
                condition=DeviceRecord.user_id == str(user)
            )
        except DeleteError as exc:
            if not is_condition_failure(exc):
                raise
        return found

    def of_user(self, user: uuid.UUID) -> list[StoredDevice]:
        require_call()
        return [_device(r) for r in DeviceRecord.query(str(user), consistent_read=True)]


SENT_TTL_SECONDS = 86400


class DynamoSentLog:
    def __init__(self) -> None:
        configure()

    def claim(self, message_id: uuid.UUID, device_id: uuid.UUID) -> bool:
        require_call()
        try:
            DeviceRecord(
                f"sent#{message_id}", str(device_id), expires_at=int(time.time()) + SENT_TTL_SECONDS
            ).save(condition=DeviceRecord.owner.does_not_exist())
        except PutError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def release(self, message_id: uuid.UUID, device_id: uuid.UUID) -> None:
        require_call()
        DeviceRecord(f"sent#{message_id}", str(device_id)).delete()
