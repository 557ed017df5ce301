"""DELETE /v1/friends/{nickname}: end the friendship, or cancel my pending request to that user."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import friends_service
from messenger.web.api_docs import Refusal, problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content, request_context

app = create_resolver()
friends = friends_service()


@app.delete(
    "/v1/friends/<nickname>",
    summary="Remove a friend or cancel a request",
    tags=["friends"],
    responses=problem_responses(Refusal(404, "not_friends"), no_content="Removed", path=True),
)
def remove_friend(nickname: str) -> Response[str]:
    friends.remove(request_context(app), nickname)
    return no_content()


lambda_handler = entrypoint(app)
