"""The realtime context's public operations, for other contexts: who is online (friends), and
closing a session's connections (auth: logout; later, revoking a session or all others).
messenger.bootstrap builds them with the connection store and, for closing, the pusher."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from messenger.kernel.clock import utcnow
from messenger.platform.observability import logger

if TYPE_CHECKING:
    import uuid
    from collections.abc import Iterable

    from messenger.realtime.service import ConnectionStore, RealtimeService


@dataclass(frozen=True)
class Presence:
    connections: ConnectionStore

    def online_among(self, user_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """The users holding at least one live WebSocket connection (one BatchGetItem per 100,
        the batches concurrent)."""
        wanted = list(user_ids)
        if not wanted:
            return set()
        try:
            return {c.user_id for c in self.connections.of_users(wanted, int(time.time()))}
        except Exception as exc:  # presence is a hint: degrade to "offline", never fail
            logger.warning("Presence unavailable", extra={"error": repr(exc)})
            return set()


@dataclass(frozen=True)
class SessionConnections:
    service: RealtimeService

    def close_session_connections(self, user_id: uuid.UUID, session_id: str) -> int:
        """Close the WebSocket connections opened with this session; how many were open.

        Called after the session is revoked. Best effort: with DynamoDB unreachable nothing is
        closed here, and the push path still refuses the session's connections (it checks the
        revocation), so this never fails the caller's request.
        """
        try:
            return self.service.close_session(user_id, session_id, utcnow())
        except Exception:  # best effort by design: the revocation itself has already happened
            logger.exception(
                "Could not close the session's connections", extra={"user_id": str(user_id)}
            )
            return 0
