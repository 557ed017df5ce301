"""POST /v1/auth/email/verify: redeem the verification mail's token (open route)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from messenger.auth.models import TokenRequest
from messenger.bootstrap import email_service
from messenger.platform.observability import logger
from messenger.web.api_docs import Refusal, problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content

app = create_resolver()
mails = email_service()


@app.post(
    "/v1/auth/email/verify",
    summary="Verify my email address",
    description=(
        "The token from the verification mail's link (`token=`), good once within 24 hours."
        " 400 invalid_token when it is unknown, expired, used, or was sent to an address the"
        " account no longer has."
    ),
    tags=["auth"],
    responses=problem_responses(
        Refusal(400, "invalid_token"), no_content="Address verified", body=True
    ),
)
def verify_email(body: TokenRequest) -> Response[str]:
    user_id = mails.verify(body.token)
    logger.info("Email verified", extra={"user_id": str(user_id)})
    return no_content()


lambda_handler = entrypoint(app)
