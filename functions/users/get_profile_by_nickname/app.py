"""GET /v1/users/by-nickname/{nickname}: a public profile, nickname matched case-insensitively."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import users_service
from messenger.users.models import Profile
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, respond

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


lambda_handler = entrypoint(app)
