"""GET /v1/users/me: the caller's own profile, with email.

Just after signup the profile may not exist yet: 404 profile_not_ready.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.bootstrap import users_service
from messenger.platform.observability import logger
from messenger.users.models import OwnProfile
from messenger.web.api_docs import problem_responses
from messenger.web.http import caller_id, create_resolver, respond

app = create_resolver()
users = users_service()


@app.get(
    "/v1/users/me",
    summary="Get my profile",
    tags=["users"],
    responses=problem_responses("profile_not_ready", ok={200: "My profile"}),
)
def get_my_profile() -> Response[OwnProfile]:
    return respond(users.own_profile(caller_id(app)))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
