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
    from collections.abc import Callable

    from messenger.auth.adapters.oidc import IdTokenVerifier, OpenIDConnect
    from messenger.auth.adapters.session_store import CachedSessions
    from messenger.auth.api import AuthApi
    from messenger.auth.oauth import OAuthCallbackService, OAuthStartService
    from messenger.auth.service import LoginService, RegistrationService
    from messenger.auth.session import SessionService
    from messenger.chats.adapters.store import CachedChats
    from messenger.chats.api import ChatsApi
    from messenger.chats.service import ChatsService, EventOutbox, FriendDirectory
    from messenger.friends.adapters.store import CachedFriendships
    from messenger.friends.api import FriendsApi
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
    from messenger.users.adapters.profile_cache import CachedProfiles
    from messenger.users.adapters.profiles import PostgresProfiles
    from messenger.users.api import UsersApi
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
    """Revoked sessions, for the push path: the session store is built on the first push."""
    from messenger.auth.api import AuthApi

    return AuthApi(_on_first_use(_sessions))


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

    return SessionService(
        sessions=_sessions(),
        session_ttl=timedelta(seconds=get_settings().session_ttl_seconds),
    )


def logout_service() -> SessionService:
    """Sessions, plus the realtime context's operation that closes their connections and the
    notifications context's that removes their devices. Every logout writes Postgres, closes
    connections and removes devices (boto3, pynamodb): loaded here, at init."""
    import messenger.notifications.adapters.devices
    import messenger.notifications.adapters.sns
    import messenger.platform.postgres
    import messenger.realtime.adapters.pusher
    import messenger.realtime.adapters.store  # noqa: F401

    service = session_service()
    service.connections = _on_first_use(session_connections)
    service.devices = session_devices()
    return service


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
    from messenger.auth.adapters.throttle import RedisLoginThrottle
    from messenger.auth.service import LoginService
    from messenger.platform import redis
    from messenger.platform.settings import get_settings

    settings = get_settings()
    return LoginService(
        accounts=PostgresAccounts(),
        sessions=session_service(),
        throttle=RedisLoginThrottle(
            settings.login_max_failures,
            settings.login_max_failures_per_email,
            settings.login_failure_window_seconds,
            redis.client,
        ),
        passwords=Argon2Passwords(),
    )


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
    (pynamodb and boto3 imported at init, for SnapStart's snapshot)."""
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
    """The message.sent notifier: devices, SNS, the chats context's title and unread totals, the
    users context's nicknames; mutes and blocks answer "nobody" until those contexts have them
    (at merge: ChatsApi.muted_members, FriendsApi.who_blocked)."""
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
        return Notifier(
            devices=DevicesService(DynamoDevices(), SnsEndpoints()),
            chats=chats,
            nicknames=Nicknames(),
            log=DynamoSentLog(),
            publisher=SnsPublisher(),
        )

    built: Notifier = _on_first_use(build)
    return built


@cache
def session_devices() -> SessionDevices:
    """Removing a session's devices (logout; at merge every "session ended" hook). The store and
    SNS are bound on the first removal, inside its best-effort guard."""
    from messenger.notifications.api import SessionDevices

    def build() -> DevicesService:
        from messenger.notifications.adapters.devices import DynamoDevices
        from messenger.notifications.adapters.sns import SnsEndpoints
        from messenger.notifications.service import DevicesService

        return DevicesService(DynamoDevices(), SnsEndpoints())

    return SessionDevices(_on_first_use(build))


# -- users -------------------------------------------------------------------------------------


def users_service() -> UsersService:
    """Reads (cached) and profile creation: no Kafka client."""
    from messenger.users.service import UsersService

    return UsersService(profiles=_profiles()[0])


def profile_editing_service() -> UsersService:
    """Updates publish `user.profile_updated` through the outbox right after the commit.
    Avatars go through the media context, loaded (Mongo, S3) by the first call that uses one."""
    from messenger.platform.outbox import OutboxPublisher
    from messenger.users.service import UsersService

    return UsersService(
        profiles=_profiles()[0], outbox=OutboxPublisher(_kafka()), avatars=media_api()
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


# -- platform functions ------------------------------------------------------------------------


class CacheInvalidation(NamedTuple):
    users: UsersApi
    friends: FriendsApi


def cache_invalidation() -> CacheInvalidation:
    """InvalidateCaches: the users' and friends' caches, each built on its first event."""
    return CacheInvalidation(_on_first_use(users_api), _on_first_use(friends_api))


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
