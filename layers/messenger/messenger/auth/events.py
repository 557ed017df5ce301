"""What the auth context publishes (API.md, Events), keyed by the user: topic `user-events`.

Light on purpose (no email validation): the users context's consumer imports it at init.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from messenger.kernel.events import Event, registry
from messenger.kernel.fields import Timestamp


class UserRegistered(Event):
    event_type: ClassVar[str] = "user.registered"

    user_id: uuid.UUID
    email: str
    nickname: str
    registered_at: Timestamp

    def key(self) -> str:
        return str(self.user_id)


EVENT_TYPES = registry(UserRegistered)
