"""Per-user rate limits (API.md "Per-user rate limits"): a port, its limits, its Redis adapter.

Each limit is a GCRA (generic cell rate algorithm, the virtual-scheduling form of a token bucket):
one Redis key per (limit, user) holds the "theoretical arrival time" of the next action; an action
is allowed while that time is at most `burst` emission intervals ahead of now. One EVALSHA per
check (redis-py's `Script` falls back to loading the script on NOSCRIPT), one key per command, so
it runs unchanged on ElastiCache Serverless (decision "No multi-key Redis commands"). The clock is
the Redis server's (`TIME`), so execution environments with skewed clocks share one schedule.

Redis down: the action is allowed (fail open) and a warning logged; a limiter must never be the
reason a user cannot send a message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from messenger.kernel.errors import RateLimited

if TYPE_CHECKING:
    from redis.commands.core import Script

    from messenger.platform.redis import RedisClient
    from messenger.platform.settings import Settings

LimitName = Literal["send_message", "create_chat", "friend_request", "upload", "report"]

SEND_MESSAGE: LimitName = "send_message"
CREATE_CHAT: LimitName = "create_chat"
FRIEND_REQUEST: LimitName = "friend_request"
UPLOAD: LimitName = "upload"
REPORT: LimitName = "report"


@dataclass(frozen=True)
class Limit:
    """`rate` actions per `period_seconds` sustained, up to `burst` of them at once."""

    rate: int
    period_seconds: int
    burst: int
    detail: str

    @property
    def interval_ms(self) -> int:
        """Time one action "costs" (the emission interval), in milliseconds (at least 1)."""
        return max(1, round(self.period_seconds * 1000 / self.rate))


class RateLimiter(Protocol):
    def acquire(self, name: LimitName, subject: str) -> None:
        """Count one action of `subject` against the limit `name`; raise RateLimited (with the
        seconds until the action would be allowed) when it is over the limit."""


def configured_limits(settings: Settings) -> dict[LimitName, Limit]:
    """The limits as the settings define them (every one a setting, API.md defaults)."""
    return {
        SEND_MESSAGE: Limit(
            settings.rate_limit_send_message_per_second,
            1,
            settings.rate_limit_send_message_burst,
            "Too many messages; slow down",
        ),
        CREATE_CHAT: Limit(
            settings.rate_limit_create_chat_per_minute,
            60,
            settings.rate_limit_create_chat_per_minute,
            "Too many chats created; try again later",
        ),
        FRIEND_REQUEST: Limit(
            settings.rate_limit_friend_request_per_hour,
            3600,
            settings.rate_limit_friend_request_per_hour,
            "Too many friend requests; try again later",
        ),
        UPLOAD: Limit(
            settings.rate_limit_upload_per_minute,
            60,
            settings.rate_limit_upload_per_minute,
            "Too many uploads; try again later",
        ),
        REPORT: Limit(
            settings.rate_limit_report_per_hour,
            3600,
            settings.rate_limit_report_per_hour,
            "Too many reports; try again later",
        ),
    }


# KEYS[1]: the (limit, subject) key. ARGV[1]: emission interval, ARGV[2]: burst, in ms / actions.
# Returns 0 when the action is allowed (and recorded), else the milliseconds to wait.
# Milliseconds keep every number below 2^53 and within Lua's 14-digit number formatting.
GCRA_LUA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
  tat = now
end
local next_tat = tat + interval
local wait = next_tat - now - tolerance
if wait > 0 then
  return wait
end
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', next_tat - now)
return 0
"""


def limit_key(name: LimitName, subject: str) -> str:
    return f"ratelimit:{name}:{subject}"


def retry_after_seconds(wait_ms: int) -> int:
    """Retry-After is whole seconds, rounded up (never 0: RateLimited keeps it at least 1)."""
    return max(1, math.ceil(wait_ms / 1000))


class RedisRateLimiter:
    """The adapter: one EVALSHA per `acquire`, on the execution environment's Redis client.

    The driver is imported on first use, so the use-cases that import this module for the port
    load no Redis code through it."""

    def __init__(self, limits: Mapping[LimitName, Limit], redis: RedisClient) -> None:
        self.limits = dict(limits)
        self.redis = redis
        self._script: Script | None = None

    def _gcra(self) -> Script:
        if self._script is None:
            self._script = self.redis().register_script(GCRA_LUA)
        return self._script

    def wait_ms(self, name: LimitName, subject: str) -> int:
        """Record one action if allowed (0), else the milliseconds until it would be; fails
        open (0) when Redis cannot be reached."""
        from messenger.platform.redis import REDIS_DOWN

        limit = self.limits[name]
        try:
            key = limit_key(name, subject)
            wait = self._gcra()(keys=[key], args=[limit.interval_ms, limit.burst])
        except REDIS_DOWN:
            from messenger.platform.observability import logger

            logger.warning("rate limiter unavailable: allowing the action", extra={"limit": name})
            return 0
        return int(wait)

    def acquire(self, name: LimitName, subject: str) -> None:
        wait = self.wait_ms(name, subject)
        if wait > 0:
            raise RateLimited(self.limits[name].detail, retry_after_seconds(wait))
