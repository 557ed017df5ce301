"""The auth context's public queries, for other contexts (realtime: revoked sessions)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import redis as redis_driver

from messenger.platform.observability import logger

if TYPE_CHECKING:
    from collections.abc import Iterable

    from messenger.auth.adapters.session_store import CachedSessions

_REDIS_DOWN = (redis_driver.exceptions.ConnectionError, redis_driver.exceptions.TimeoutError)


@cache
def _sessions() -> CachedSessions:
    from datetime import timedelta

    from messenger.auth.adapters.session_store import CachedSessions
    from messenger.platform.settings import get_settings

    return CachedSessions(timedelta(seconds=get_settings().session_cache_ttl_seconds))


def known_revoked(session_ids: Iterable[str]) -> set[str]:
    """Those of these sessions (ids as `SessionService.identify` gives them) known revoked.

    One pipelined Redis round trip over the logout tombstones, for the push path. Best effort:
    the guarantee is that logout closes the session's connections and `$connect` refuses one
    registered in the race; with Redis down this answers "none" rather than stopping pushes.
    """
    by_hash: dict[bytes, str] = {}
    for sid in session_ids:
        try:
            by_hash[bytes.fromhex(sid)] = sid
        except ValueError:
            continue
    if not by_hash:
        return set()
    try:
        revoked = _sessions().known_revoked(list(by_hash))
    except _REDIS_DOWN as exc:
        logger.warning("Session revocations unavailable", extra={"error": repr(exc)})
        return set()
    return {by_hash[h] for h in revoked}
