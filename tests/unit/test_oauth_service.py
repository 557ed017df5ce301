"""OAuth sign-in use-cases against in-memory ports, and the ID token checks with real JOSE."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from messenger.auth.adapters.id_token import JoseIdTokenVerifier
from messenger.auth.models import Account
from messenger.auth.oauth import (
    EmailUnverified,
    IdentityTaken,
    InvalidState,
    OAuthCallbackService,
    OAuthFailed,
    OAuthIdentity,
    OAuthStartService,
    PendingSignIn,
    Provider,
    ProviderNotFound,
    VerifiedIdentity,
    derive_nickname,
    unique_nickname,
)
from messenger.auth.service import EmailTaken, NicknameTaken
from messenger.auth.session import SessionService, hash_token
from messenger.kernel.clock import utcnow
from messenger.kernel.context import RequestContext
from messenger.kernel.errors import InvalidInput
from messenger.platform.events import OutboundEvent
from messenger.platform.unit_of_work import UnitOfWork
from tests.unit.fakes import FakeNicknames, FakeOutbox, FakeSessions, in_memory

pytestmark = pytest.mark.unit

ANONYMOUS = RequestContext()  # the callback is an open route

REDIRECT = "https://app.example.com/oauth/callback"
PROVIDER = Provider(
    name="mock", issuer="https://idp.example.com", client_id="messenger", redirect_uris=(REDIRECT,)
)


# ------------------------------------------------------------------------------------------------
# Fakes
# ------------------------------------------------------------------------------------------------
@dataclass
class FakeProviders:
    known: dict[str, Provider] = field(default_factory=lambda: {"mock": PROVIDER})

    def get(self, name: str) -> Provider | None:
        return self.known.get(name)


@dataclass
class FakeOpenID:
    """Issues codes for identities; redeeming checks the verifier, nonce and redirect URI."""

    identities: dict[str, VerifiedIdentity] = field(default_factory=dict)
    requests: dict[str, dict[str, str]] = field(default_factory=dict)

    def authorization_url(
        self, provider: Provider, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        self.requests[state] = {"nonce": nonce, "verifier": code_verifier}
        return f"{provider.issuer}/authorize?state={state}&redirect_uri={redirect_uri}"

    def code_for(self, state: str, identity: VerifiedIdentity) -> str:
        code = f"code-{uuid.uuid4().hex}"
        self.identities[code] = identity
        self.requests[code] = self.requests[state]
        return code

    def sign_in(
        self, provider: Provider, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> VerifiedIdentity:
        issued = self.requests.get(code)
        if issued is None or issued != {"nonce": nonce, "verifier": code_verifier}:
            raise OAuthFailed("The provider refused the sign-in (invalid_grant)")
        assert redirect_uri == REDIRECT
        return self.identities.pop(code)


@dataclass
class FakePending:
    rows: dict[str, PendingSignIn] = field(default_factory=dict)

    def put(self, state: str, pending: PendingSignIn) -> None:
        self.rows[state] = pending

    def take(self, state: str) -> PendingSignIn | None:
        return self.rows.pop(state, None)


@dataclass
class FakeOAuthAccounts:
    accounts: dict[str, Account] = field(default_factory=dict)
    identities: dict[tuple[str, str], OAuthIdentity] = field(default_factory=dict)
    events: list[OutboundEvent] = field(default_factory=list)
    race_once: Exception | None = None  # raised by the next write, as a concurrent callback would
    reserved: set[str] = field(default_factory=set)  # nicknames the directory has not seen yet

    def user_for(self, provider: str, subject: str) -> uuid.UUID | None:
        found = self.identities.get((provider, subject))
        return found.user_id if found else None

    def by_email(self, email: str) -> Account | None:
        return self.accounts.get(email)

    def _race(self) -> None:
        if self.race_once is not None:
            race, self.race_once = self.race_once, None
            raise race

    def link(self, identity: OAuthIdentity) -> None:
        self._race()
        if (identity.provider, identity.subject) in self.identities:
            raise IdentityTaken()
        self.identities[identity.provider, identity.subject] = identity

    def add_with_identity(
        self, account: Account, identity: OAuthIdentity, nickname: str, uow: UnitOfWork
    ) -> None:
        def insert(_: None) -> None:
            self._race()
            if account.email in self.accounts:
                raise EmailTaken()
            if nickname.lower() in self.reserved:
                raise NicknameTaken()
            if (identity.provider, identity.subject) in self.identities:
                raise IdentityTaken()
            self.reserved.add(nickname.lower())
            self.accounts[account.email] = account
            self.identities[identity.provider, identity.subject] = identity

        in_memory(uow, self.events, insert)


class OAuth:
    def __init__(self) -> None:
        self.providers = FakeProviders()
        self.openid = FakeOpenID()
        self.pending = FakePending()
        self.accounts = FakeOAuthAccounts()
        self.sessions = SessionService(
            FakeSessions(), access_ttl=timedelta(hours=1), refresh_ttl=timedelta(days=60)
        )
        self.nicknames = FakeNicknames(taken={"taken"})
        self.outbox = FakeOutbox()
        self.start = OAuthStartService(self.providers, self.openid, self.pending)
        self.callback = OAuthCallbackService(
            self.providers,
            self.openid,
            self.pending,
            self.accounts,
            self.sessions,
            self.nicknames,
            self.outbox,
        )

    def started(self) -> str:
        url = self.start.start("mock", REDIRECT).authorization_url
        return parse_qs(urlsplit(url).query)["state"][0]

    def sign_in(self, identity: VerifiedIdentity) -> uuid.UUID:
        state = self.started()
        code = self.openid.code_for(state, identity)
        session = self.callback.callback(ANONYMOUS, "mock", code, state)
        assert self.sessions.authenticate(session.access_token) == session.user_id
        return session.user_id

    def password_account(self, email: str, verified: bool = True) -> Account:
        account = Account(
            user_id=uuid.uuid4(),
            email=email,
            password_hash="v2:secret",
            created_at=utcnow(),
            email_verified=verified,
        )
        self.accounts.accounts[email] = account
        return account


@pytest.fixture
def oauth() -> OAuth:
    return OAuth()


def ada(**changes: Any) -> VerifiedIdentity:
    claims = {"sub": "ada-1", "email": "Ada@Example.com", "preferred_username": "ada.l"}
    values: dict[str, Any] = {
        "subject": "ada-1",
        "email": "Ada@Example.com",
        "email_verified": True,
        "claims": claims,
        **changes,
    }
    return VerifiedIdentity(**values)


# ------------------------------------------------------------------------------------------------
# Start
# ------------------------------------------------------------------------------------------------
def test_start_keeps_a_fresh_state_nonce_and_verifier(oauth: OAuth) -> None:
    first, second = oauth.started(), oauth.started()
    assert first != second
    pending = oauth.pending.rows[first]
    assert pending == PendingSignIn("mock", REDIRECT, pending.code_verifier, pending.nonce)
    assert 43 <= len(pending.code_verifier) <= 128
    assert pending.nonce != oauth.pending.rows[second].nonce


def test_start_refuses_unknown_provider_and_unconfigured_redirect(oauth: OAuth) -> None:
    with pytest.raises(ProviderNotFound) as unknown:
        oauth.start.start("nope", REDIRECT)
    assert unknown.value.code == "provider_not_found"
    with pytest.raises(InvalidInput) as refused:
        oauth.start.start("mock", "https://evil.example.com/cb")
    assert refused.value.extra["errors"][0]["field"] == "redirect_uri"
    assert not oauth.pending.rows


# ------------------------------------------------------------------------------------------------
# Callback
# ------------------------------------------------------------------------------------------------
def test_first_sign_in_creates_account_identity_and_user_registered(oauth: OAuth) -> None:
    user_id = oauth.sign_in(ada())
    account = oauth.accounts.accounts["ada@example.com"]
    assert account.user_id == user_id
    assert account.password_hash is None
    assert oauth.accounts.identities["mock", "ada-1"].user_id == user_id
    (event,) = oauth.accounts.events
    assert event.envelope.type == "user.registered"
    assert event.key == str(user_id)
    assert event.envelope.data["nickname"] == "ada.l"
    assert event.envelope.data["email"] == "ada@example.com"
    assert oauth.outbox.published == [event]


def test_returning_user_gets_the_same_account_and_no_new_event(oauth: OAuth) -> None:
    first = oauth.sign_in(ada())
    again = oauth.sign_in(ada(email="changed@example.com"))
    assert again == first
    assert len(oauth.accounts.events) == 1


def test_verified_email_links_an_existing_password_account(oauth: OAuth) -> None:
    existing = oauth.password_account("ada@example.com")
    assert oauth.sign_in(ada()) == existing.user_id
    assert oauth.accounts.identities["mock", "ada-1"].user_id == existing.user_id
    assert not oauth.accounts.events  # no second registration


def test_unverified_email_is_never_linked(oauth: OAuth) -> None:
    oauth.password_account("ada@example.com")
    with pytest.raises(EmailUnverified) as refused:
        oauth.sign_in(ada(email_verified=False))
    assert refused.value.code == "email_unverified"
    assert not oauth.accounts.identities


def test_a_password_account_with_an_unverified_address_is_never_linked(oauth: OAuth) -> None:
    """API.md: linking needs both sides verified, else whoever registered the address first
    (without owning it) would get the provider's sign-ins."""
    oauth.password_account("ada@example.com", verified=False)
    with pytest.raises(EmailUnverified) as refused:
        oauth.sign_in(ada())  # the provider vouches for the address; the account does not
    assert refused.value.code == "email_unverified"
    assert not oauth.accounts.identities


def test_an_account_registered_by_a_provider_that_vouches_is_verified(oauth: OAuth) -> None:
    user_id = oauth.sign_in(ada())
    assert oauth.accounts.accounts["ada@example.com"].user_id == user_id
    assert oauth.accounts.accounts["ada@example.com"].email_verified is True


def test_state_is_good_once_and_only_for_its_provider(oauth: OAuth) -> None:
    state = oauth.started()
    code = oauth.openid.code_for(state, ada())
    oauth.callback.callback(ANONYMOUS, "mock", code, state)
    with pytest.raises(InvalidState):
        oauth.callback.callback(ANONYMOUS, "mock", code, state)  # replayed
    with pytest.raises(InvalidState):
        oauth.callback.callback(ANONYMOUS, "mock", code, "made-up")
    other = Provider("other", "https://other.example.com", "c", (REDIRECT,))
    oauth.providers.known["other"] = other
    state = oauth.started()
    with pytest.raises(InvalidState):
        oauth.callback.callback(ANONYMOUS, "other", oauth.openid.code_for(state, ada()), state)
    with pytest.raises(ProviderNotFound):
        oauth.callback.callback(ANONYMOUS, "nope", "code", oauth.started())


def test_provider_refusal_and_missing_email_are_oauth_failed(oauth: OAuth) -> None:
    state = oauth.started()
    with pytest.raises(OAuthFailed) as refused:
        oauth.callback.callback(ANONYMOUS, "mock", "not-a-code", state)
    assert refused.value.code == "oauth_failed"
    with pytest.raises(OAuthFailed):
        oauth.sign_in(ada(email=None))


@pytest.mark.parametrize("race", [IdentityTaken(), EmailTaken()])
def test_a_lost_race_resolves_to_the_winner(oauth: OAuth, race: Exception) -> None:
    winner = oauth.password_account("ada@example.com")
    oauth.accounts.race_once = race
    assert oauth.sign_in(ada()) == winner.user_id


def test_broker_down_still_signs_in(oauth: OAuth) -> None:
    oauth.outbox.broker_up = False
    oauth.sign_in(ada())
    assert len(oauth.accounts.events) == 1  # waits in the outbox for the relay


# ------------------------------------------------------------------------------------------------
# Nicknames
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("claims", "email", "expected"),
    [
        ({"preferred_username": "ada.l"}, "x@y.z", "ada.l"),
        ({"preferred_username": "ada@contoso.com"}, None, "ada"),
        ({"name": "José Müller-Lüdenscheidt"}, None, "Jose_Muller_Ludenscheidt"),
        ({"nickname": "  __bob__ "}, None, "bob"),
        ({"name": "李"}, "li.wei+tag@example.com", "li.wei_tag"),
        ({"name": "x" * 50}, None, "x" * 32),
        ({}, "al@example.com", "al_user"),
        ({}, None, "user"),
    ],
)
def test_nickname_from_claims(claims: dict[str, str], email: str | None, expected: str) -> None:
    nickname = derive_nickname(claims, email)
    assert nickname == expected


def test_a_nickname_reserved_in_the_meantime_means_the_next_variant(oauth: OAuth) -> None:
    """The directory did not see it yet; the reservation refuses it; the sign-up goes on."""
    oauth.accounts.reserved.add("ada.l")
    user_id = oauth.sign_in(ada())
    (event,) = oauth.accounts.events
    assert event.envelope.data["nickname"] == "ada.l_2"
    assert event.envelope.data["user_id"] == str(user_id)
    assert oauth.outbox.published == [event]


def test_unique_nickname_tries_variants() -> None:
    directory = FakeNicknames(taken={"ada", "ada_2"})
    assert unique_nickname("ada", directory) == "ada_3"
    everything = FakeNicknames(taken={"ada"} | {f"ada_{n}" for n in range(2, 10)})
    assert unique_nickname("ada", everything).startswith("ada_")


# ------------------------------------------------------------------------------------------------
# ID token verification (joserfc + authlib claims), with keys made here
# ------------------------------------------------------------------------------------------------
ISSUER = "https://idp.example.com"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})


def _token(key: RSAKey = KEY, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "sub": "ada-1",
        "aud": "messenger",
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
        **claims,
    }
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, payload, key)


def _verify(token: str, keys: list[RSAKey] | None = None) -> dict[str, Any]:
    fetched: list[bool] = []

    def key_set(force: bool) -> dict[str, Any]:
        fetched.append(force)
        chosen = keys if (keys is not None and not force) else [KEY]
        return dict(KeySet(list(chosen)).as_dict())

    return JoseIdTokenVerifier(leeway_seconds=5).verify(
        token,
        issuer=ISSUER,
        client_id="messenger",
        nonce="n-1",
        access_token=None,
        algorithms=["RS256"],
        key_set=key_set,
    )


def test_a_good_id_token_yields_its_claims() -> None:
    assert _verify(_token(email="ada@example.com"))["email"] == "ada@example.com"


def test_rotated_keys_are_fetched_again() -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "old"})
    assert _verify(_token(), keys=[other])["sub"] == "ada-1"


@pytest.mark.parametrize(
    "bad",
    [
        {"aud": "someone-else"},
        {"aud": ["someone-else", "another"]},
        {"iss": "https://evil.example.com"},
        {"exp": int(time.time()) - 3600},
        {"nonce": "n-2"},
        {"nonce": None},
        {"aud": None},
        {"exp": None},
    ],
)
def test_bad_claims_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(OAuthFailed):
        _verify(_token(**bad))  # None: the claim is missing


def test_a_forged_signature_is_refused() -> None:
    forger = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    with pytest.raises(OAuthFailed):
        _verify(_token(key=forger))


def test_session_token_is_stored_hashed(oauth: OAuth) -> None:
    state = oauth.started()
    session = oauth.callback.callback(ANONYMOUS, "mock", oauth.openid.code_for(state, ada()), state)
    sessions = oauth.sessions.sessions
    assert isinstance(sessions, FakeSessions)
    assert hash_token(session.access_token) in sessions.live
