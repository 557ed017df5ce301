"""Devices over HTTP (API.md, Catch-up and notifications): what a client registers and reads."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from messenger.kernel.fields import Timestamp

Platform = Literal["apns", "apns_sandbox", "fcm"]
PLATFORMS: tuple[Platform, ...] = ("apns", "apns_sandbox", "fcm")


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Platform
    # APNs tokens are 64 hex characters, FCM registration tokens about 160: 4 KiB is generous.
    token: str = Field(min_length=1, max_length=4096, pattern=r"^[\x21-\x7e]+$")


class Device(BaseModel):
    device_id: uuid.UUID
    platform: Platform
    created_at: Timestamp


class DeviceList(BaseModel):
    items: list[Device]
