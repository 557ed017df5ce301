"""Cold-start proxy: import + module-level init of each function in a fresh interpreter.

This is what `make bench` reports per function (median of N runs) against the 250 ms budget of
DESIGN.md section 5. The child imports the handler by file path exactly as Lambda would, with
the function's own environment variables from template.yaml.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from messenger_local.template import Function, load_template

ROOT = Path(__file__).resolve().parents[2]
BUDGET_MS = 250.0

_CHILD = """
import importlib.util, json, sys, time
start, cpu = time.perf_counter(), time.process_time()
spec = importlib.util.spec_from_file_location("lambda_function", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
getattr(module, sys.argv[2])
print(json.dumps({"ms": (time.perf_counter() - start) * 1000,
                  "cpu_ms": (time.process_time() - cpu) * 1000, "modules": len(sys.modules)}))
"""


@dataclass(frozen=True)
class ColdStart:
    function: str
    median_ms: float
    median_cpu_ms: float
    runs_ms: list[float]
    modules: int
    is_http: bool

    @property
    def within_budget(self) -> bool:
        return not self.is_http or self.median_ms <= BUDGET_MS


def measure(function: Function, runs: int = 5, is_http: bool = True) -> ColdStart:
    env = {**os.environ, **function.env, "PYTHONDONTWRITEBYTECODE": "0"}
    samples, cpu, modules = [], [], 0
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(function.handler_file), function.handler_name],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=function.code_uri,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        samples.append(result["ms"])
        cpu.append(result["cpu_ms"])
        modules = result["modules"]
    return ColdStart(
        function.logical_id,
        statistics.median(samples),
        statistics.median(cpu),
        samples,
        modules,
        is_http,
    )


def measure_all(runs: int = 5) -> list[ColdStart]:
    template = load_template(ROOT / "template.yaml")
    http_functions = {route.function for route in template.routes}
    if template.default_authorizer:
        http_functions.add(template.default_authorizer.function)
    return [
        measure(fn, runs, is_http=name in http_functions)
        for name, fn in sorted(template.functions.items())
    ]


def report(results: list[ColdStart]) -> str:
    lines = [
        "Cold-start proxy (import + module init, fresh interpreter, median of "
        f"{len(results[0].runs_ms) if results else 0}); budget {BUDGET_MS:.0f} ms per HTTP fn",
        f"{'function':<32} {'median ms':>10} {'cpu ms':>8} {'min':>8} {'max':>8} {'modules':>8}"
        "  budget",
    ]
    for r in results:
        verdict = ("ok" if r.within_budget else "OVER") if r.is_http else "n/a (not HTTP)"
        lines.append(
            f"{r.function:<32} {r.median_ms:>10.1f} {r.median_cpu_ms:>8.1f} {min(r.runs_ms):>8.1f} "
            f"{max(r.runs_ms):>8.1f} {r.modules:>8}  {verdict}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(measure_all()))
