"""GET /v1/users/by-nickname/{nickname}: a public profile, nickname matched case-insensitively."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.bootstrap import users_service
from messenger.platform.observability import logger
from messenger.users.models import Profile
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, respond

app = create_resolver()
users = users_service()


@app.get(
    "/v1/users/by-nickname/<nickname>",
    summary="Get a profile by nickname",
    tags=["users"],
    responses=problem_responses("user_not_found", ok={200: "The profile"}, path=True),
)
def get_profile_by_nickname(nickname: str) -> Response[Profile]:
    return respond(users.profile_by_nickname(nickname))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
