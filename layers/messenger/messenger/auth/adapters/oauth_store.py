"""Pending OAuth sign-ins in Redis: one key per state, expiring with it, taken at most once.

The key holds the SHA-256 of the state (like session tokens, the state is a bearer secret until
used); `take` reads and deletes in one MULTI/EXEC, so two callbacks with the same state cannot
both get it (a replayed state finds nothing).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from messenger.auth.oauth import PendingSignIn

if TYPE_CHECKING:
    from messenger.platform.redis import RedisClient


def _key(state: str) -> str:
    return f"oauth-state:{hashlib.sha256(state.encode()).hexdigest()}"


class RedisPendingSignIns:
    def __init__(self, ttl_seconds: int, redis: RedisClient) -> None:
        self.ttl_seconds = ttl_seconds
        self.redis = redis

    def put(self, state: str, pending: PendingSignIn) -> None:
        value = json.dumps(
            {
                "provider": pending.provider,
                "redirect_uri": pending.redirect_uri,
                "code_verifier": pending.code_verifier,
                "nonce": pending.nonce,
            }
        )
        self.redis().set(_key(state), value, ex=self.ttl_seconds)

    def take(self, state: str) -> PendingSignIn | None:
        pipe = self.redis().pipeline(transaction=True)
        pipe.get(_key(state))
        pipe.delete(_key(state))
        value, _deleted = pipe.execute()
        if not value:
            return None
        data = json.loads(value)
        return PendingSignIn(
            provider=data["provider"],
            redirect_uri=data["redirect_uri"],
            code_verifier=data["code_verifier"],
            nonce=data["nonce"],
        )
