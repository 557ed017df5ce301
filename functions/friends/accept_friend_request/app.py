"""POST /v1/friends/requests/{nickname}/accept: accept the pending request from that user."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import friends_service
from messenger.friends.models import FriendshipStatus
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
friends = friends_service()


@app.post(
    "/v1/friends/requests/<nickname>/accept",
    summary="Accept a friend request",
    tags=["friends"],
    responses=problem_responses("request_not_found", ok={200: "Accepted"}, path=True),
)
def accept_friend_request(nickname: str) -> Response[FriendshipStatus]:
    decision = friends.answer(request_context(app), nickname, accept=True)
    return respond(FriendshipStatus(status=decision.answer))


lambda_handler = entrypoint(app)
