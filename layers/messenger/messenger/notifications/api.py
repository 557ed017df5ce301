"""The notifications context's public operations, for other contexts: a session ended (logout;
at merge, revocation, password change, account deletion), so its devices go with it.
messenger.bootstrap builds it with the device store and SNS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from messenger.platform.observability import logger

if TYPE_CHECKING:
    import uuid

    from messenger.notifications.service import DevicesService


@dataclass(frozen=True)
class SessionDevices:
    service: DevicesService

    def remove_session_devices(self, user_id: uuid.UUID, session_id: str) -> int:
        """Remove the push devices this session registered; how many.

        Called after the session is revoked. Best effort, like closing its connections: the
        revocation has happened, and a device left behind by an outage is removed by the next
        notification SNS refuses, or by the next logout of that phone's session.
        """
        try:
            return self.service.remove_session_devices(user_id, session_id)
        except Exception:
            logger.exception(
                "Could not remove the session's devices", extra={"user_id": str(user_id)}
            )
            return 0
