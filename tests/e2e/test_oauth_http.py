"""Sign in with OpenID Connect over HTTP, through the local gateway, against a real provider.

The provider is oidc-provider-mock on 127.0.0.1 (tests/oidc_provider.py). This module runs its
own gateway, configured with that provider (OAUTH_PROVIDERS, as `--env` would set it), on the
session's Postgres, Redis and Kafka, so the shared gateway's configuration stays untouched.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from messenger_local.gateway import LocalGateway
from tests.e2e.conftest import start_gateway
from tests.e2e.flows import register, verified, wait_for_profile
from tests.oidc_provider import PROVIDER, REDIRECT_URI, MockProvider, running_provider
from tests.support import unique

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    with running_provider() as running:
        yield running


@pytest.fixture(scope="module")
def oauth_gateway(
    backing_env: dict[str, str], provider: MockProvider, gateway: LocalGateway
) -> Iterator[LocalGateway]:
    """HTTP only: the session `gateway` consumes the events (profiles appear through it)."""
    own = start_gateway(
        {**backing_env, "OAUTH_PROVIDERS": provider.providers_json()}, "oauth", triggers=False
    )
    try:
        yield own
    finally:
        own.stop()


@pytest.fixture
def api(oauth_gateway: LocalGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=oauth_gateway.url, timeout=15) as client:
        yield client


def start(api: httpx.Client, provider: str = PROVIDER, redirect_uri: str = REDIRECT_URI) -> Any:
    return api.get(f"/v1/auth/oauth/{provider}/start", params={"redirect_uri": redirect_uri})


def callback(api: httpx.Client, code: str, state: str) -> httpx.Response:
    return api.post(f"/v1/auth/oauth/{PROVIDER}/callback", json={"code": code, "state": state})


def sign_in(api: httpx.Client, provider: MockProvider, subject: str) -> httpx.Response:
    """The whole flow as a client runs it: start, the user at the provider, the callback."""
    started = start(api)
    assert started.status_code == 200, started.text
    authorized = provider.authorize(started.json()["authorization_url"], subject)
    return callback(api, authorized.code, authorized.state)


def person(provider: MockProvider, **claims: Any) -> str:
    subject = unique("sub")
    claims.setdefault("email", f"{subject}@example.com")
    provider.set_user(subject, **claims)
    return subject


def test_a_new_user_gets_an_account_a_profile_and_a_session(
    api: httpx.Client, provider: MockProvider
) -> None:
    name = unique("Ada")
    subject = person(provider, email_verified=True, preferred_username=name, name="Ada L")
    response = sign_in(api, provider, subject)
    assert response.status_code == 200, response.text
    session = response.json()
    assert set(session) == {
        "access_token",
        "token_type",
        "expires_in",
        "expires_at",
        "user_id",
        "refresh_token",
        "refresh_expires_in",
    }
    assert session["token_type"] == "Bearer"

    profile = wait_for_profile(api, session["access_token"], timeout=45)
    assert profile["user_id"] == session["user_id"]
    assert profile["nickname"] == name
    assert profile["email"] == f"{subject}@example.com"
    assert profile["email_verified"] is True  # the provider vouched for it


def test_a_returning_user_gets_their_account_back(
    api: httpx.Client, provider: MockProvider
) -> None:
    subject = person(provider, email_verified=True)
    first = sign_in(api, provider, subject).json()
    again = sign_in(api, provider, subject)
    assert again.status_code == 200, again.text
    assert again.json()["user_id"] == first["user_id"]
    assert again.json()["access_token"] != first["access_token"]


def test_a_verified_email_links_the_password_account(
    api: httpx.Client, provider: MockProvider
) -> None:
    account = register(api)
    subject = person(provider, email=account["email"].upper(), email_verified=True)
    # Both sides verified (API.md): first the account's own address is not.
    refused = sign_in(api, provider, subject)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "email_unverified"
    verified(api, account)
    response = sign_in(api, provider, subject)
    assert response.status_code == 200, response.text
    assert response.json()["user_id"] == account["user_id"]
    profile = wait_for_profile(api, response.json()["access_token"], timeout=45)
    assert (profile["user_id"], profile["nickname"]) == (account["user_id"], account["nickname"])
    assert sign_in(api, provider, subject).json()["user_id"] == account["user_id"]


def test_an_unverified_email_is_not_linked(api: httpx.Client, provider: MockProvider) -> None:
    account = register(api)
    subject = person(provider, email=account["email"], email_verified=False)
    response = sign_in(api, provider, subject)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "email_unverified"


def test_a_tampered_or_replayed_state_is_refused(api: httpx.Client, provider: MockProvider) -> None:
    subject = person(provider, email_verified=True)
    authorized = provider.authorize(start(api).json()["authorization_url"], subject)
    last = authorized.state[-1]
    tampered = callback(api, authorized.code, authorized.state[:-1] + ("B" if last == "A" else "A"))
    assert (tampered.status_code, tampered.json()["code"]) == (400, "invalid_state")
    assert callback(api, authorized.code, authorized.state).status_code == 200
    replayed = callback(api, authorized.code, authorized.state)
    assert (replayed.status_code, replayed.json()["code"]) == (400, "invalid_state")


def test_an_id_token_for_another_audience_is_refused(
    api: httpx.Client, provider: MockProvider
) -> None:
    subject = person(provider, email_verified=True, aud="some-other-client")
    response = sign_in(api, provider, subject)
    assert (response.status_code, response.json()["code"]) == (401, "oauth_failed")
    assert "aud" in response.json()["detail"]


def test_an_expired_id_token_is_refused(api: httpx.Client, provider: MockProvider) -> None:
    subject = person(provider, email_verified=True, exp=int(time.time()) - 3600)
    response = sign_in(api, provider, subject)
    assert (response.status_code, response.json()["code"]) == (401, "oauth_failed")
    assert "expired" in response.json()["detail"]


def test_unknown_provider_and_foreign_redirect_uri(api: httpx.Client) -> None:
    unknown = start(api, provider="nope")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "provider_not_found")
    foreign = start(api, redirect_uri="https://evil.example.com/cb")
    assert (foreign.status_code, foreign.json()["code"]) == (422, "validation_failed")
    missing = api.get(f"/v1/auth/oauth/{PROVIDER}/start")
    assert missing.status_code == 422
