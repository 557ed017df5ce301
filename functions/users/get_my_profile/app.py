"""GET /v1/users/me: the caller's own profile, with email.

Just after signup the profile may not exist yet: 404 profile_not_ready.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import own_profile_service
from messenger.users.models import OwnProfile
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
users = own_profile_service()


@app.get(
    "/v1/users/me",
    summary="Get my profile",
    tags=["users"],
    responses=problem_responses("profile_not_ready", ok={200: "My profile"}),
)
def get_my_profile() -> Response[OwnProfile]:
    return respond(users.own_profile(request_context(app)))


lambda_handler = entrypoint(app)
