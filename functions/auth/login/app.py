"""POST /v1/auth/login: exchange email and password for an access and a refresh token."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from messenger.auth.models import LoginRequest, LoginResponse
from messenger.bootstrap import login_service
from messenger.platform.observability import MetricUnit, metrics
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, respond

app = create_resolver()
logins = login_service()


@app.post(
    "/v1/auth/login",
    summary="Log in",
    tags=["auth"],
    responses=problem_responses(
        "invalid_credentials", "rate_limited", ok={200: "Logged in"}, body=True
    ),
)
def login(body: LoginRequest) -> Response[LoginResponse]:
    # API Gateway's own view of the peer (not X-Forwarded-For, which the client writes).
    client_ip = app.current_event.request_context.http.source_ip
    user_agent = app.current_event.request_context.http.user_agent
    session = logins.login(body, client_ip, user_agent)
    metrics.add_metric(name="Logins", unit=MetricUnit.Count, value=1)
    return respond(session)


lambda_handler = entrypoint(app, flush_metrics=True)
