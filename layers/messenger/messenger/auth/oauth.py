"""OAuth 2.0 / OpenID Connect sign-in: start at a provider, come back with a session.

Pure logic over ports, like service.py; the adapters are oauth_store.py (pending sign-ins in
Redis), oauth_accounts.py (identities in Postgres), oidc.py and id_token.py (the provider, over
HTTP, with authlib and joserfc), put together in messenger.bootstrap.

The flow is the authorization code flow with PKCE: `start` keeps a fresh state, nonce and code
verifier for the state's lifetime and answers the provider's authorization URL; `callback` takes
the state back exactly once, redeems the code and verifies the ID token, then finds or creates the
account and opens the same kind of session as a password login.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from messenger.auth.events import UserRegistered
from messenger.auth.models import Account, LoginResponse, OAuthStartResponse
from messenger.auth.service import EmailTaken, NicknameDirectory, NicknameTaken, normalize_email
from messenger.kernel.clock import utcnow
from messenger.kernel.errors import BadRequest, Conflict, InvalidInput, NotFound, Unauthenticated
from messenger.kernel.fields import NICKNAME_MAX, nickname_variants
from messenger.platform.unit_of_work import EventOutbox, UnitOfWork

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from messenger.auth.session import SessionService
    from messenger.kernel.context import RequestContext


# ------------------------------------------------------------------------------------------------
# What the use-cases handle
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Provider:
    """A configured OpenID Connect provider (messenger.platform.settings, OAUTH_PROVIDERS)."""

    name: str
    issuer: str
    client_id: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...] = ("openid", "email", "profile")


@dataclass(frozen=True)
class PendingSignIn:
    """What `start` keeps under the state until the callback (or the state's expiry)."""

    provider: str
    redirect_uri: str
    code_verifier: str
    nonce: str


@dataclass(frozen=True)
class VerifiedIdentity:
    """What a verified ID token says about the user."""

    subject: str
    email: str | None = None
    email_verified: bool = False
    claims: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OAuthIdentity:
    provider: str
    subject: str
    user_id: uuid.UUID
    email: str | None


# ------------------------------------------------------------------------------------------------
# Ports
# ------------------------------------------------------------------------------------------------
class Providers(Protocol):
    def get(self, name: str) -> Provider | None: ...


class OpenIDProvider(Protocol):
    """The provider's side of the flow (discovery, code redemption, ID token verification)."""

    def authorization_url(
        self, provider: Provider, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str: ...

    def sign_in(
        self, provider: Provider, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> VerifiedIdentity:
        """Redeem the code and verify the ID token; raise OAuthFailed when the provider refuses
        or the token fails any check (signature, issuer, audience, expiry, nonce)."""


class PendingSignIns(Protocol):
    def put(self, state: str, pending: PendingSignIn) -> None: ...

    def take(self, state: str) -> PendingSignIn | None:
        """The pending sign-in, removed: a state is good once. None if unknown or expired."""


class OAuthAccounts(Protocol):
    def user_for(self, provider: str, subject: str) -> uuid.UUID | None: ...

    def by_email(self, email: str) -> Account | None: ...

    def link(self, identity: OAuthIdentity) -> None:
        """Attach the identity to an existing account; raise IdentityTaken if it exists."""

    def add_with_identity(
        self, account: Account, identity: OAuthIdentity, nickname: str, uow: UnitOfWork
    ) -> None:
        """Store account, nickname reservation and identity, with the events recorded in `uow`,
        in one transaction; raise EmailTaken, NicknameTaken or IdentityTaken when another
        sign-up won the race."""


# ------------------------------------------------------------------------------------------------
# Refusals
# ------------------------------------------------------------------------------------------------
class ProviderNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__("provider_not_found", f"No sign-in provider is called {name!r}")


class InvalidState(BadRequest):
    def __init__(self) -> None:
        super().__init__(
            "invalid_state", "The sign-in state is unknown, expired or already used; start again"
        )


class OAuthFailed(Unauthenticated):
    def __init__(self, detail: str) -> None:
        super().__init__("oauth_failed", detail)


class EmailUnverified(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "email_unverified",
            "An account with this email exists, but its address or the provider's is not"
            " verified, so the sign-in cannot be linked to it; log in with the password (and"
            " verify the address first)",
        )


class IdentityTaken(Exception):
    """Another callback stored the same (provider, subject) first: resolve the account again."""


# ------------------------------------------------------------------------------------------------
# Nicknames from the provider's claims
# ------------------------------------------------------------------------------------------------
_NOT_NICKNAME = re.compile(r"[^A-Za-z0-9_.]+")
NICKNAME_MIN = 3
FALLBACK_NICKNAME = "user"
CHECKED_VARIANTS = 10
RESERVATION_ATTEMPTS = 5


def _clean(raw: str) -> str:
    """ASCII-folded, disallowed runs as `_`, trimmed to the nickname length."""
    folded = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    return _NOT_NICKNAME.sub("_", folded).strip("_.")[:NICKNAME_MAX].rstrip("_.")


def derive_nickname(claims: Mapping[str, Any], email: str | None) -> str:
    """A valid nickname from preferred_username, nickname, name or the email's local part."""
    short = ""
    for raw in (
        claims.get("preferred_username"),
        claims.get("nickname"),
        claims.get("name"),
        email,
    ):
        if not isinstance(raw, str):
            continue
        candidate = _clean(raw.split("@", 1)[0])  # preferred_username is often an address
        if len(candidate) >= NICKNAME_MIN:
            return candidate
        short = short or candidate
    return f"{short}_{FALLBACK_NICKNAME}" if short else FALLBACK_NICKNAME


def free_nicknames(nickname: str, directory: NicknameDirectory) -> Iterator[str]:
    """The variants nobody holds yet, in order; past the first few checked, random suffixes
    (practically free). The reservation in the account's transaction has the last word."""
    for index, candidate in enumerate(nickname_variants(nickname)):
        if index >= CHECKED_VARIANTS or not directory.is_nickname_taken(candidate):
            yield candidate


def unique_nickname(nickname: str, directory: NicknameDirectory) -> str:
    """The first variant nobody holds yet."""
    return next(free_nicknames(nickname, directory))


# ------------------------------------------------------------------------------------------------
# Use-cases
# ------------------------------------------------------------------------------------------------
def _provider(providers: Providers, name: str) -> Provider:
    provider = providers.get(name)
    if provider is None:
        raise ProviderNotFound(name)
    return provider


@dataclass
class OAuthStartService:
    providers: Providers
    openid: OpenIDProvider
    pending: PendingSignIns

    def start(self, provider_name: str, redirect_uri: str) -> OAuthStartResponse:
        provider = _provider(self.providers, provider_name)
        if redirect_uri not in provider.redirect_uris:
            raise InvalidInput(
                "validation_failed",
                "This redirect URI is not configured for the provider",
                errors=[{"field": "redirect_uri", "message": "redirect URI not allowed"}],
            )
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        code_verifier = secrets.token_urlsafe(48)  # 64 chars: PKCE wants 43 to 128
        url = self.openid.authorization_url(
            provider,
            redirect_uri=redirect_uri,
            state=state,
            nonce=nonce,
            code_verifier=code_verifier,
        )
        self.pending.put(state, PendingSignIn(provider.name, redirect_uri, code_verifier, nonce))
        return OAuthStartResponse(authorization_url=url)


@dataclass
class OAuthCallbackService:
    providers: Providers
    openid: OpenIDProvider
    pending: PendingSignIns
    accounts: OAuthAccounts
    sessions: SessionService
    nicknames: NicknameDirectory
    outbox: EventOutbox

    def callback(
        self,
        ctx: RequestContext,
        provider_name: str,
        code: str,
        state: str,
        user_agent: str | None = None,
    ) -> LoginResponse:
        provider = _provider(self.providers, provider_name)
        pending = self.pending.take(state)
        if pending is None or pending.provider != provider.name:
            raise InvalidState()
        identity = self.openid.sign_in(
            provider,
            code=code,
            redirect_uri=pending.redirect_uri,
            code_verifier=pending.code_verifier,
            nonce=pending.nonce,
        )
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:
            user_id = self._account_for(provider, identity, uow)
        return LoginResponse.of(self.sessions.open_session(user_id, user_agent))

    def _account_for(
        self, provider: Provider, identity: VerifiedIdentity, uow: UnitOfWork
    ) -> uuid.UUID:
        # A concurrent callback for the same person may store the identity or the email first;
        # looking again then finds what it stored.
        try:
            return self._resolve(provider, identity, uow)
        except (IdentityTaken, EmailTaken):
            return self._resolve(provider, identity, uow)

    def _resolve(
        self, provider: Provider, identity: VerifiedIdentity, uow: UnitOfWork
    ) -> uuid.UUID:
        known = self.accounts.user_for(provider.name, identity.subject)
        if known is not None:
            return known
        if not identity.email:
            raise OAuthFailed("The provider did not share an email address (scope `email`)")
        email = normalize_email(identity.email)
        existing = self.accounts.by_email(email)
        if existing is not None:
            # Both sides (API.md): the provider vouches for the address, and the account proved it
            # holds it; else whoever registered the address first could be signed in to.
            if not identity.email_verified or not existing.email_verified:
                raise EmailUnverified()
            self.accounts.link(
                OAuthIdentity(provider.name, identity.subject, existing.user_id, email)
            )
            return existing.user_id
        return self._register(provider, identity, email, uow)

    def _register(
        self, provider: Provider, identity: VerifiedIdentity, email: str, uow: UnitOfWork
    ) -> uuid.UUID:
        now = utcnow()
        account = Account(
            user_id=uuid.uuid4(),
            email=email,
            password_hash=None,
            created_at=now,
            email_verified=identity.email_verified,  # the provider vouches for it
        )
        oauth_identity = OAuthIdentity(provider.name, identity.subject, account.user_id, email)
        candidates = free_nicknames(derive_nickname(identity.claims, email), self.nicknames)
        # Nobody chose this nickname: one reserved by a sign-up a moment ago means the next one.
        # A refused attempt's transaction drops its event with it.
        for _, nickname in zip(range(RESERVATION_ATTEMPTS), candidates, strict=False):
            uow.record(
                UserRegistered(
                    user_id=account.user_id, email=email, nickname=nickname, registered_at=now
                )
            )
            try:
                self.accounts.add_with_identity(account, oauth_identity, nickname, uow)
            except NicknameTaken:
                continue
            return account.user_id
        raise RuntimeError(f"no free nickname after {RESERVATION_ATTEMPTS} reservations")
