"""PATCH /v1/users/me: change nickname, description, avatar (absent: unchanged, null: cleared)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import profile_editing_service
from messenger.users.models import OwnProfile, ProfilePatch
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

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
    return respond(users.update_own_profile(request_context(app), body))


lambda_handler = entrypoint(app)
