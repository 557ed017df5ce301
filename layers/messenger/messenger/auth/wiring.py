"""Composition root of the auth context: each function builds only the use-cases it serves.

Adapters are imported inside the factories so that, say, the authorizer never loads argon2 or
the Kafka client: with one function per RPC, every import is paid by some cold start.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from messenger.auth.service import AuthService, SessionService
from messenger.settings import get_settings


@cache
def session_service() -> SessionService:
    from messenger.auth.sessions import CachedSessions

    settings = get_settings()
    return SessionService(
        sessions=CachedSessions(timedelta(seconds=settings.session_cache_ttl_seconds)),
        session_ttl=timedelta(seconds=settings.session_ttl_seconds),
    )


@cache
def auth_service() -> AuthService:
    from messenger import outbox
    from messenger.auth.accounts import PostgresAccounts
    from messenger.auth.passwords import Argon2Passwords
    from messenger.auth.throttle import RedisLoginThrottle
    from messenger.users import queries as users

    settings = get_settings()
    return AuthService(
        accounts=PostgresAccounts(),
        sessions=session_service(),
        throttle=RedisLoginThrottle(
            settings.login_max_failures, settings.login_failure_window_seconds
        ),
        passwords=Argon2Passwords(),
        nicknames=users,
        outbox=outbox,
    )
