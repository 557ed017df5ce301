"""POST /v1/auth/register: create an account; its profile follows via `user.registered`."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from messenger.auth.models import RegisteredAccount, RegisterRequest
from messenger.bootstrap import registration_service
from messenger.platform.observability import MetricUnit, logger, metrics
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

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
    account = registration.register(request_context(app), body)
    logger.info("Account registered", extra={"user_id": str(account.user_id)})
    metrics.add_metric(name="AccountsRegistered", unit=MetricUnit.Count, value=1)
    return respond(account, HTTPStatus.CREATED)


lambda_handler = entrypoint(app, flush_metrics=True)
