"""In-memory fakes of the notifications context's device ports."""

from __future__ import annotations

import uuid

from messenger.kernel.context import RequestContext
from messenger.notifications.service import StoredDevice


class FakeDevices:
    def __init__(self) -> None:
        self.devices: dict[tuple[uuid.UUID, uuid.UUID], StoredDevice] = {}
        self.owners: dict[uuid.UUID, uuid.UUID] = {}

    def get(self, user: uuid.UUID, device_id: uuid.UUID) -> StoredDevice | None:
        return self.devices.get((user, device_id))

    def owner_of(self, device_id: uuid.UUID) -> uuid.UUID | None:
        return self.owners.get(device_id)

    def put(self, device: StoredDevice) -> None:
        self.devices[device.user_id, device.device_id] = device
        self.owners[device.device_id] = device.user_id

    def delete(self, user: uuid.UUID, device_id: uuid.UUID) -> StoredDevice | None:
        found = self.devices.pop((user, device_id), None)
        if found is not None and self.owners.get(device_id) == user:
            del self.owners[device_id]
        return found

    def of_user(self, user: uuid.UUID) -> list[StoredDevice]:
        return [d for (u, _), d in self.devices.items() if u == user]


class FakeSns:
    def __init__(self) -> None:
        self.endpoints: dict[str, tuple[str, str]] = {}
        self.deleted: list[str] = []

    def create(self, platform: str, token: str) -> str:
        arn = f"arn:aws:sns:us-east-1:123456789012:endpoint/{platform}/app/{token[:8]}"
        self.endpoints[arn] = (platform, token)
        return arn

    def delete(self, endpoint_arn: str) -> None:
        self.deleted.append(endpoint_arn)
        self.endpoints.pop(endpoint_arn, None)


def ctx(user: uuid.UUID, session: str = "s1") -> RequestContext:
    return RequestContext(user, session_id=session)
