"""POST /v1/auth/login: exchange email and password for a bearer session token."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.auth.models import LoginRequest, LoginResponse
from messenger.auth.wiring import login_service
from messenger.http import create_resolver, respond
from messenger.observability import logger

app = create_resolver()
logins = login_service()


@app.post("/v1/auth/login", summary="Log in", tags=["auth"])
def login(body: LoginRequest) -> Response[LoginResponse]:
    return respond(logins.login(body))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
