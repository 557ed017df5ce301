"""Sessions: open, refresh, check, end. All the authorizer, refresh and logout need, and nothing
heavier.

A session is one login (decision 48): its id is stable for its whole life, while its access
tokens (short) and refresh tokens (long, rotated on every use) come and go. Other contexts name
the session by that id (WebSocket connections, the authorizer's context, push revocations).

Deliberately free of pydantic models and email validation: the authorizer runs before every
authenticated request, so its cold start carries only this module, Redis and Postgres.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

from messenger.kernel.clock import utcnow
from messenger.kernel.errors import NotFound, Unauthenticated
from messenger.platform.observability import logger

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


@dataclass(frozen=True)
class Session:
    """What an access token stands for: who, until when, and which login it belongs to."""

    user_id: uuid.UUID
    expires_at: datetime
    session_id: str


@dataclass(frozen=True)
class NewTokens:
    """A pair about to be stored: only hashes, never the tokens themselves."""

    session_id: str
    access_hash: bytes
    access_expires_at: datetime
    refresh_hash: bytes
    refresh_expires_at: datetime


@dataclass(frozen=True)
class IssuedTokens:
    """A pair handed to the client once (the login response)."""

    user_id: uuid.UUID
    session_id: str
    access_token: str
    access_expires_at: datetime
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


@dataclass(frozen=True)
class Rotation:
    """What presenting a refresh token found: `rotated` (the new pair is stored), `reused` (the
    token was already retired: the session must end), or `invalid` (unknown, expired, revoked)."""

    outcome: Literal["rotated", "reused", "invalid"]
    user_id: uuid.UUID | None = None
    session_id: str | None = None


class Sessions(Protocol):
    def open(self, user_id: uuid.UUID, tokens: NewTokens, user_agent: str | None) -> None:
        """Store the login with its first access and refresh tokens."""

    def find(self, token_hash: bytes) -> Session | None:
        """The live session of the access token hash, or None if unknown, revoked or expired."""

    def rotate(self, refresh_hash: bytes, tokens: NewTokens) -> Rotation:
        """Retire the refresh token and store `tokens` in its session (`tokens.session_id` is
        ignored: the session is the token's), in one transaction; also the session's last use."""

    def session_of(self, token_hash: bytes) -> tuple[uuid.UUID, str] | None:
        """(user, session id) of an access token, revoked or expired ones included."""

    def revoke(
        self, user_id: uuid.UUID, session_ids: Sequence[str] | None, keep: str | None
    ) -> list[str]:
        """Revoke the user's live sessions (those named, or all), except `keep`: their access
        tokens are refused from then on. The session ids actually revoked."""


class SessionConnections(Protocol):
    """The realtime context's public operation: close the WebSocket connections of a session."""

    def close_session_connections(self, user_id: uuid.UUID, session_id: str) -> int: ...


class SessionDevices(Protocol):
    """The notifications context's public operation: remove the push devices of a session."""

    def remove_session_devices(self, user_id: uuid.UUID, session_id: str) -> int: ...


def hash_token(token: str) -> bytes:
    """Tokens are stored and cached only as their SHA-256: a leaked table holds no credential.

    Lookups go by this hash (an index probe), so no token is ever compared byte by byte with a
    secret: there is no timing to observe."""
    return hashlib.sha256(token.encode()).digest()


def new_session_id() -> str:
    """How other contexts name a session (e.g. on a WebSocket connection): not a credential."""
    return str(uuid.uuid4())


class InvalidToken(Unauthenticated):
    def __init__(self) -> None:
        super().__init__("invalid_token", "The refresh token is unknown, expired or revoked")


class SessionNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("session_not_found", "No such session of yours")


@dataclass
class SessionService:
    """Open, refresh, check and end sessions (no argon2, no Kafka).

    Every way a session ends (logout, revoking one or the others, a password change or reset,
    account deletion) goes through `end_sessions`, which calls each of `ended` per session:
    what else ends with a session (its WebSocket connections; its push devices) is composed in
    messenger.bootstrap.
    """

    sessions: Sessions
    access_ttl: timedelta
    refresh_ttl: timedelta
    ended: list[Callable[[uuid.UUID, str], object]] = field(default_factory=list)

    def _new_tokens(self, session_id: str) -> tuple[str, str, NewTokens]:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = utcnow()
        tokens = NewTokens(
            session_id=session_id,
            access_hash=hash_token(access),
            access_expires_at=now + self.access_ttl,
            refresh_hash=hash_token(refresh),
            refresh_expires_at=now + self.refresh_ttl,
        )
        return access, refresh, tokens

    def _issued(self, user_id: uuid.UUID, access: str, refresh: str, t: NewTokens) -> IssuedTokens:
        return IssuedTokens(
            user_id=user_id,
            session_id=t.session_id,
            access_token=access,
            access_expires_at=t.access_expires_at,
            expires_in=int(self.access_ttl.total_seconds()),
            refresh_token=refresh,
            refresh_expires_in=int(self.refresh_ttl.total_seconds()),
        )

    def open_session(self, user_id: uuid.UUID, user_agent: str | None = None) -> IssuedTokens:
        """A new login: random access and refresh tokens; only their hashes are stored."""
        access, refresh, tokens = self._new_tokens(new_session_id())
        self.sessions.open(user_id, tokens, user_agent[:256] if user_agent else None)
        return self._issued(user_id, access, refresh, tokens)

    def refresh(self, refresh_token: str) -> IssuedTokens:
        """A new pair for a live refresh token, which is retired; a retired one presented again
        ends its whole session (it was stolen, or the client is confused: both lose it)."""
        access, refresh, tokens = self._new_tokens("")
        rotation = self.sessions.rotate(hash_token(refresh_token), tokens)
        if rotation.outcome == "rotated" and rotation.user_id and rotation.session_id:
            tokens = NewTokens(
                rotation.session_id,
                tokens.access_hash,
                tokens.access_expires_at,
                tokens.refresh_hash,
                tokens.refresh_expires_at,
            )
            return self._issued(rotation.user_id, access, refresh, tokens)
        if rotation.outcome == "reused" and rotation.user_id and rotation.session_id:
            logger.warning(
                "A retired refresh token was presented: its session is revoked",
                extra={"user_id": str(rotation.user_id), "session_id": rotation.session_id},
            )
            self.end_sessions(rotation.user_id, [rotation.session_id])
        raise InvalidToken()

    def end_sessions(
        self, user_id: uuid.UUID, session_ids: Sequence[str] | None = None, keep: str | None = None
    ) -> list[str]:
        """The one way sessions end: revoke them (tokens refused from the next request on), then
        run the `ended` hooks for each. In that order: a connection registered after a hook's
        listing finds its session revoked when its `$connect` looks again."""
        revoked = self.sessions.revoke(user_id, session_ids, keep)
        for session_id in revoked:
            for hook in self.ended:
                hook(user_id, session_id)
        return revoked

    def logout(self, token: str) -> None:
        """End the token's session (its refresh token with it)."""
        owner = self.sessions.session_of(hash_token(token))
        if owner is not None:
            self.end_sessions(owner[0], [owner[1]])

    def revoke_session(self, user_id: uuid.UUID, session_id: str) -> None:
        if not self.end_sessions(user_id, [session_id]):
            raise SessionNotFound()

    def revoke_other_sessions(self, user_id: uuid.UUID, current: str | None) -> list[str]:
        return self.end_sessions(user_id, None, keep=current)

    def revoke_all_sessions(self, user_id: uuid.UUID) -> list[str]:
        return self.end_sessions(user_id)

    def authenticate(self, token: str) -> uuid.UUID | None:
        session = self.sessions.find(hash_token(token))
        return session.user_id if session else None

    def identify(self, token: str) -> tuple[uuid.UUID, str] | None:
        """The live session behind the token as (user id, session id), or None."""
        session = self.sessions.find(hash_token(token))
        return (session.user_id, session.session_id) if session else None
