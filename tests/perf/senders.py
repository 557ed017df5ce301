"""Concurrent senders for the throughput runs, each a process of its own, released together.

The SendMessage throughput through the gateway and its floor run on this one harness, so that
neither side's clients share a process, and so a GIL, with anything else: the HTTP senders used
to be threads of the bench's process, which also hosts the local gateway's event loop and its
invocation threads, and the gateway's share of the CPU was then spent waiting on its own clients.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from tests.support import ROOT

WARM_SENDS = 10  # per sender, all senders at once, before the measured run


def released_together(module: list[str], specs: list[dict[str, Any]], env: dict[str, str]) -> float:
    """Start one `python -m <module>` per spec; each reads its spec, prepares (one warm-up
    send) and answers "ready"; then all are told "warm" and make WARM_SENDS sends at once, as
    many at a time as the run will (locally, the gateway starts a worker per concurrent call:
    a worker started during the run spent a second of CPU on its init there) and answer
    "warm"; then all are told "go" and each answers its [start, end] wall times. Returns the
    span from the first start to the last end, in seconds."""
    children = [
        subprocess.Popen(
            [sys.executable, "-m", *module],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        for _ in specs
    ]
    try:
        for child, spec in zip(children, specs, strict=True):
            assert child.stdin is not None
            child.stdin.write(json.dumps(spec) + "\n")
            child.stdin.flush()
        for expected, command in (("ready", "warm"), ("warm", "go")):
            for child in children:
                assert child.stdout is not None
                if child.stdout.readline().strip() != expected:
                    raise RuntimeError(f"a sender ({' '.join(module)}) did not get {expected}")
            for child in children:
                assert child.stdin is not None
                child.stdin.write(command + "\n")
                child.stdin.flush()
        spans = []
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline()
            if not line:
                raise RuntimeError(f"a sender ({' '.join(module)}) failed")
            spans.append(json.loads(line))
            child.wait(timeout=120)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    return float(max(end for _, end in spans) - min(start for start, _ in spans))


def _http_sender() -> None:
    """POST `n` messages to one chat through the gateway, one after another."""
    import httpx

    spec = json.loads(sys.stdin.readline())
    with httpx.Client(base_url=spec["base_url"], headers=spec["headers"], timeout=30) as api:
        api.post(spec["path"], json={"content": "warm"}).raise_for_status()
        print("ready", flush=True)
        sys.stdin.readline()
        for i in range(WARM_SENDS):
            api.post(spec["path"], json={"content": f"w{i}"}).raise_for_status()
        print("warm", flush=True)
        sys.stdin.readline()
        start = time.time()
        for i in range(spec["n"]):
            api.post(spec["path"], json={"content": f"t{i}"}).raise_for_status()
        print(json.dumps([start, time.time()]), flush=True)


if __name__ == "__main__":
    _http_sender()
