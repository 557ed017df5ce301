"""LocalServices: given URLs win; what it starts dies with it, even when it is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from messenger_local.services import LocalServices

from .conftest import wait_for

pytestmark = pytest.mark.integration


def test_given_urls_are_used_as_is(tmp_path: Path) -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": "broker:9092", "MONGODB_URI": "mongodb://db:27017"}
    with LocalServices(state_dir=tmp_path, env=env, services=["kafka", "mongodb"]) as services:
        assert services.env() == env
        assert services.processes == []


CHILD = """
import sys, time
from messenger_local.services import LocalServices
s = LocalServices(state_dir=sys.argv[1], env={}, services=["kafka"]).start()
print(s.processes[0].process.pid, flush=True)
time.sleep(60)
"""


def test_started_servers_die_with_their_parent(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        broker_pid = int(child.stdout.readline())
        os.kill(broker_pid, 0)  # running
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()

    def gone() -> bool:
        try:
            os.kill(broker_pid, 0)
        except ProcessLookupError:
            return True
        # A zombie is dead too (reaped by init soon).
        return Path(f"/proc/{broker_pid}/stat").read_text().split()[2] == "Z"

    wait_for(gone, timeout=10, what="the broker to die with its parent")
