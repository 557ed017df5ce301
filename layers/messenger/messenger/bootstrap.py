"""Composition: the one place that knows which adapter implements which port, and where the
contexts meet.

One factory per function (or per use-case a function serves); each handler calls its factory
once, at module scope (Lambda's init phase, which SnapStart snapshots). Every import is inside
the factory that needs it, so a function's cold start loads exactly its use-case's adapters: the
authorizer never loads argon2 or the Kafka client because registration needs them. No factory
opens a connection; clients are created on first use.

A context reaches another only through the other's `api` module, and only because a factory here
hands it over as one of its ports. What a function asks another context only sometimes (or never
at init) is handed over as `_on_first_use(...)`: built on the first call, not in the cold start.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, cast

if TYPE_CHECKING:
    import uuid
    from collections.abc import Callable

    from messenger.auth.adapters.accounts import PostgresAccounts
    from messenger.auth.adapters.oidc import IdTokenVerifier, OpenIDConnect
    from messenger.auth.adapters.session_store import CachedSessions
    from messenger.auth.adapters.throttle import RedisLoginThrottle
    from messenger.auth.api import AuthApi
    from messenger.auth.email import EmailService
    from messenger.auth.oauth import OAuthCallbackService, OAuthStartService
    from messenger.auth.service import (
        LoginService,
        PasswordService,
        RegistrationService,
        SessionListing,
    )
    from messenger.auth.session import SessionService
    from messenger.chats.adapters.store import CachedChats
    from messenger.chats.api import ChatsApi
    from messenger.chats.service import ChatsErasure, ChatsService, EventOutbox, FriendDirectory
    from messenger.friends.adapters.store import CachedFriendships
    from messenger.friends.api import FriendsApi
    from messenger.friends.consumers import FriendsConsumers
    from messenger.friends.service import FriendsService
    from messenger.media.api import MediaApi
    from messenger.media.service import MediaService
    from messenger.notifications.api import SessionDevices
    from messenger.notifications.notifier import Notifier
    from messenger.notifications.service import DevicesService
    from messenger.platform.kafka_publisher import KafkaPublisher
    from messenger.platform.publishing import RelayReport
    from messenger.platform.ratelimit import RedisRateLimiter
    from messenger.realtime.adapters.store import DynamoConnections
    from messenger.realtime.adapters.stream import DynamoStream
    from messenger.realtime.api import Presence, SessionConnections
    from messenger.realtime.service import RealtimeService
    from messenger.realtime.sync import SyncService
    from messenger.safety.service import ReportsService
    from messenger.users.adapters.profile_cache import CachedProfiles
    from messenger.users.adapters.profiles import PostgresProfiles
    from messenger.users.api import UsersApi
    from messenger.users.deletion import AccountDeletionService
    from messenger.users.erasure import ErasureService
    from messenger.users.exports import ExportService
    from messenger.users.service import UsersService

T = TypeVar("T")


class _OnFirstUse(Generic[T]):
    """Stands in for what `factory` builds: nothing is built (or imported) until a method is
    first asked for, so a port a function rarely uses costs its cold start nothing.

    Every attribute asks the factory again: the shared ones are cached (one per execution
    environment), and clearing such a cache (the tests do, between local gateways) rebuilds
    what it hands out; the others are cheap to build per call.
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory

    def __getattr__(self, name: str) -> Any:
        return getattr(self._factory(), name)


def _on_first_use(factory: Callable[[], T]) -> T:
    return cast("T", _OnFirstUse(factory))


def _kafka() -> KafkaPublisher:
    from messenger.platform.kafka_publisher import KafkaPublisher

    return KafkaPublisher()


# -- what the contexts offer each other (one per execution environment) -----------------------


@cache
def _profiles() -> tuple[CachedProfiles, PostgresProfiles]:
    """The profile cache, wrapping the Postgres profiles it falls back to."""
    from messenger.platform import redis
    from messenger.users.adapters.profile_cache import CachedProfiles
    from messenger.users.adapters.profiles import PostgresProfiles

    records = PostgresProfiles()
    return CachedProfiles(records, redis.client), records


@cache
def users_api() -> UsersApi:
    from messenger.users.api import UsersApi

    cached, records = _profiles()
    return UsersApi(cache=cached, records=records)


@cache
def friends_api() -> FriendsApi:
    """Cached friend sets: Redis warm, Postgres (psycopg, loaded then) on a miss."""
    from messenger.friends.api import FriendsApi

    return FriendsApi(_friendships())


@cache
def chats_api() -> ChatsApi:
    from messenger.chats.api import ChatsApi

    return ChatsApi(_chats_store(), friends=friends_api())


@cache
def auth_api() -> AuthApi:
    """Revoked sessions, for the push path: the session store is built on the first push;
    ending sessions, checking passwords (account deletion) and reading accounts are built on
    their first use. The account store's module (the auth models: email-validator's grammar,
    about 40 ms) is not even imported here: the push path never reads an account, and the
    functions that do import it at their init (`_account_reads`)."""
    from messenger.auth.api import AuthApi

    return AuthApi(
        _on_first_use(_sessions),
        ender=_on_first_use(logout_service),
        passwords=_on_first_use(password_service),
        accounts=_on_first_use(_accounts),
    )


def _accounts() -> PostgresAccounts:
    from messenger.auth.adapters.accounts import PostgresAccounts

    return PostgresAccounts()


def _account_reads() -> AuthApi:
    """The auth api for a function whose first call reads an account: its store's module is
    imported now, at init, where SnapStart's snapshot holds it."""
    import messenger.auth.adapters.accounts  # noqa: F401

    return auth_api()


def presence() -> Presence:
    """Who is online: the connection store (pynamodb) is imported on the first question."""
    from messenger.realtime.api import Presence

    def connections() -> DynamoConnections:
        from messenger.realtime.adapters.store import DynamoConnections

        return DynamoConnections()

    return Presence(_on_first_use(connections))


@cache
def session_connections() -> SessionConnections:
    """Closing a session's connections (for auth's logout): its pusher needs the @connections
    endpoint, so it is built on the first logout, not at init."""
    from messenger.realtime.api import SessionConnections

    return SessionConnections(_realtime())


# -- auth --------------------------------------------------------------------------------------


def _sessions() -> CachedSessions:
    from datetime import timedelta

    from messenger.auth.adapters.session_store import CachedSessions
    from messenger.platform import redis
    from messenger.platform.settings import get_settings

    return CachedSessions(timedelta(seconds=get_settings().session_cache_ttl_seconds), redis.client)


def session_service() -> SessionService:
    """The authorizer (and every use-case that opens or checks sessions)."""
    from datetime import timedelta

    from messenger.auth.session import SessionService
    from messenger.platform.settings import get_settings

    settings = get_settings()
    return SessionService(
        sessions=_sessions(),
        access_ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
    )


def _session_ended_hooks() -> list[Callable[[uuid.UUID, str], object]]:
    """What else ends with a session, in order, for every way one ends (logout, revocation,
    password change or reset, account deletion): its WebSocket connections are closed (after a
    `session.revoked` frame), then its push devices are removed (best effort each)."""
    connections = _on_first_use(session_connections)
    devices = session_devices()

    def close_connections(user_id: uuid.UUID, session_id: str) -> object:
        return connections.close_session_connections(user_id, session_id)

    def remove_devices(user_id: uuid.UUID, session_id: str) -> object:
        return devices.remove_session_devices(user_id, session_id)

    return [close_connections, remove_devices]


def logout_service() -> SessionService:
    """Sessions, plus what ends with one (the hooks: connections closed, devices removed).
    Ending a session writes Postgres, closes connections and removes devices (botocore, pynamodb):
    loaded here, at init."""
    import messenger.notifications.adapters.devices
    import messenger.notifications.adapters.sns
    import messenger.platform.postgres
    import messenger.realtime.adapters.pusher
    import messenger.realtime.adapters.store  # noqa: F401

    service = session_service()
    service.ended = _session_ended_hooks()
    return service


def refresh_service() -> SessionService:
    """Refreshing rotates tokens in Postgres; a reused token ends the session (the hooks)."""
    return logout_service()


def session_listing() -> SessionListing:
    from messenger.auth.service import SessionListing

    return SessionListing(_sessions())


def password_service() -> PasswordService:
    from messenger.auth.adapters.accounts import PostgresAccounts
    from messenger.auth.adapters.passwords import Argon2Passwords
    from messenger.auth.service import PasswordService

    return PasswordService(
        accounts=PostgresAccounts(),
        sessions=logout_service(),
        throttle=_login_throttle(),
        passwords=Argon2Passwords(),
    )


def _login_throttle() -> RedisLoginThrottle:
    from messenger.auth.adapters.throttle import RedisLoginThrottle
    from messenger.platform import redis
    from messenger.platform.settings import get_settings

    settings = get_settings()
    return RedisLoginThrottle(
        settings.login_max_failures,
        settings.login_max_failures_per_email,
        settings.login_failure_window_seconds,
        redis.client,
    )


def registration_service() -> RegistrationService:
    # The first call checks the nickname through the users context's api: its stores (profiles
    # in Postgres, the Redis profile cache) are built here, at init.
    from messenger.auth.adapters.accounts import PostgresAccounts
    from messenger.auth.adapters.passwords import Argon2Passwords
    from messenger.auth.service import RegistrationService
    from messenger.platform.outbox import OutboxPublisher

    users = users_api()
    return RegistrationService(
        accounts=PostgresAccounts(nicknames=users),
        passwords=Argon2Passwords(),
        nicknames=users,
        outbox=OutboxPublisher(_kafka()),
    )


def login_service() -> LoginService:
    from messenger.auth.adapters.accounts import PostgresAccounts
    from messenger.auth.adapters.passwords import Argon2Passwords
    from messenger.auth.service import LoginService

    return LoginService(
        accounts=PostgresAccounts(),
        sessions=session_service(),
        throttle=_login_throttle(),
        passwords=Argon2Passwords(),
    )


def email_service() -> EmailService:
    """Verification and reset mails (SES v2); confirming a reset also ends every session and
    clears the login throttle, so that function gets the hooks, argon2 and the throttle."""
    from datetime import timedelta

    from messenger.auth.adapters.accounts import PostgresAccounts
    from messenger.auth.adapters.email_tokens import PostgresEmailTokens
    from messenger.auth.adapters.mail_quota import RedisMailQuota
    from messenger.auth.adapters.ses_mail import SesMailer
    from messenger.auth.email import EmailService
    from messenger.platform import redis
    from messenger.platform.settings import get_settings

    settings = get_settings()
    return EmailService(
        accounts=PostgresAccounts(),
        tokens=PostgresEmailTokens(),
        mailer=SesMailer(
            settings.mail_from_address,
            settings.mail_configuration_set,
            settings.ses_endpoint,
            settings.aws_region,
        ),
        quota=RedisMailQuota(redis.client),
        link_base_url=settings.mail_link_base_url,
        verify_ttl=timedelta(seconds=settings.email_verification_ttl_seconds),
        reset_ttl=timedelta(seconds=settings.password_reset_ttl_seconds),
        reset_max_mails=settings.password_reset_max_mails,
        reset_window_seconds=settings.password_reset_window_seconds,
        reset_min_seconds=settings.password_reset_min_seconds,
    )


def reset_confirm_service() -> EmailService:
    from messenger.auth.adapters.passwords import Argon2Passwords

    service = email_service()
    service.passwords = Argon2Passwords()
    service.sessions = logout_service()
    service.throttle = _login_throttle()
    return service


def _openid(verifier: IdTokenVerifier | None) -> OpenIDConnect:
    from messenger.auth.adapters.oauth_providers import ConfiguredProviders
    from messenger.auth.adapters.oidc import OpenIDConnect
    from messenger.platform.settings import get_settings

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
    from messenger.platform import redis
    from messenger.platform.settings import get_settings

    settings = get_settings()
    return OAuthStartService(
        providers=ConfiguredProviders(settings.oauth_providers),
        openid=_openid(verifier=None),  # starting never verifies a token: no JOSE stack here
        pending=RedisPendingSignIns(settings.oauth_state_ttl_seconds, redis.client),
    )


def oauth_callback_service() -> OAuthCallbackService:
    from messenger.auth.adapters.id_token import JoseIdTokenVerifier
    from messenger.auth.adapters.oauth_accounts import PostgresOAuthAccounts
    from messenger.auth.adapters.oauth_providers import ConfiguredProviders
    from messenger.auth.adapters.oauth_store import RedisPendingSignIns
    from messenger.auth.oauth import OAuthCallbackService
    from messenger.platform import redis
    from messenger.platform.outbox import OutboxPublisher
    from messenger.platform.settings import get_settings

    settings = get_settings()
    users = users_api()
    return OAuthCallbackService(
        providers=ConfiguredProviders(settings.oauth_providers),
        openid=_openid(JoseIdTokenVerifier(settings.oauth_clock_leeway_seconds)),
        pending=RedisPendingSignIns(settings.oauth_state_ttl_seconds, redis.client),
        accounts=PostgresOAuthAccounts(nicknames=users),
        sessions=session_service(),
        nicknames=users,
        outbox=OutboxPublisher(_kafka()),
    )


# -- chats -------------------------------------------------------------------------------------


def chats_service() -> ChatsService:
    """Create, send, mark read: they publish through the Mongo outbox (Kafka client at init)."""
    from messenger.platform.mongo_outbox import MongoOutboxPublisher

    service = _chats(MongoOutboxPublisher(_kafka()), friends_api())
    service.attachments = media_api()  # its S3 client is made by the first message with files
    return service


def chats_reader() -> ChatsService:
    """ListChats and GetChatHistory only read: no Kafka client, and the friends context (its
    models and store) only if ever asked: reading never asks."""
    from messenger.platform.publishing import NoOutbox

    return _chats(NoOutbox(), _on_first_use(friends_api))


def chats_erasure() -> ChatsErasure:
    """EraseMessagesOnUserDeleted: each tombstone's `message.deleted` is written to the Mongo
    outbox with it and published by the outbox relay (a consumer holds no Kafka producer)."""
    from messenger.chats.service import ChatsErasure
    from messenger.platform.publishing import RelayOnly

    return ChatsErasure(
        _chats_store(), RelayOnly(), groups=_chats(RelayOnly(), _on_first_use(friends_api))
    )


def group_service() -> ChatsService:
    """Group members, roles and title: they publish through the Mongo outbox (Kafka client at
    init); adding members asks the friends context."""
    from messenger.platform.mongo_outbox import MongoOutboxPublisher

    return _chats(MongoOutboxPublisher(_kafka()), friends_api())


def mute_service() -> ChatsService:
    """Mute and unmute: a write of the chat document, no event (no Kafka client)."""
    from messenger.platform.publishing import NoOutbox

    return _chats(NoOutbox(), _on_first_use(friends_api))


def _chats_store() -> CachedChats:
    """Chats in MongoDB, their membership cached in Redis."""
    from messenger.chats.adapters.store import CachedChats, MongoChats
    from messenger.platform import redis

    return CachedChats(MongoChats(), redis.client)


def _limiter() -> RedisRateLimiter:
    from messenger.platform import redis
    from messenger.platform.ratelimit import RedisRateLimiter, configured_limits
    from messenger.platform.settings import get_settings

    return RedisRateLimiter(configured_limits(get_settings()), redis.client)


def _chats(outbox: EventOutbox, friends: FriendDirectory) -> ChatsService:
    from messenger.chats.service import ChatsService

    return ChatsService(store=_chats_store(), friends=friends, outbox=outbox, limiter=_limiter())


# -- friends -----------------------------------------------------------------------------------


def friends_service() -> FriendsService:
    """Requests, answers, removals: they publish through the outbox (Kafka client at init).
    They never ask who is online."""
    from messenger.platform.outbox import OutboxPublisher

    return _friends(OutboxPublisher(_kafka()))


def friends_reader() -> FriendsService:
    """GET /v1/friends only reads: no Kafka client in its cold start. Its first call asks who
    is online: the presence store (pynamodb, botocore) is loaded here, at init, for SnapStart's
    snapshot."""
    import messenger.realtime.adapters.store  # noqa: F401 - for SnapStart's snapshot
    from messenger.platform.publishing import NoOutbox

    service = _friends(NoOutbox())
    service.presence = presence()
    return service


def blocks_reader() -> FriendsService:
    """GET /v1/blocks only reads: no Kafka client, no presence."""
    from messenger.platform.publishing import NoOutbox

    return _friends(NoOutbox())


def _friends(outbox: Any) -> FriendsService:
    from datetime import timedelta

    # Every first call reaches Postgres (friendships) and the users context's profiles (the
    # profile cache, users.service): loaded here, at init.
    import messenger.platform.postgres  # noqa: F401
    from messenger.friends.service import FriendsService
    from messenger.platform.settings import get_settings

    return FriendsService(
        friendships=_friendships(),
        users=users_api(),
        outbox=outbox,
        cooldown=timedelta(seconds=get_settings().friend_request_cooldown_seconds),
        limiter=_limiter(),
    )


def _friendships() -> CachedFriendships:
    """Friendships in Postgres, each user's relations cached in Redis."""
    from messenger.friends.adapters.store import CachedFriendships, PostgresFriendships
    from messenger.platform import redis

    return CachedFriendships(PostgresFriendships(), redis.client)


def friends_consumers() -> FriendsConsumers:
    """UpdateFriendsOnUserEvents and ReconcileFriendLists: erasures, renames, friend lists."""
    import messenger.platform.postgres  # noqa: F401 - every event reaches it
    from messenger.friends.adapters.store import PostgresFriendships
    from messenger.friends.consumers import FriendsConsumers

    return FriendsConsumers(PostgresFriendships(), _friendships(), users_api())


# -- realtime ----------------------------------------------------------------------------------


def _realtime(**extra: Any) -> RealtimeService:
    from datetime import timedelta

    from messenger.platform.settings import get_settings
    from messenger.realtime.adapters.pusher import ApiGatewayPusher
    from messenger.realtime.adapters.store import DynamoConnections
    from messenger.realtime.service import RealtimeService

    return RealtimeService(
        connections=DynamoConnections(),
        pusher=ApiGatewayPusher(),
        friends=friends_api(),
        connection_ttl=timedelta(seconds=get_settings().websocket_connection_ttl_seconds),
        revocations=auth_api(),  # every push skips (and closes) connections of revoked sessions
        **extra,
    )


def connection_service() -> RealtimeService:
    """$connect and $disconnect: sessions (the token), connections, presence pushes."""
    return _realtime(sessions=session_service())


def typing_service() -> RealtimeService:
    """`typing`: the chats context's sending rule, built on the first frame."""
    return _realtime(chats=_on_first_use(chats_api))


def connection_erasure() -> RealtimeService:
    """CloseConnectionsOnUserDeleted: a deleted user's connections (DynamoDB, @connections) and
    event stream (DynamoDB)."""
    return _realtime(stream=_stream())


def push_service() -> RealtimeService:
    """The chat/friendship event consumer: fan-out with a delivery log for retried events."""
    from messenger.platform import redis
    from messenger.realtime.adapters.deliveries import RedisDeliveryLog

    return _realtime(
        chats=_on_first_use(chats_api),
        deliveries=RedisDeliveryLog(redis.client),
        stream=_stream(),  # every frame's cursor (decision 46)
    )


def _stream() -> DynamoStream:
    from messenger.platform.settings import get_settings
    from messenger.realtime.adapters.stream import DynamoStream

    return DynamoStream(retention_seconds=get_settings().sync_retention_days * 86400)


def sync_service() -> SyncService:
    """GET /v1/sync: the caller's event stream (DynamoDB), nothing else; the table is bound on
    the first request (pynamodb imported at init, for SnapStart's snapshot)."""
    import messenger.realtime.adapters.stream  # noqa: F401
    from messenger.realtime.sync import SyncService

    return SyncService(_on_first_use(_stream))


# -- notifications -----------------------------------------------------------------------------


def devices_service() -> DevicesService:
    """POST/GET/DELETE /v1/devices: the device table (DynamoDB) and SNS, bound on first use
    (pynamodb and botocore imported at init, for SnapStart's snapshot)."""
    import messenger.notifications.adapters.devices
    import messenger.notifications.adapters.sns  # noqa: F401
    from messenger.notifications.service import DevicesService

    def build() -> DevicesService:
        from messenger.notifications.adapters.devices import DynamoDevices
        from messenger.notifications.adapters.sns import SnsEndpoints

        return DevicesService(DynamoDevices(), SnsEndpoints())

    built: DevicesService = _on_first_use(build)
    return built


def notifier_service() -> Notifier:
    """The message.sent notifier: devices, SNS, the chats context's title, unread totals and
    mutes, the users context's nicknames, the friends context's blocks."""
    from messenger.chats.adapters.notification_facts import MongoNotificationFacts
    from messenger.chats.api import ChatsApi
    from messenger.notifications.adapters.devices import DynamoDevices, DynamoSentLog
    from messenger.notifications.adapters.sns import SnsEndpoints, SnsPublisher
    from messenger.notifications.notifier import Notifier
    from messenger.notifications.service import DevicesService

    class Nicknames:
        def nickname_of(self, user: Any) -> str | None:
            profile = users_api().profiles_by_ids([user]).get(user)
            return profile.nickname if profile else None

    def build() -> Notifier:
        chats = ChatsApi(
            _chats_store(), friends=friends_api(), notification_source=MongoNotificationFacts()
        )

        class Mutes:
            def who_muted(self, chat_id: Any, among: set[Any]) -> set[Any]:
                return chats.muted_members(chat_id) & among

        return Notifier(
            devices=DevicesService(DynamoDevices(), SnsEndpoints()),
            chats=chats,
            nicknames=Nicknames(),
            log=DynamoSentLog(),
            publisher=SnsPublisher(),
            muted=Mutes(),
            blocking=friends_api(),
        )

    built: Notifier = _on_first_use(build)
    return built


@cache
def session_devices() -> SessionDevices:
    """Removing a session's devices (a "session ended" hook: every way a session ends). The
    store and SNS are bound on the first removal, inside its best-effort guard."""
    from messenger.notifications.api import SessionDevices

    def build() -> DevicesService:
        from messenger.notifications.adapters.devices import DynamoDevices
        from messenger.notifications.adapters.sns import SnsEndpoints
        from messenger.notifications.service import DevicesService

        return DevicesService(DynamoDevices(), SnsEndpoints())

    return SessionDevices(_on_first_use(build))


# -- users -------------------------------------------------------------------------------------


def users_service() -> UsersService:
    """Public profile reads (cached), search and profile creation: no Kafka client, and no
    auth context (its account models load email-validator's grammar, 28 ms of a cold start)."""
    from messenger.users.service import UsersService

    return UsersService(profiles=_profiles()[0])


def own_profile_service() -> UsersService:
    """GET /v1/users/me: the profile (cached) with the account's `email_verified`, read from
    the auth context on every call."""
    from messenger.users.service import UsersService

    return UsersService(profiles=_profiles()[0], verified_emails=_account_reads())


def profile_editing_service() -> UsersService:
    """Updates publish `user.profile_updated` through the outbox right after the commit.
    Avatars go through the media context, loaded (Mongo, S3) by the first call that uses one."""
    from messenger.platform.outbox import OutboxPublisher
    from messenger.users.service import UsersService

    return UsersService(
        profiles=_profiles()[0],
        outbox=OutboxPublisher(_kafka()),
        avatars=media_api(),
        verified_emails=_account_reads(),
    )


def account_deletion_service() -> AccountDeletionService:
    """DELETE /v1/users/me: the password check and the end of every session through the auth
    context's api (argon2, the throttle, the session store and the session-ended hooks, which
    close connections and remove devices, are loaded here, at init), the account and profile
    in one Postgres transaction with `user.deleted`."""
    import messenger.realtime.adapters.pusher
    import messenger.realtime.adapters.store  # noqa: F401
    from messenger.auth.adapters.credentials import PostgresAccountCredentials
    from messenger.platform.outbox import OutboxPublisher
    from messenger.users.deletion import AccountDeletionService

    auth = auth_api()
    password_service()  # its modules (argon2, the throttle) load now, not on the first request
    credentials = PostgresAccountCredentials(auth=auth, profiles=users_api())
    return AccountDeletionService(credentials=credentials, outbox=OutboxPublisher(_kafka()))


def profile_erasure_service() -> ErasureService:
    """ErasePersonalData (users): a deleted user's profile and cached copies."""
    from messenger.users.erasure import ErasureService

    cached, records = _profiles()
    return ErasureService(cache=cached, records=records)


def export_requests() -> ExportService:
    """POST /v1/users/me/exports: the request row and its event (Postgres outbox, Kafka)."""
    from messenger.platform.outbox import OutboxPublisher
    from messenger.users.adapters.exports import PostgresExports
    from messenger.users.exports import ExportService

    return ExportService(store=PostgresExports(), outbox=OutboxPublisher(_kafka()))


def export_status() -> ExportService:
    """GET /v1/users/me/exports/{id}: reads, and signs the archive's URL in-process."""
    import messenger.platform.postgres  # noqa: F401 - every call reads it
    from messenger.media.api import export_url
    from messenger.platform.publishing import NoOutbox
    from messenger.users.adapters.exports import PostgresExports
    from messenger.users.exports import ExportService

    return ExportService(store=PostgresExports(), outbox=NoOutbox(), sign=export_url)


def export_builder() -> ExportService:
    """BuildExportOnExportRequested: profiles, friends, chats (MongoDB) and the archive's
    object (S3), each through its context's api."""
    from messenger.platform.publishing import NoOutbox
    from messenger.users.adapters.exports import PostgresExports
    from messenger.users.exports import ExportService

    return ExportService(
        store=PostgresExports(),
        outbox=NoOutbox(),
        profiles=_profiles()[1],
        friends=friends_api(),
        chats=chats_api(),
        archives=media_api(),
    )


# -- media -------------------------------------------------------------------------------------


def _media(*, eager: bool = False, limited: bool = False) -> MediaService:
    """The media service: uploads in MongoDB, objects in S3 (`eager` makes the S3 client now,
    at init: in the SnapStart snapshot), download URLs signed in-process."""
    from datetime import timedelta

    from messenger.media.adapters.signer import configured_signer
    from messenger.media.adapters.storage import S3Storage
    from messenger.media.adapters.uploads import MongoUploads
    from messenger.media.service import MediaService
    from messenger.platform.settings import get_settings

    settings = get_settings()
    storage = S3Storage(settings.media_bucket, settings.s3_endpoint, settings.aws_region)
    if eager:
        _ = storage.client
    return MediaService(
        uploads=MongoUploads(),
        storage=storage,
        limiter=_limiter() if limited else None,
        signer=configured_signer(),
        avatars_base_url=settings.avatars_base_url,
        upload_window=timedelta(seconds=settings.upload_window_seconds),
    )


def upload_service() -> MediaService:
    """CreateUpload: its one use-case signs a POST with the S3 client, so the client is made at
    init; the rate limiter counts uploads per user."""
    return _media(eager=True, limited=True)


def media_service() -> MediaService:
    """RemoveMessageAttachments: deleting a message's objects (S3 client on the first event)."""
    return _media()


@cache
def _media_for_others() -> MediaService:
    return _media(eager=True)


@cache
def media_api() -> MediaApi:
    """Attachments (chats) and avatars (users): the media service, with its S3 client, is made
    by the first call that needs it, so a send without files never loads it."""
    from messenger.media.api import MediaApi

    return MediaApi(_on_first_use(_media_for_others))


# -- safety ------------------------------------------------------------------------------------


def reports_service() -> ReportsService:
    """FileReport: the report and its event through the Mongo outbox (Kafka client at init);
    the chat and message it names read through the chats context, a user through users."""
    from messenger.platform.mongo_outbox import MongoOutboxPublisher
    from messenger.safety.adapters.store import MongoReports
    from messenger.safety.service import ReportsService

    return ReportsService(
        store=MongoReports(),
        evidence=chats_api(),
        users=users_api(),
        outbox=MongoOutboxPublisher(_kafka()),
        limiter=_limiter(),
    )


# -- platform functions ------------------------------------------------------------------------


class CacheInvalidation(NamedTuple):
    users: UsersApi
    friends: FriendsApi
    chats: ChatsApi


def cache_invalidation() -> CacheInvalidation:
    """InvalidateCaches: the users', friends' and chats' caches, each built on its first event."""
    return CacheInvalidation(
        _on_first_use(users_api), _on_first_use(friends_api), _on_first_use(chats_api)
    )


def outbox_relays() -> dict[str, Callable[[], RelayReport]]:
    """OutboxRelay: every outbox, relayed through one Kafka client. The relay always tries the
    broker (no backoff): it is what recovers from an outage."""
    from functools import partial

    from messenger.platform import mongo_outbox, outbox
    from messenger.platform.kafka_publisher import KafkaPublisher

    publisher = KafkaPublisher(backoff=False)
    return {
        "postgres": partial(outbox.relay, publisher),
        "mongodb": partial(mongo_outbox.relay, publisher),
    }


def apply_mongo_indexes(mongodb_uri: str, database: str = "messenger") -> None:
    """MongoDB has no schema to migrate: each Mongo-backed context's indexes (and the Mongo
    outbox's), created idempotently. Run by MigrateDatabase, `make dev` and the tests."""
    from messenger.chats.adapters.store import ensure_indexes as chats_indexes
    from messenger.media.adapters.uploads import ensure_indexes as uploads_indexes
    from messenger.platform import migrate

    migrate.apply_mongo_indexes(mongodb_uri, database, [chats_indexes, uploads_indexes])
