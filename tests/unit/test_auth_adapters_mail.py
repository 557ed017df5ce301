"""What leaves for SES (a raw MIME mail, text and HTML alternatives, in the configuration set),
and how cached sessions of before migration 0008 are still named."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from messenger.auth.adapters.ses_mail import SesMailer
from messenger.auth.adapters.session_store import _parse
from messenger.auth.email import Mail
from messenger.kernel.errors import Unavailable, is_unavailable

pytestmark = pytest.mark.unit


class FakeSes:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def send_email(self, **request: Any) -> dict[str, str]:
        self.requests.append(request)
        return {"MessageId": "m-1"}


def test_a_mail_is_raw_mime_with_text_and_html() -> None:
    mailer = SesMailer("no-reply@messenger.example", "messenger-dev", None, "us-east-1")
    ses = FakeSes()
    mailer.__dict__["_client"] = ses  # the cached botocore client
    mailer.send(Mail("ann@example.com", "Hello", "see https://x/?token=abc", "<p>token</p>"))
    (request,) = ses.requests
    assert request["FromEmailAddress"] == "no-reply@messenger.example"
    assert request["Destination"] == {"ToAddresses": ["ann@example.com"]}
    assert request["ConfigurationSetName"] == "messenger-dev"
    message = email.message_from_bytes(
        request["Content"]["Raw"]["Data"], policy=email.policy.default
    )
    assert isinstance(message, email.message.EmailMessage)
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == "Hello"
    assert message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "token=abc" in text.get_content()
    assert html.get_content().strip() == "<p>token</p>"


def test_no_configuration_set_is_sent_when_none_is_given() -> None:
    mailer = SesMailer("no-reply@messenger.example", None, None, "us-east-1")
    ses = FakeSes()
    mailer.__dict__["_client"] = ses
    mailer.send(Mail("ann@example.com", "Hello", "t", "<p>t</p>"))
    assert "ConfigurationSetName" not in ses.requests[0]


def test_a_cache_entry_of_before_sessions_had_ids_names_the_session_by_its_hash() -> None:
    token_hash = bytes(range(32))
    user = "7d3c5d2e-8a4b-4c1f-9e2a-1b6f0c9d4e51"
    legacy = _parse(token_hash, f"{user} 1795710631.0")
    assert legacy.session_id == token_hash.hex()
    assert legacy.expires_at == datetime.fromtimestamp(1795710631.0, UTC)
    current = _parse(token_hash, f"{user} 1795710631.0 0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e")
    assert current.session_id == "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
    assert str(current.user_id) == user


class RefusingSes:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def send_email(self, **request: Any) -> dict[str, str]:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        ClientError(
            {
                "Error": {"Code": "MessageRejected", "Message": "Email address not verified"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
            "SendEmail",
        ),
        ClientError(
            {"Error": {"Code": "TooManyRequestsException"}, "ResponseMetadata": {}}, "SendEmail"
        ),
        ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com"),
        EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com"),
    ],
)
def test_a_mail_ses_does_not_take_is_a_503_never_a_500(error: Exception) -> None:
    """The coldstart bench's SES had no verified identity: SendEmail's MessageRejected left
    RequestPasswordReset as a 500."""
    mailer = SesMailer("no-reply@messenger.example", None, None, "us-east-1")
    mailer.__dict__["_client"] = RefusingSes(error)
    with pytest.raises(Unavailable) as raised:
        mailer.send(Mail("ann@example.com", "Hello", "t", "<p>t</p>"))
    assert is_unavailable(raised.value)
    assert raised.value.__cause__ is error
