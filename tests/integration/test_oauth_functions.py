"""OAuthStart and OAuthCallback, invoked with their events/ samples, against a real provider.

The provider is oidc-provider-mock on 127.0.0.1 (tests/oidc_provider.py); Postgres, Redis and
Kafka are the session's.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import redis

from tests.integration.helpers import authorize, http_call
from tests.oidc_provider import PROVIDER, REDIRECT_URI, MockProvider, running_provider
from tests.support import invoke, sample_event, unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def provider(in_process_env: dict[str, str]) -> Iterator[MockProvider]:
    """The provider, configured for the in-process functions (their settings are read at load)."""
    from messenger.platform.settings import get_settings

    with running_provider() as running:
        os.environ["OAUTH_PROVIDERS"] = running.providers_json()
        get_settings.cache_clear()
        try:
            yield running
        finally:
            os.environ.pop("OAUTH_PROVIDERS", None)
            get_settings.cache_clear()


def start(provider_name: str = PROVIDER, redirect_uri: str = REDIRECT_URI) -> tuple[int, Any]:
    event = sample_event("OAuthStart")
    event["pathParameters"] = {"provider": provider_name}
    path = f"/v1/auth/oauth/{provider_name}/start"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["queryStringParameters"] = {"redirect_uri": redirect_uri}
    event["rawQueryString"] = urlencode({"redirect_uri": redirect_uri})
    result = invoke("OAuthStart", event)
    return result["statusCode"], json.loads(result["body"])


def callback(code: str, state: str, provider_name: str = PROVIDER) -> tuple[int, Any]:
    status, body, _ = http_call(
        "OAuthCallback",
        {"code": code, "state": state},
        path_parameters={"provider": provider_name},
    )
    return status, body


def sign_in(provider: MockProvider, subject: str) -> tuple[int, Any]:
    status, started = start()
    assert status == 200, started
    authorized = provider.authorize(started["authorization_url"], subject)
    return callback(authorized.code, authorized.state)


def test_samples_name_an_unconfigured_provider(provider: MockProvider) -> None:
    result = invoke("OAuthStart", sample_event("OAuthStart"))
    assert result["statusCode"] == 404
    assert json.loads(result["body"])["code"] == "provider_not_found"
    result = invoke("OAuthCallback", sample_event("OAuthCallback"))
    assert result["statusCode"] == 404
    assert json.loads(result["body"])["code"] == "provider_not_found"


def test_start_answers_a_pkce_authorization_url_and_keeps_the_state(
    provider: MockProvider, in_process_env: dict[str, str]
) -> None:
    status, body = start()
    assert status == 200
    url = urlsplit(body["authorization_url"])
    assert f"{url.scheme}://{url.netloc}" == provider.issuer
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == provider.client_id
    assert query["redirect_uri"] == REDIRECT_URI
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["nonce"]
    key = f"oauth-state:{hashlib.sha256(query['state'].encode()).hexdigest()}"
    ttl = redis.Redis.from_url(in_process_env["REDIS_URL"]).ttl(key)
    assert 590 <= ttl <= 600


def test_start_refuses_a_redirect_uri_not_configured(provider: MockProvider) -> None:
    status, body = start(redirect_uri="https://evil.example.com/steal")
    assert (status, body["code"]) == (422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["redirect_uri"]


def test_first_sign_in_creates_an_account_with_its_event(provider: MockProvider, db: Any) -> None:
    subject = unique("sub")
    provider.set_user(subject, email=f"{subject}@Example.com", email_verified=True, name="Grace H")
    status, session = sign_in(provider, subject)
    assert status == 200, session
    assert session["token_type"] == "Bearer"
    assert authorize(session["access_token"]) == session["user_id"]
    row = db.execute(
        "SELECT email, password_hash FROM auth.accounts WHERE user_id = %s", (session["user_id"],)
    ).fetchone()
    assert row == (f"{subject}@example.com", None)
    identity = db.execute(
        "SELECT provider, user_id::text FROM auth.oauth_identities WHERE subject = %s", (subject,)
    ).fetchone()
    assert identity == (PROVIDER, session["user_id"])
    event, published_at = db.execute(
        "SELECT payload, published_at FROM messaging.outbox WHERE key = %s", (session["user_id"],)
    ).fetchone()
    assert event["type"] == "user.registered"
    assert event["data"]["nickname"].startswith("Grace_H")
    assert published_at is not None

    again, second = sign_in(provider, subject)
    assert (again, second["user_id"]) == (200, session["user_id"])


def test_a_state_is_good_once(provider: MockProvider) -> None:
    subject = unique("sub")
    provider.set_user(subject, email=f"{subject}@example.com", email_verified=True)
    _, started = start()
    authorized = provider.authorize(started["authorization_url"], subject)
    status, body = callback(authorized.code, authorized.state + "x")
    assert (status, body["code"]) == (400, "invalid_state")
    assert callback(authorized.code, authorized.state)[0] == 200
    status, body = callback(authorized.code, authorized.state)
    assert (status, body["code"]) == (400, "invalid_state")


def test_a_code_the_provider_refuses_is_401(provider: MockProvider) -> None:
    _, started = start()
    state = parse_qs(urlsplit(started["authorization_url"]).query)["state"][0]
    status, body = callback("not-a-code-it-issued", state)
    assert (status, body["code"]) == (401, "oauth_failed")


def test_callback_body_rules() -> None:
    status, body, _ = http_call(
        "OAuthCallback", {"code": "c"}, path_parameters={"provider": PROVIDER}
    )
    assert (status, body["code"]) == (422, "validation_failed")
    status, body, _ = http_call(
        "OAuthCallback", raw_body="{", path_parameters={"provider": PROVIDER}
    )
    assert (status, body["code"]) == (400, "malformed_json")
