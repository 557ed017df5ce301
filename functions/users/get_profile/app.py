"""GET /v1/users/{user_id}: a user's public profile."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import users_service
from messenger.users.models import Profile
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, respond

app = create_resolver()
users = users_service()


@app.get(
    "/v1/users/<user_id>",
    summary="Get a profile by user id",
    tags=["users"],
    responses=problem_responses(
        "user_not_found", "validation_failed", ok={200: "The profile"}, path=True
    ),
)
def get_profile(user_id: uuid.UUID) -> Response[Profile]:
    return respond(users.profile(user_id))


lambda_handler = entrypoint(app)
