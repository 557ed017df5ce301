"""What a use-case knows of the request that runs it: who asks, under which correlation id, and
until when. Built once per request by the entrypoint (messenger.web.http.request_context), so
no use-case reads a Lambda event, an authorizer context or the logger's state.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass

from messenger.kernel.errors import Unauthenticated


@dataclass(frozen=True)
class RequestContext:
    user_id: uuid.UUID | None = None
    """The authenticated user (the authorizer's, never the request's); None on open routes."""
    correlation_id: str | None = None
    """Stamped on every event the request causes (the `correlation_id` record header)."""
    deadline: float | None = None
    """When the invocation must have answered, as a time.monotonic() value; None: no limit."""
    session_id: str | None = None
    """The caller's session as other contexts name it (not a credential); None on open routes."""

    @property
    def caller(self) -> uuid.UUID:
        """The authenticated user; a use-case that needs one refuses an anonymous request."""
        if self.user_id is None:
            raise Unauthenticated("unauthorized", "No authenticated caller")
        return self.user_id

    def seconds_left(self) -> float:
        """Time left before the deadline (0 once past it; infinite without one)."""
        if self.deadline is None:
            return math.inf
        return max(0.0, self.deadline - time.monotonic())
