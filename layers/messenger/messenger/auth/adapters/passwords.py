"""argon2id password hashing at OWASP's floor (m=19 MiB, t=2, p=1) via argon2-cffi."""

from __future__ import annotations

from functools import cached_property

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# A hash of nothing anyone knows, made once with the default parameters, so that a cold
# start's first login for an unknown account verifies one hash instead of making one first.
_DEFAULT_DECOY_HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$RbPbaLKPBj26Ys0HhT+MyQ"
    "$ZwCkOZvlCWsNq9jwFwga4q2Qs+EnVEPByg40PvrMQgw"
)


class Argon2Passwords:
    def __init__(self, time_cost: int = 2, memory_cost_kib: int = 19 * 1024, parallelism: int = 1):
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            type=Type.ID,
        )

    def hash(self, password: str) -> str:
        return str(self._hasher.hash(password))

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return bool(self._hasher.check_needs_rehash(password_hash))

    @cached_property
    def _decoy_hash(self) -> str:
        """A hash with this hasher's parameters, so a decoy verify costs what a real one does."""
        if not self._hasher.check_needs_rehash(_DEFAULT_DECOY_HASH):
            return _DEFAULT_DECOY_HASH
        return self.hash("decoy password for unknown accounts")

    def waste_time(self, password: str) -> None:
        self.verify(self._decoy_hash, password)
