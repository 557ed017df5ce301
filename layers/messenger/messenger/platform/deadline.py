"""The invocation's deadline: set once by the entrypoint, read by every adapter.

Lambda kills an invocation at its Timeout ("Task timed out", a 500 to the caller, and possibly a
half-done change). So the entrypoint (the HTTP resolver, the authorizer, `$connect`, ...) opens
`invocation(context)`, which sets the deadline a margin before Lambda's
(`context.get_remaining_time_in_millis()`), and each adapter bounds what it waits for with
`seconds_left(cap)`: a hung backing service ends as an `Unavailable` (503) with time to answer.

Drivers whose timeouts are per-call settings read `seconds_left` directly (Kafka, the Postgres
connect). Drivers with a scoped timeout (pymongo's `pymongo.timeout`, which also bounds its
retries and `with_transaction`'s loop) register a scope: it is entered for the whole invocation,
also when the driver's module is first imported in the middle of one.

Outside an invocation (scripts, tests calling a store directly) there is no deadline and every
adapter keeps its own cap.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from typing import Any

from messenger.kernel.errors import Unavailable, register_unavailable

MARGIN_SECONDS = 1.0
"""Time kept back from Lambda's own deadline to answer 503 and flush logs and metrics."""

MIN_CALL_SECONDS = 0.05
"""Below this a call cannot usefully start; it fails at once instead."""


class DeadlineExceeded(Unavailable):
    """The invocation has no time left for another call to a backing service."""

    def __init__(self) -> None:
        super().__init__("A backing service did not answer in time; nothing was changed, retry")


register_unavailable(DeadlineExceeded)

Scope = Callable[[float], AbstractContextManager[Any]]

_scopes: dict[str, Scope] = {}
_deadline: float | None = None  # time.monotonic() value
_stack: ExitStack | None = None
_owner: int | None = None  # the thread that opened the invocation (scopes use its context)


def seconds_left(cap: float | None = None) -> float:
    """How long the next call may wait: at most `cap`, never past the deadline.

    Raises DeadlineExceeded when (almost) nothing is left, so no call starts that cannot finish.
    """
    if _deadline is None:
        return math.inf if cap is None else cap
    left = _deadline - time.monotonic()
    if left < MIN_CALL_SECONDS:
        raise DeadlineExceeded()
    return left if cap is None else min(cap, left)


def seconds_left_or_zero() -> float:
    """The time left (0 when past the deadline, infinite outside an invocation)."""
    if _deadline is None:
        return math.inf
    return max(0.0, _deadline - time.monotonic())


def require(seconds: float) -> None:
    """Refuse to start a call that may last `seconds` but would outlive the deadline (for
    drivers whose timeouts are fixed when their client is made: botocore, pynamodb)."""
    if _deadline is not None and _deadline - time.monotonic() < seconds:
        raise DeadlineExceeded()


def active() -> bool:
    return _deadline is not None


def current() -> float | None:
    """The invocation's deadline as a time.monotonic() value (None outside an invocation)."""
    return _deadline


def has_time(seconds: float = MIN_CALL_SECONDS) -> bool:
    """Whether another call of about `seconds` fits (always, outside an invocation)."""
    return _deadline is None or _deadline - time.monotonic() >= seconds


def register_scope(name: str, scope: Scope) -> None:
    """`scope(seconds)` is entered for every invocation (and at once if one is running)."""
    _scopes[name] = scope
    if _stack is not None and _owner == threading.get_ident():
        with contextlib.suppress(DeadlineExceeded):
            _stack.enter_context(scope(seconds_left()))


def _remaining_seconds(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return float(remaining()) / 1000


@contextlib.contextmanager
def invocation(context: Any, margin: float = MARGIN_SECONDS) -> Iterator[None]:
    """The deadline of one invocation: Lambda's minus `margin` (none without a Lambda context)."""
    global _deadline, _stack, _owner
    remaining = _remaining_seconds(context)
    if remaining is None or _deadline is not None:  # no context, or nested: keep the outer one
        yield
        return
    budget = max(remaining - margin, MIN_CALL_SECONDS)
    _deadline = time.monotonic() + budget
    _owner = threading.get_ident()
    try:
        with ExitStack() as stack:
            _stack = stack
            for scope in list(_scopes.values()):
                stack.enter_context(scope(budget))
            yield
    finally:
        _deadline = _stack = _owner = None


def bounded(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Decorator for a Lambda handler that does not go through the HTTP resolver."""

    def wrapper(event: Any, context: Any) -> Any:
        with invocation(context):
            return handler(event, context)

    wrapper.__name__ = getattr(handler, "__name__", "handler")
    wrapper.__doc__ = handler.__doc__
    return wrapper
