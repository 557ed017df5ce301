"""The HTTP API's Lambda REQUEST authorizer (payload 2.0, simple responses, no API Gateway cache).

A valid token yields `{"isAuthorized": true, "context": {"user_id": ...}}`. Anything else raises
"Unauthorized", which API Gateway turns into a 401 (returning isAuthorized=false would be a 403).
Warm, it costs one Redis GET.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.auth.wiring import session_service
from messenger.bearer import bearer_token
from messenger.observability import logger

sessions = session_service()


class UnauthorizedError(Exception):
    """API Gateway maps an authorizer failing with exactly this message to 401."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token = bearer_token(event.get("headers") or {})
    user_id = sessions.authenticate(token) if token else None
    if user_id is None:
        raise UnauthorizedError()
    return {"isAuthorized": True, "context": {"user_id": str(user_id)}}
