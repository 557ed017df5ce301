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

from messenger.clock import utcnow


@dataclass(frozen=True)
class Session:
    user_id: uuid.UUID
    expires_at: datetime


class Sessions(Protocol):
    def create(self, token_hash: bytes, session: Session) -> None: ...

    def find(self, token_hash: bytes) -> Session | None:
        """The live session for the token hash, or None if unknown, revoked or expired."""

    def revoke(self, token_hash: bytes) -> None: ...


def hash_token(token: str) -> bytes:
    """Tokens are stored and cached only as their SHA-256: a leaked table holds no credential."""
    return hashlib.sha256(token.encode()).digest()


@dataclass
class SessionService:
    """Open, check and revoke sessions: all the authorizer and logout need (no argon2, no Kafka)."""

    sessions: Sessions
    session_ttl: timedelta

    def open_session(self, user_id: uuid.UUID) -> tuple[str, Session]:
        """A new random bearer token and its session; only the token's hash is stored."""
        token = secrets.token_urlsafe(32)
        session = Session(user_id=user_id, expires_at=utcnow() + self.session_ttl)
        self.sessions.create(hash_token(token), session)
        return token, session

    def logout(self, token: str) -> None:
        self.sessions.revoke(hash_token(token))

    def authenticate(self, token: str) -> uuid.UUID | None:
        session = self.sessions.find(hash_token(token))
        return session.user_id if session else None
