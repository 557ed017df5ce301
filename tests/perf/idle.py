"""`make idle`: CPU the local runtime burns with no traffic (the gateway and the broker).

Reads utime + stime of each process from /proc/<pid>/stat (every thread of the process) at the
start and end of a window and prints the share of one core beside the 5% floor. The bench calls
`report()` with its own in-process gateway; run standalone it starts the stack itself.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from messenger_local.services import LocalServices

IDLE_FLOOR_PERCENT = 5.0  # gateway + broker together, % of one core
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        stat = fh.read()
    # The command name (field 2) is in parentheses and may contain spaces: split after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / CLOCK_TICKS


@dataclass(frozen=True)
class IdleCpu:
    seconds: float
    percent: dict[str, float]  # process name -> % of one core over the window

    @property
    def total(self) -> float:
        return sum(self.percent.values())

    def row(self) -> str:
        parts = ", ".join(f"{name} {value:.1f}%" for name, value in self.percent.items())
        verdict = "ok" if self.total < IDLE_FLOOR_PERCENT else "OVER"
        return (
            f"Idle CPU over {self.seconds:.0f} s (% of one core): {parts}; total {self.total:.1f}%"
            f" (floor < {IDLE_FLOOR_PERCENT:.0f}%: {verdict})"
        )


def measure(pids: Mapping[str, int], seconds: float = 20.0) -> IdleCpu:
    """CPU share of each process over the next `seconds` (the caller stays idle meanwhile)."""
    start_wall = time.monotonic()
    start = {name: cpu_seconds(pid) for name, pid in pids.items()}
    time.sleep(seconds)  # the measurement window itself, not a wait for anything
    wall = time.monotonic() - start_wall
    percent = {name: (cpu_seconds(pid) - start[name]) / wall * 100 for name, pid in pids.items()}
    return IdleCpu(wall, percent)


def broker_pid(services: LocalServices) -> int:
    """The pid of the broker LocalServices started (tansu)."""
    for proc in services.processes:
        if proc.name == "kafka":
            return int(proc.process.pid)
    raise RuntimeError("the broker was not started by LocalServices (KAFKA_BOOTSTRAP_SERVERS set?)")


def report(
    services: LocalServices,
    seconds: float = 20.0,
    settle: float = 0.0,
    gateway_pid: int | None = None,
) -> str:
    """One row for `make bench`: the in-process gateway (this pid) plus the broker, idle.

    `settle`: seconds to let the tail of earlier traffic (disconnects, timers) pass first.
    """
    pids = {"gateway": gateway_pid or os.getpid(), "broker": broker_pid(services)}
    time.sleep(settle)  # a quiet period before the window, not a wait for a condition
    return measure(pids, seconds).row()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="measurement window")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds to settle first")
    args = parser.parse_args()

    from messenger_local.gateway import LocalGateway
    from messenger_local.services import LocalServices, drop_database
    from tests.support import ROOT

    state = ROOT / ".local" / "idle"
    with LocalServices(
        state_dir=state, services=("postgres", "redis", "kafka", "mongodb", "dynamodb")
    ) as services:
        from messenger.bootstrap import apply_mongo_indexes
        from messenger.platform.migrate import apply_migrations

        database_url = services.create_database("idle")
        try:
            apply_migrations(database_url)
            apply_mongo_indexes(services.mongodb_uri)
            env = {**services.env(), "DATABASE_URL": database_url}
            with LocalGateway(
                ROOT / "template.yaml",
                env={**env, "POWERTOOLS_LOG_LEVEL": "WARNING"},
                port=0,
                ws_port=0,
                state_dir=state,
                function_log_dir=state / "logs",
            ) as gateway:
                assert gateway.kafka is not None
                if not gateway.kafka.wait_assigned(60):
                    raise RuntimeError("the MSK pollers never got their partitions")
                print(report(services, args.seconds, settle=args.settle), flush=True)
        finally:
            drop_database(database_url)


if __name__ == "__main__":
    main()
