"""WebSocket clients for the push-latency rows, in a process of their own.

The bench's process hosts the local gateway (its event loop, its invocation threads): clients
that are threads of that process hold its GIL each time a frame arrives, so at 50 clients the
gateway waited on its own listeners before sending the next frame, which no deployed gateway
does (its clients are phones). Here one asyncio loop holds every connection and prints each
`message.sent` frame's content with CLOCK_MONOTONIC's time, which the parent's clock shares.

Protocol (stdin/stdout, one JSON line each): the parent writes the list of URLs; the child
connects them all and prints "ready"; then one line per frame, [content, monotonic seconds];
the parent closes stdin to end it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.support import ROOT


class Listeners:
    """The child process, seen from the bench: `on_frame(content, at)` per frame received."""

    def __init__(self, urls: list[str], on_frame: Callable[[str, float], None]) -> None:
        self._child = subprocess.Popen(
            [sys.executable, "-m", "tests.perf.listeners"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self._child.stdin
        assert self._child.stdout
        self._child.stdin.write(json.dumps(urls) + "\n")
        self._child.stdin.flush()
        if self._child.stdout.readline().strip() != "ready":
            self.close()
            raise RuntimeError("the WebSocket listeners did not connect")
        self._reader = threading.Thread(target=self._read, args=(on_frame,), daemon=True)
        self._reader.start()

    def _read(self, on_frame: Callable[[str, float], None]) -> None:
        assert self._child.stdout
        for line in self._child.stdout:
            content, at = json.loads(line)
            on_frame(content, at)

    def close(self) -> None:
        if self._child.stdin:
            self._child.stdin.close()
        try:
            self._child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()


async def _listen(urls: list[str]) -> None:
    from websockets.asyncio.client import connect

    out = sys.stdout

    async def one(ws: Any) -> None:
        try:
            async for raw in ws:
                at = time.monotonic()
                frame = json.loads(raw)
                if frame.get("type") == "message.sent":
                    out.write(json.dumps([frame["data"]["content"], at]) + "\n")
                    out.flush()
        except Exception:  # closed at the end
            return

    sockets = [await connect(url, max_queue=None) for url in urls]
    tasks = [asyncio.create_task(one(ws)) for ws in sockets]
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until closed
    for ws in sockets:
        await ws.close()
    await asyncio.gather(*tasks)


def main() -> None:
    asyncio.run(_listen(json.loads(sys.stdin.readline())))


if __name__ == "__main__":
    main()
