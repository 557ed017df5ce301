"""POST /v1/friends/requests: ask a user (by nickname) to be friends; a mutual request accepts."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import friends_service
from messenger.friends.models import FriendRequestBody, FriendshipStatus
from messenger.platform.observability import MetricUnit, metrics
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
friends = friends_service()


@app.post(
    "/v1/friends/requests",
    summary="Send a friend request",
    tags=["friends"],
    responses=problem_responses(
        "user_not_found",
        "rate_limited",
        "already_friends",
        "request_pending",
        "request_rejected",
        "cannot_befriend_self",
        "blocked",
        ok={201: "Requested", 200: "They had asked you: now friends"},
        body=True,
    ),
)
def send_friend_request(body: FriendRequestBody) -> Response[FriendshipStatus]:
    decision = friends.request(request_context(app), body.nickname)
    created = decision.answer == "requested"
    metrics.add_metric(name=f"Friendships{decision.answer.title()}", unit=MetricUnit.Count, value=1)
    return respond(
        FriendshipStatus(status=decision.answer),
        HTTPStatus.CREATED if created else HTTPStatus.OK,
    )


lambda_handler = entrypoint(app, flush_metrics=True)
