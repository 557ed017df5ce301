"""PATCH /v1/users/me: change nickname, description, avatar (absent: unchanged, null: cleared)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.platform.observability import logger
from messenger.users.models import OwnProfile, ProfilePatch
from messenger.users.wiring import profile_editing_service
from messenger.web.api_docs import problem_responses
from messenger.web.http import caller_id, create_resolver, respond

app = create_resolver()
users = profile_editing_service()


@app.patch(
    "/v1/users/me",
    summary="Update my profile",
    tags=["users"],
    responses=problem_responses(
        "nickname_taken",
        "profile_not_ready",
        "upload_not_found",
        "upload_incomplete",
        "upload_used",
        ok={200: "My profile, updated"},
        body=True,
    ),
)
def update_my_profile(body: ProfilePatch) -> Response[OwnProfile]:
    return respond(
        users.update_own_profile(caller_id(app), body, correlation_id=logger.get_correlation_id())
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
