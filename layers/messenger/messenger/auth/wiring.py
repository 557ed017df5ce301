"""Composition root of the auth context: one factory per use-case.

Each function calls its factory once, at module scope (Lambda's init phase), so its cold start
imports exactly the adapters its use-case needs: the authorizer never loads argon2 or the Kafka
client because registration needs them. No factory opens a connection; clients are created on
first use.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from messenger.auth.session import SessionService
from messenger.platform.settings import get_settings

if TYPE_CHECKING:
    from messenger.auth.adapters.oidc import IdTokenVerifier, OpenIDConnect
    from messenger.auth.oauth import OAuthCallbackService, OAuthStartService
    from messenger.auth.service import LoginService, RegistrationService


def session_service() -> SessionService:
    from messenger.auth.adapters.session_store import CachedSessions

    settings = get_settings()
    return SessionService(
        sessions=CachedSessions(timedelta(seconds=settings.session_cache_ttl_seconds)),
        session_ttl=timedelta(seconds=settings.session_ttl_seconds),
    )


def logout_service() -> SessionService:
    """Sessions, plus the realtime context's public operation that closes their connections."""
    from messenger.realtime import api as realtime

    service = session_service()
    service.connections = realtime
    return service


def registration_service() -> RegistrationService:
    # The first call checks the nickname through messenger.users.queries: its stores' lazy
    # imports (profiles in Postgres, the Redis profile cache) are done here, at init.
    import messenger.users.adapters.profile_cache
    import messenger.users.adapters.profiles  # noqa: F401
    from messenger.auth.adapters.accounts import PostgresAccounts
    from messenger.auth.adapters.passwords import Argon2Passwords
    from messenger.auth.service import RegistrationService
    from messenger.platform.kafka_publisher import KafkaPublisher
    from messenger.platform.outbox import OutboxPublisher
    from messenger.users import queries as users

    return RegistrationService(
        accounts=PostgresAccounts(nicknames=users),
        passwords=Argon2Passwords(),
        nicknames=users,
        outbox=OutboxPublisher(KafkaPublisher()),
    )


def login_service() -> LoginService:
    from messenger.auth.adapters.accounts import PostgresAccounts
    from messenger.auth.adapters.passwords import Argon2Passwords
    from messenger.auth.adapters.throttle import RedisLoginThrottle
    from messenger.auth.service import LoginService

    settings = get_settings()
    return LoginService(
        accounts=PostgresAccounts(),
        sessions=session_service(),
        throttle=RedisLoginThrottle(
            settings.login_max_failures,
            settings.login_max_failures_per_email,
            settings.login_failure_window_seconds,
        ),
        passwords=Argon2Passwords(),
    )


def _openid(verifier: IdTokenVerifier | None) -> OpenIDConnect:
    from messenger.auth.adapters.oauth_providers import ConfiguredProviders
    from messenger.auth.adapters.oidc import OpenIDConnect

    settings = get_settings()
    return OpenIDConnect(
        ConfiguredProviders(settings.oauth_providers),
        verifier,
        timeout_seconds=settings.oauth_http_timeout_seconds,
        metadata_ttl_seconds=settings.oauth_metadata_ttl_seconds,
    )


def oauth_start_service() -> OAuthStartService:
    from messenger.auth.adapters.oauth_providers import ConfiguredProviders
    from messenger.auth.adapters.oauth_store import RedisPendingSignIns
    from messenger.auth.oauth import OAuthStartService

    settings = get_settings()
    return OAuthStartService(
        providers=ConfiguredProviders(settings.oauth_providers),
        openid=_openid(verifier=None),  # starting never verifies a token: no JOSE stack here
        pending=RedisPendingSignIns(settings.oauth_state_ttl_seconds),
    )


def oauth_callback_service() -> OAuthCallbackService:
    from messenger.auth.adapters.id_token import JoseIdTokenVerifier
    from messenger.auth.adapters.oauth_accounts import PostgresOAuthAccounts
    from messenger.auth.adapters.oauth_providers import ConfiguredProviders
    from messenger.auth.adapters.oauth_store import RedisPendingSignIns
    from messenger.auth.oauth import OAuthCallbackService
    from messenger.platform.kafka_publisher import KafkaPublisher
    from messenger.platform.outbox import OutboxPublisher
    from messenger.users import queries as users

    settings = get_settings()
    return OAuthCallbackService(
        providers=ConfiguredProviders(settings.oauth_providers),
        openid=_openid(JoseIdTokenVerifier(settings.oauth_clock_leeway_seconds)),
        pending=RedisPendingSignIns(settings.oauth_state_ttl_seconds),
        accounts=PostgresOAuthAccounts(nicknames=users),
        sessions=session_service(),
        nicknames=users,
        outbox=OutboxPublisher(KafkaPublisher()),
    )
