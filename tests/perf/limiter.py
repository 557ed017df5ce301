"""What the rate limit check adds to a request: `python -m tests.perf.limiter [redis-url]`.

Times, on one connection, a plain GET (the floor of any Redis round trip), the limiter's
EVALSHA when allowed, and when refused, each on its own key (unique per run, expiring).
"""

from __future__ import annotations

import sys
import time
import uuid

import redis

from messenger.platform.ratelimit import SEND_MESSAGE, Limit, RedisRateLimiter


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(url: str = "redis://127.0.0.1:6379/13", n: int = 5000) -> None:
    client = redis.Redis.from_url(url, decode_responses=True)
    tag = uuid.uuid4().hex[:8]
    open_limit = RedisRateLimiter(
        {SEND_MESSAGE: Limit(100_000, 1, 100_000, "")}, redis=lambda: client
    )
    tight = RedisRateLimiter({SEND_MESSAGE: Limit(1, 3600, 1, "")}, redis=lambda: client)
    client.set(f"perf:{tag}:get", "x", ex=60)
    tight.wait_ms(SEND_MESSAGE, f"perf-{tag}-tight")  # use the one allowed action up

    def timed(call: object) -> list[float]:
        assert callable(call)
        for _ in range(200):  # warm: connection, script cache
            call()
        samples = []
        for _ in range(n):
            start = time.perf_counter()
            call()
            samples.append((time.perf_counter() - start) * 1e6)
        return samples

    rows = {
        "GET (floor)": timed(lambda: client.get(f"perf:{tag}:get")),
        "limiter, allowed": timed(lambda: open_limit.wait_ms(SEND_MESSAGE, f"perf-{tag}")),
        "limiter, refused": timed(lambda: tight.wait_ms(SEND_MESSAGE, f"perf-{tag}-tight")),
    }
    print(f"{'call':<18} {'p50 us':>8} {'p90 us':>8} {'p99 us':>8}   (n={n})")
    for name, samples in rows.items():
        p50, p90, p99 = (_p(samples, q) for q in (0.5, 0.9, 0.99))
        print(f"{name:<18} {p50:8.0f} {p90:8.0f} {p99:8.0f}")
    for key in (f"perf:{tag}:get", f"ratelimit:send_message:perf-{tag}"):
        client.delete(key)
    client.delete(f"ratelimit:send_message:perf-{tag}-tight")


if __name__ == "__main__":
    main(*sys.argv[1:2])
