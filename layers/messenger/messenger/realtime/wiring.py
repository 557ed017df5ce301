"""Composition root of the realtime context (each function calls its factory at module scope)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from messenger.platform.settings import get_settings
from messenger.realtime.service import RealtimeService

if TYPE_CHECKING:
    import uuid


class _LazyChats:
    """messenger.chats.queries, imported on first use (the chats context owns it)."""

    def participants_of(self, chat_id: uuid.UUID) -> list[uuid.UUID] | None:
        from messenger.chats import queries  # type: ignore[attr-defined,unused-ignore]

        result: list[uuid.UUID] | None = queries.participants_of(chat_id)
        return result

    def participants_if_may_send(
        self, chat_id: uuid.UUID, user: uuid.UUID
    ) -> list[uuid.UUID] | None:
        from messenger.chats import queries  # type: ignore[attr-defined,unused-ignore]

        result: list[uuid.UUID] | None = queries.participants_if_may_send(chat_id, user)
        return result


def _service(**extra: Any) -> RealtimeService:
    from messenger.auth import queries as auth
    from messenger.friends import queries as friends
    from messenger.realtime.adapters.pusher import ApiGatewayPusher
    from messenger.realtime.adapters.store import DynamoConnections

    return RealtimeService(
        connections=DynamoConnections(),
        pusher=ApiGatewayPusher(),
        friends=friends,
        connection_ttl=timedelta(seconds=get_settings().websocket_connection_ttl_seconds),
        revocations=auth,  # every push skips (and closes) connections of revoked sessions
        **extra,
    )


def connection_service() -> RealtimeService:
    """$connect and $disconnect: sessions (the token), connections, presence pushes."""
    from messenger.auth.wiring import session_service

    return _service(sessions=session_service())


def closing_service() -> RealtimeService:
    """Closing a session's connections (messenger.realtime.api, for auth's logout)."""
    return _service()


def typing_service() -> RealtimeService:
    return _service(chats=_LazyChats())


def push_service() -> RealtimeService:
    """The chat/friendship event consumer: fan-out with a delivery log for retried events."""
    from messenger.realtime.adapters.deliveries import RedisDeliveryLog

    return _service(chats=_LazyChats(), deliveries=RedisDeliveryLog())
