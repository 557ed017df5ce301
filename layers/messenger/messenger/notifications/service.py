"""Devices: a phone's push token, registered by a session, removed with it.

A device is the pair (platform, token): its id is derived from them (uuid5), so the same token
registered again is the same device (200), and a token that moved to another account (a phone
signed in as someone else) leaves its previous owner, who must not be notified on a phone that is
no longer theirs. Each device has one SNS platform endpoint (created when registered, deleted when
removed). The device belongs to the session that registered it last: logout (and, at merge,
session revocation and account deletion) remove the session's devices.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from messenger.kernel.errors import NotFound
from messenger.notifications.models import Device, DeviceIn, DeviceList, Platform

if TYPE_CHECKING:
    from messenger.kernel.context import RequestContext

DEVICE_NAMESPACE = uuid.UUID("5f0c8a52-3d0e-4c3b-9c61-0b7e6f1d2a44")


@dataclass(frozen=True)
class StoredDevice:
    device_id: uuid.UUID
    user_id: uuid.UUID
    platform: Platform
    token: str
    endpoint_arn: str
    session_id: str | None
    created_at: datetime

    def public(self) -> Device:
        return Device(device_id=self.device_id, platform=self.platform, created_at=self.created_at)


class DeviceStore(Protocol):
    def get(self, user: uuid.UUID, device_id: uuid.UUID) -> StoredDevice | None: ...

    def owner_of(self, device_id: uuid.UUID) -> uuid.UUID | None:
        """Whose device this token is now (any account)."""

    def put(self, device: StoredDevice) -> None: ...

    def delete(self, user: uuid.UUID, device_id: uuid.UUID) -> StoredDevice | None:
        """Forget it; the device forgotten (None: it was not the user's)."""

    def of_user(self, user: uuid.UUID) -> list[StoredDevice]: ...


class PushEndpoints(Protocol):
    def create(self, platform: Platform, token: str) -> str:
        """The SNS platform endpoint of this token (created, or the existing one, enabled)."""

    def delete(self, endpoint_arn: str) -> None: ...


def device_id_of(platform: Platform, token: str) -> uuid.UUID:
    return uuid.uuid5(DEVICE_NAMESPACE, f"{platform}:{token}")


def device_not_found() -> NotFound:
    return NotFound("device_not_found", "No such device of yours")


@dataclass
class DevicesService:
    store: DeviceStore
    endpoints: PushEndpoints

    def register(
        self, context: RequestContext, body: DeviceIn, now: datetime
    ) -> tuple[Device, bool]:
        """The caller's device for this token; True when it was created."""
        user = context.caller
        device_id = device_id_of(body.platform, body.token)
        existing = self.store.get(user, device_id)
        if existing is not None:
            if existing.session_id != context.session_id:  # signed in again on that phone
                self.store.put(replace(existing, session_id=context.session_id))
            return existing.public(), False
        owner = self.store.owner_of(device_id)
        if owner is not None and owner != user:
            self._remove(owner, device_id, keep_endpoint=True)
        device = StoredDevice(
            device_id=device_id,
            user_id=user,
            platform=body.platform,
            token=body.token,
            endpoint_arn=self.endpoints.create(body.platform, body.token),
            session_id=context.session_id,
            created_at=now,
        )
        self.store.put(device)
        return device.public(), True

    def list(self, context: RequestContext) -> DeviceList:
        devices = sorted(self.store.of_user(context.caller), key=lambda d: d.created_at)
        return DeviceList(items=[d.public() for d in devices])

    def remove(self, context: RequestContext, device_id: uuid.UUID) -> None:
        if not self._remove(context.caller, device_id):
            raise device_not_found()

    def remove_session_devices(self, user: uuid.UUID, session_id: str) -> int:
        """Remove every device this session registered; how many."""
        doomed = [d for d in self.store.of_user(user) if d.session_id == session_id]
        for device in doomed:
            self._remove(user, device.device_id)
        return len(doomed)

    def _remove(
        self, user: uuid.UUID, device_id: uuid.UUID, *, keep_endpoint: bool = False
    ) -> bool:
        removed = self.store.delete(user, device_id)
        if removed is None:
            return False
        if not keep_endpoint:  # the token's endpoint, unless the token is being re-registered
            self.endpoints.delete(removed.endpoint_arn)
        return True
