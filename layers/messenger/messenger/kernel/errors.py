"""Domain errors. They carry a stable machine-readable `code`; messenger.web.http maps them to HTTP.

The domain never speaks HTTP: each family below is one kind of refusal, and the single table in
messenger.web.http decides its status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class DomainError(Exception):
    """A refusal the client can act on."""

    title = "Request refused"

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra


class InvalidInput(DomainError):
    title = "Validation failed"


class BadRequest(DomainError):
    """The request cannot be honoured as sent (e.g. a sign-in state that is stale or used)."""

    title = "Bad request"


class Unauthenticated(DomainError):
    title = "Unauthorized"


class Forbidden(DomainError):
    title = "Forbidden"


class NotFound(DomainError):
    title = "Not found"


class Conflict(DomainError):
    title = "Conflict"


class Gone(DomainError):
    """What was asked for existed but is no longer kept (e.g. a sync cursor past retention)."""

    title = "Gone"


class RateLimited(DomainError):
    title = "Too many requests"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__("rate_limited", detail)
        self.retry_after_seconds = max(1, retry_after_seconds)


class Unavailable(DomainError):
    """A backing service is down: the request changed nothing and may be retried."""

    title = "Service unavailable"

    def __init__(self, detail: str = "A backing service is unavailable; retry shortly") -> None:
        super().__init__("unavailable", detail)


# Exception classes of drivers that mean "the service is unreachable". Each adapter module
# registers its driver's classes, so that the HTTP layer maps them to 503 without importing
# every driver into every function.
_UNAVAILABLE: list[type[BaseException]] = []
# Some drivers say "timed out" with a flag rather than a class (pymongo's client-side timeouts).
_UNAVAILABLE_CHECKS: list[Callable[[BaseException], bool]] = []


def register_unavailable(*exception_types: type[BaseException]) -> None:
    for exception_type in exception_types:
        if exception_type not in _UNAVAILABLE:
            _UNAVAILABLE.append(exception_type)


def register_unavailable_check(check: Callable[[BaseException], bool]) -> None:
    if check not in _UNAVAILABLE_CHECKS:
        _UNAVAILABLE_CHECKS.append(check)


def is_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, (Unavailable, *_UNAVAILABLE)) or any(
        check(exc) for check in _UNAVAILABLE_CHECKS
    )
