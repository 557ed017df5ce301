"""The realtime context's public operations, for other contexts (auth: logout; later, revoking a
session or all others, a password change).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uuid

    from messenger.realtime.service import RealtimeService


@cache
def _service() -> RealtimeService:
    from messenger.realtime.wiring import closing_service

    return closing_service()


def close_session_connections(user_id: uuid.UUID, session_id: str) -> int:
    """Close the WebSocket connections opened with this session; how many were open.

    Called after the session is revoked. Best effort: with DynamoDB unreachable nothing is
    closed here, and the push path still refuses the session's connections (it checks the
    revocation), so this never fails the caller's request.
    """
    from messenger.kernel.clock import utcnow
    from messenger.platform.observability import logger

    try:
        return _service().close_session(user_id, session_id, utcnow())
    except Exception:  # best effort by design: the revocation itself has already happened
        logger.exception(
            "Could not close the session's connections", extra={"user_id": str(user_id)}
        )
        return 0
