"""The auth context's public operations, for other contexts (realtime: revoked sessions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from messenger.platform.observability import logger
from messenger.platform.redis import REDIS_DOWN

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


class Revocations(Protocol):
    def known_revoked(self, token_hashes: Sequence[bytes]) -> set[bytes]:
        """Those with a revocation tombstone in the cache (raises REDIS_DOWN errors)."""


@dataclass(frozen=True)
class AuthApi:
    sessions: Revocations

    def known_revoked(self, session_ids: Iterable[str]) -> set[str]:
        """Those of these sessions (ids as `SessionService.identify` gives them) known revoked.

        One pipelined Redis round trip over the logout tombstones, for the push path. Best
        effort: the guarantee is that logout closes the session's connections and `$connect`
        refuses one registered in the race; with Redis down this answers "none" rather than
        stopping pushes.
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
            revoked = self.sessions.known_revoked(list(by_hash))
        except REDIS_DOWN as exc:
            logger.warning("Session revocations unavailable", extra={"error": repr(exc)})
            return set()
        return {by_hash[h] for h in revoked}
