"""Email verification and password reset: SendVerificationOnUserRegistered, VerifyEmail,
ResendVerification, RequestPasswordReset and ConfirmPasswordReset, invoked with their events/
samples; the mails read back from the moto server's SES (what `/_local/mail` shows)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import redis

from messenger_local.mail import sent_mails
from tests.integration.helpers import authorize, http_call, msk_event
from tests.support import invoke, unique

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("realtime_env")]

PASSWORD = "correct horse"


def mails_to(env: dict[str, str], address: str) -> list[dict[str, Any]]:
    return [m for m in sent_mails(env["SES_ENDPOINT"]) if address in m["to"]]


def resets_to(env: dict[str, str], address: str) -> list[dict[str, Any]]:
    """Reset mails only: the e2e tier's session gateway, when it runs in the same session,
    consumes this tier's `user.registered` too and mails its verification link."""
    return [m for m in mails_to(env, address) if m["subject"] == "Reset your password"]


def token_in(mail: dict[str, Any]) -> str:
    found = re.search(r"token=([A-Za-z0-9_\-]+)", mail["text"])
    assert found, mail["text"]
    return found.group(1)


def register(db: Any) -> tuple[str, str, dict[str, Any]]:
    """A new account, its email and its `user.registered` envelope (from the outbox)."""
    nickname = unique("em")
    email = f"{nickname}@example.com"
    status, body, _ = http_call(
        "Register", {"email": email, "password": PASSWORD, "nickname": nickname}
    )
    assert status == 201
    (envelope,) = db.execute(
        "SELECT payload FROM messaging.outbox WHERE key = %s", (body["user_id"],)
    ).fetchone()
    return str(body["user_id"]), email, envelope


def login(email: str, password: str = PASSWORD, ip: str | None = None) -> tuple[int, Any]:
    status, body, _ = http_call("Login", {"email": email, "password": password}, source_ip=ip)
    return status, body


def test_registration_mails_a_verification_link_once(in_process_env: Any, db: Any) -> None:
    user_id, email, envelope = register(db)
    assert mails_to(in_process_env, email) == []  # the request path does not send
    event = msk_event(envelope)
    assert invoke("SendVerificationOnUserRegistered", event) == {"batchItemFailures": []}
    assert invoke("SendVerificationOnUserRegistered", event) == {"batchItemFailures": []}
    (mail,) = mails_to(in_process_env, email)  # a redelivery sends nothing
    assert mail["subject"] == "Confirm your email address"
    assert mail["sent_at"]
    token = token_in(mail)
    assert "verify-email?token=" in mail["text"]
    stored = db.execute(
        "SELECT token_hash, expires_at - created_at FROM auth.email_tokens WHERE user_id = %s",
        (user_id,),
    ).fetchone()
    assert token.encode() not in bytes(stored[0])  # stored hashed
    assert stored[1].total_seconds() == pytest.approx(24 * 3600, abs=5)

    # The own profile shows the address unverified, then verified.
    invoke("CreateProfileOnUserRegistered", msk_event(envelope))
    assert http_call("GetMyProfile", user_id=user_id)[1]["email_verified"] is False
    status, _, _ = http_call("VerifyEmail", {"token": token})
    assert status == 204
    assert http_call("GetMyProfile", user_id=user_id)[1]["email_verified"] is True
    status, body, _ = http_call("VerifyEmail", {"token": token})  # single use
    assert (status, body["code"]) == (400, "invalid_token")


def test_verification_refuses_unknown_expired_and_malformed_tokens(
    in_process_env: Any, db: Any
) -> None:
    status, body, _ = http_call("VerifyEmail", {"token": "made-up-" + unique()})
    assert (status, body["code"]) == (400, "invalid_token")
    user_id, email, envelope = register(db)
    invoke("SendVerificationOnUserRegistered", msk_event(envelope))
    token = token_in(mails_to(in_process_env, email)[0])
    db.execute(
        "UPDATE auth.email_tokens SET expires_at = now() - interval '1 second' WHERE user_id = %s",
        (user_id,),
    )
    status, body, _ = http_call("VerifyEmail", {"token": token})
    assert (status, body["code"]) == (400, "invalid_token")
    verified = db.execute(
        "SELECT email_verified_at FROM auth.accounts WHERE user_id = %s", (user_id,)
    ).fetchone()
    assert verified == (None,)
    for bad in ({}, {"token": ""}, {"token": "x" * 513}):
        status, body, _ = http_call("VerifyEmail", bad)
        assert (status, body["code"]) == (422, "validation_failed")


def test_resend_at_most_once_a_minute(in_process_env: Any, db: Any) -> None:
    user_id, email, _ = register(db)
    status, _, _ = http_call("ResendVerification", user_id=user_id)
    assert status == 202
    # One (two when the e2e session gateway also mailed the registration's own link).
    assert 1 <= len(mails_to(in_process_env, email)) <= 2
    status, body, headers = http_call("ResendVerification", user_id=user_id)
    assert (status, body["code"]) == (429, "rate_limited")
    assert 0 < int(headers["retry-after"]) <= 60
    assert 1 <= len(mails_to(in_process_env, email)) <= 2
    # A verified address gets no mail (still 202).
    token = token_in(mails_to(in_process_env, email)[0])
    assert http_call("VerifyEmail", {"token": token})[0] == 204
    redis.Redis.from_url(in_process_env["REDIS_URL"]).delete(f"mail-quota:verify-resend:{user_id}")
    sent = len(mails_to(in_process_env, email))
    assert http_call("ResendVerification", user_id=user_id)[0] == 202
    assert len(mails_to(in_process_env, email)) == sent


def test_reset_answers_alike_for_any_address(in_process_env: Any, db: Any) -> None:
    _, email, _ = register(db)
    timings = {}
    for address in (email, "nobody-" + email):
        started = time.monotonic()
        status, body, _ = http_call("RequestPasswordReset", {"email": address.upper()})
        timings[address] = time.monotonic() - started
        assert (status, body) == (202, None)
    assert min(timings.values()) >= 0.3  # the floor hides whether a mail was sent
    assert mails_to(in_process_env, "nobody-" + email) == []
    (mail,) = resets_to(in_process_env, email)
    assert mail["subject"] == "Reset your password"
    assert "reset-password?token=" in mail["text"]
    status, body, _ = http_call("RequestPasswordReset", {"email": ""})
    assert (status, body["code"]) == (422, "validation_failed")


def test_at_most_three_reset_mails_a_quarter_hour(in_process_env: Any, db: Any) -> None:
    _, email, _ = register(db)
    for _ in range(5):
        assert http_call("RequestPasswordReset", {"email": email})[0] == 202
    assert len(resets_to(in_process_env, email)) == 3


def test_confirming_a_reset_sets_the_password_and_ends_every_session(
    in_process_env: Any, db: Any
) -> None:
    user_id, email, _ = register(db)
    sessions = [login(email)[1] for _ in range(2)]
    for _ in range(5):  # locked out from this address
        assert login(email, "wrong horse", ip="203.0.113.9")[0] == 401
    assert login(email, PASSWORD, ip="203.0.113.9")[0] == 429
    http_call("RequestPasswordReset", {"email": email})
    token = token_in(resets_to(in_process_env, email)[0])

    status, body, _ = http_call("ConfirmPasswordReset", {"token": token, "new_password": "short"})
    assert (status, body["code"]) == (422, "validation_failed")
    status, _, _ = http_call(
        "ConfirmPasswordReset",
        {"token": token, "new_password": "battery staple"},
        source_ip="203.0.113.9",
    )
    assert status == 204
    for session in sessions:
        assert authorize(session["access_token"]) is None
        assert http_call("Refresh", {"refresh_token": session["refresh_token"]})[0] == 401
    assert login(email, PASSWORD)[0] == 401
    assert login(email, "battery staple", ip="203.0.113.9")[0] == 200  # throttle cleared
    status, body, _ = http_call(
        "ConfirmPasswordReset", {"token": token, "new_password": "another one"}
    )
    assert (status, body["code"]) == (400, "invalid_token")  # single use
    # The mail reached the owner: the address counts as verified.
    verified = db.execute(
        "SELECT email_verified_at IS NOT NULL FROM auth.accounts WHERE user_id = %s", (user_id,)
    ).fetchone()
    assert verified == (True,)


def test_an_expired_or_unknown_reset_token_changes_nothing(in_process_env: Any, db: Any) -> None:
    user_id, email, _ = register(db)
    http_call("RequestPasswordReset", {"email": email})
    token = token_in(resets_to(in_process_env, email)[0])
    db.execute(
        "UPDATE auth.email_tokens SET expires_at = now() - interval '1 second' WHERE user_id = %s",
        (user_id,),
    )
    for candidate in (token, "made-up-" + unique()):
        status, body, _ = http_call(
            "ConfirmPasswordReset", {"token": candidate, "new_password": "battery staple"}
        )
        assert (status, body["code"]) == (400, "invalid_token")
    assert login(email, PASSWORD)[0] == 200


def test_an_oauth_only_account_gets_a_password_by_reset(in_process_env: Any, db: Any) -> None:
    user_id, email, _ = register(db)
    db.execute("UPDATE auth.accounts SET password_hash = NULL WHERE user_id = %s", (user_id,))
    assert login(email, PASSWORD)[0] == 401
    http_call("RequestPasswordReset", {"email": email})
    token = token_in(resets_to(in_process_env, email)[0])
    status, _, _ = http_call(
        "ConfirmPasswordReset", {"token": token, "new_password": "battery staple"}
    )
    assert status == 204
    assert login(email, "battery staple")[0] == 200
