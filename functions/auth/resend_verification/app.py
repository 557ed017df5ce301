"""POST /v1/auth/email/verify/resend: another verification mail, at most one a minute."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import email_service
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context

app = create_resolver()
mails = email_service()


@app.post(
    "/v1/auth/email/verify/resend",
    summary="Send the verification mail again",
    description=(
        "At most one mail a minute per account (429 with Retry-After). An address already"
        " verified gets no mail (still 202)."
    ),
    tags=["auth"],
    responses={
        **problem_responses("rate_limited"),
        202: {
            "description": "A mail is on its way (unless the address is verified)",
            "content": {},
        },
    },
)
def resend_verification() -> Response[str]:
    mails.resend_verification(request_context(app))
    return Response(status_code=int(HTTPStatus.ACCEPTED), body="")


lambda_handler = entrypoint(app)
