"""Sessions: open, check, revoke. All the authorizer and logout need, and nothing heavier.

Deliberately free of pydantic models and email validation: the authorizer runs before every
authenticated request, so its cold start carries only this module, Redis and Postgres.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from messenger.kernel.clock import utcnow


@dataclass(frozen=True)
class Session:
    user_id: uuid.UUID
    expires_at: datetime


class Sessions(Protocol):
    def create(self, token_hash: bytes, session: Session) -> None: ...

    def find(self, token_hash: bytes) -> Session | None:
        """The live session for the token hash, or None if unknown, revoked or expired."""

    def revoke(self, token_hash: bytes) -> uuid.UUID | None:
        """Revoke the session; its user, or None if it was unknown or already revoked."""


class SessionConnections(Protocol):
    """The realtime context's public operation: close the WebSocket connections of a session."""

    def close_session_connections(self, user_id: uuid.UUID, session_id: str) -> int: ...


class SessionDevices(Protocol):
    """The notifications context's public operation: remove the push devices of a session."""

    def remove_session_devices(self, user_id: uuid.UUID, session_id: str) -> int: ...


def hash_token(token: str) -> bytes:
    """Tokens are stored and cached only as their SHA-256: a leaked table holds no credential."""
    return hashlib.sha256(token.encode()).digest()


def session_id(token_hash: bytes) -> str:
    """How other contexts name a session (e.g. on a WebSocket connection): not a credential."""
    return token_hash.hex()


@dataclass
class SessionService:
    """Open, check and revoke sessions: all the authorizer and logout need (no argon2, no Kafka)."""

    sessions: Sessions
    session_ttl: timedelta
    connections: SessionConnections | None = None  # what else a logout ends (realtime)
    devices: SessionDevices | None = None  # and its push devices (notifications)

    def open_session(self, user_id: uuid.UUID) -> tuple[str, Session]:
        """A new random bearer token and its session; only the token's hash is stored."""
        token = secrets.token_urlsafe(32)
        session = Session(user_id=user_id, expires_at=utcnow() + self.session_ttl)
        self.sessions.create(hash_token(token), session)
        return token, session

    def logout(self, token: str) -> None:
        """Revoke the token's session, then close its WebSocket connections, remove its devices.

        In that order: a connection registered after the listing finds the session revoked when
        its `$connect` looks again, so none survives the logout.
        """
        token_hash = hash_token(token)
        user_id = self.sessions.revoke(token_hash)
        if user_id is not None and self.connections is not None:
            self.connections.close_session_connections(user_id, session_id(token_hash))
        if user_id is not None and self.devices is not None:
            self.devices.remove_session_devices(user_id, session_id(token_hash))

    def authenticate(self, token: str) -> uuid.UUID | None:
        session = self.sessions.find(hash_token(token))
        return session.user_id if session else None

    def identify(self, token: str) -> tuple[uuid.UUID, str] | None:
        """The live session behind the token as (user id, session id), or None."""
        token_hash = hash_token(token)
        session = self.sessions.find(token_hash)
        return (session.user_id, session_id(token_hash)) if session else None
