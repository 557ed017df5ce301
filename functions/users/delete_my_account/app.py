"""DELETE /v1/users/me: delete the caller's account. At once: sessions revoked, email and
nickname free, the profile gone; the rest of the user's data through `user.deleted`."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import account_deletion_service
from messenger.users.models import AccountDeletion, DeleteAccountRequest
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
deletion = account_deletion_service()


@app.delete(
    "/v1/users/me",
    summary="Delete my account",
    description=(
        'Body `{"password"}`, or `{"confirm": "DELETE"}` for an account without a password. '
        "Every session ends and the email and nickname are free at once; every context then "
        "erases the user's data (messages become tombstones that keep their author_id). "
        "A wrong password counts toward the login throttle (429 with Retry-After)."
    ),
    tags=["users"],
    responses=problem_responses(
        "invalid_credentials",
        "rate_limited",
        ok={202: "Deleted; the erasure of the user's data is under way"},
        body=True,
    ),
)
def delete_my_account(body: DeleteAccountRequest) -> Response[AccountDeletion]:
    ctx = request_context(app)
    client_ip = app.current_event.request_context.http.source_ip
    deletion.delete_account(ctx, body, client_ip)
    return respond(AccountDeletion(user_id=ctx.caller), HTTPStatus.ACCEPTED)


lambda_handler = entrypoint(app)
