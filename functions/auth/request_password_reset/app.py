"""POST /v1/auth/password/reset: mail a reset link to the address, if it has an account (open
route; the answer is the same 202, in similar time, either way)."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from messenger.auth.models import ResetRequest
from messenger.bootstrap import email_service
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint

app = create_resolver()
mails = email_service()


@app.post(
    "/v1/auth/password/reset",
    summary="Ask for a password reset mail",
    description=(
        "Always 202, whether or not the address has an account, after the same minimum time. An"
        " existing address gets a mail whose link (`token=`) is good once within 30 minutes; at"
        " most 3 mails a quarter-hour per address (further requests are silently dropped)."
    ),
    tags=["auth"],
    responses={
        **problem_responses(body=True),
        202: {"description": "Accepted (whatever the address)", "content": {}},
    },
)
def request_password_reset(body: ResetRequest) -> Response[str]:
    mails.request_reset(body.email)
    return Response(status_code=int(HTTPStatus.ACCEPTED), body="")


lambda_handler = entrypoint(app)
