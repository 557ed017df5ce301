"""Floors interleaved with their function's calls (decision 57).

A floor measured in a run of its own, back to back, sees a machine the function never sees: hot
caches, no gateway or authorizer between two samples, and the stand-ins as they were at that
moment of the run (they slow as they fill). So the bench runs a floor's process beside the row:
before each sample the floor waits for the bench's word, which it sends right after the
function's call. Sample i of the floor and call i of the function then meet the same machine,
and drift over a long run moves both sides alike.

The floor's side is `timed` (every floor measures through it); the bench's side is `Paced`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Samples = list[float]
FloorJob = tuple[str, int, dict[str, Any]]  # the floor's method, its n, its arguments


_stepped = False  # this process's floors wait for the bench's word before each sample


def step_by_step() -> None:
    """This process's floors take one sample per word from the bench (`Paced.step`)."""
    global _stepped
    _stepped = True


def timed(n: int, call: Callable[[int], object]) -> Samples:
    """`call(i)` for i in range(n), timed, in step with the bench when it paces this process."""
    samples = []
    if _stepped:
        print("ready", flush=True)  # the setup is done: the bench may start the row
    for i in range(n):
        if _stepped and not sys.stdin.readline():
            raise SystemExit("the bench went away")
        start = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - start) * 1000)
        if _stepped:
            print(samples[-1], flush=True)
    return samples


class Paced:
    """A floor job in a process of its own, one sample per `step()`."""

    def __init__(self, job: FloorJob, env: dict[str, str], child_env: dict[str, str], cwd: Path):
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed with the process)
        self.samples: Samples = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.perf.floors", "--paced"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=cwd,
            env=child_env,
        )
        self._send(json.dumps({"env": env, "jobs": [job]}))
        if self._read() != "ready":  # the floor's setup (not timed) must not overlap the row
            raise self._failed()

    def _read(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def _send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def _failed(self) -> RuntimeError:
        self.process.kill()
        self.process.wait()
        self._stderr.seek(0)
        return RuntimeError(f"the floor failed: {self._stderr.read()[-3000:]}")

    def step(self) -> None:
        """The floor's next sample, taken now (its setup was done before `ready`)."""
        try:
            self._send("")
        except BrokenPipeError:
            raise self._failed() from None
        line = self._read()
        if not line:
            raise self._failed()
        self.samples.append(float(line))

    def close(self) -> Samples:
        """Every sample taken; the process is gone."""
        assert self.process.stdin is not None
        self.process.stdin.close()  # the floor's loop is done: it exits
        self.process.wait(timeout=120)
        self._stderr.close()
        return self.samples

    def __enter__(self) -> Paced:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None and self.process.poll() is None:
            self.close()
            return
        self.process.kill()  # the row failed (or the floor did): nothing more to take
        self.process.wait()
        self._stderr.close()
