"""The HTTP API's Lambda REQUEST authorizer (payload 2.0, simple responses, no API Gateway cache).

A valid token yields `{"isAuthorized": true, "context": {"user_id": ..., "session_id": ...}}`
(the session as other contexts name it, never the token). Anything else raises "Unauthorized",
which API Gateway turns into a 401 (returning isAuthorized=false would be a 403).
Warm, it costs one Redis GET; with Redis down, one Postgres query. When neither can be reached
the token cannot be checked, and an authorizer can only say 401, 403 or 500: it allows with
`{"unavailable": true}` and no user, and the function answers 503 before running any route
(messenger.web.http; decision 30).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.bootstrap import session_service
from messenger.kernel.errors import is_unavailable
from messenger.platform import deadline
from messenger.platform.collector import end_init
from messenger.platform.observability import logger
from messenger.web.bearer import bearer_token

sessions = session_service()


class UnauthorizedError(Exception):
    """API Gateway maps an authorizer failing with exactly this message to 401."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


UNAVAILABLE = {"isAuthorized": True, "context": {"unavailable": True}}


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token = bearer_token(event.get("headers") or {})
    if not token:
        raise UnauthorizedError()
    try:
        with deadline.invocation(context):
            identity = sessions.identify(token)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        logger.warning("Session store unreachable", extra={"error": repr(exc)})
        return UNAVAILABLE
    if identity is None:
        raise UnauthorizedError()
    user_id, session_id = identity
    return {"isAuthorized": True, "context": {"user_id": str(user_id), "session_id": session_id}}


end_init()  # the module is the init: what it built is frozen, the collector back on
