"""POST /v1/auth/register: create an account; its profile follows via `user.registered`."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.auth.models import RegisteredAccount, RegisterRequest
from messenger.bootstrap import registration_service
from messenger.platform.observability import MetricUnit, logger, metrics
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, respond

app = create_resolver()
registration = registration_service()


@app.post(
    "/v1/auth/register",
    summary="Register an account",
    tags=["auth"],
    responses=problem_responses(
        "email_taken", "nickname_taken", ok={201: "Account created"}, body=True
    ),
)
def register(body: RegisterRequest) -> Response[RegisteredAccount]:
    account = registration.register(body, correlation_id=logger.get_correlation_id())
    logger.info("Account registered", extra={"user_id": str(account.user_id)})
    metrics.add_metric(name="AccountsRegistered", unit=MetricUnit.Count, value=1)
    return respond(account, HTTPStatus.CREATED)


@metrics.log_metrics  # EMF to stdout; empty when the request added none
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
