"""Cold starts per function: a quick proxy from the sources, and one as deployed.

The proxy (`measure_all`): import + module-level init of each function in a fresh interpreter
of the development venv, by file path, with the function's variables from template.yaml.

Deployed-like (`measure_deployed`): what a Lambda cold start runs, from what `sam build` built.
A fresh interpreter of the runtime's version (python3.12, `-X frozen_modules=on`, isolated, no
site), the built function folder as /var/task and the built layers merged as /opt/python (as
Lambda extracts them) on sys.path, boto3 & co. as the runtime provides them, and no writable
bytecode cache (`-B`, PYTHONDONTWRITEBYTECODE=1): only the pycs the build shipped are used. It
times the init (import + module init) and the handler's first call with its events/ sample on
the warm local services, then, in another fresh interpreter, the third-party modules that
function ended up loading imported together ("libs"): the floor our code is compared to.

On a non-arm64 machine the arm64 deps layer cannot load, so the same deps Makefile builds a twin
for this machine's platform (.local/coldstart/DepsLayer-<machine>): same packages, same bytecode.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from messenger_local.gateway import LOCAL_ENV
from messenger_local.runtime import LambdaRuntime
from messenger_local.template import Function, Template, load_template

ROOT = Path(__file__).resolve().parents[2]
BUDGET_MS = 250.0
AUTHORIZER_BUDGET_MS = 150.0
LIBS_RATIO = 1.3  # a function's cold start at most 1.3x its libraries imported together
BUILD_DIR = ROOT / ".aws-sam" / "build"
WORK_DIR = ROOT / ".local" / "coldstart"
# What the python3.12 runtime provides outside the layers (/var/lang/lib/python3.12/site-packages).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")

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


# ------------------------------------------------------------------------------------------------
# Deployed-like: the built packages, the runtime's interpreter, read-only bytecode
# ------------------------------------------------------------------------------------------------
# argv: task root, /opt/python, runtime site-packages, handler, event file. Prints one line
# "COLDSTART {json}" (the function's own logs go to stdout too).
_DEPLOYED_CHILD = """
import sys, time
start, cpu = time.perf_counter(), time.process_time()
sys.path[:0] = sys.argv[1:4]
import importlib
module_name, _, handler_name = sys.argv[4].rpartition(".")
handler = getattr(importlib.import_module(module_name), handler_name)
init_ms, init_cpu = (time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000
init_modules = set(sys.modules)
import json, uuid
def third_party(name):
    return name.partition(".")[0] not in sys.stdlib_module_names and not name.startswith("__")
class Context:
    function_name = sys.argv[6]
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + sys.argv[6]
    aws_request_id = str(uuid.uuid4())
    log_group_name = "/aws/lambda/" + sys.argv[6]
    log_stream_name = "coldstart"
    def get_remaining_time_in_millis(self):
        return 10_000
with open(sys.argv[5], encoding="utf-8") as file:
    event = json.load(file)
fetch_ms = fetch_cpu = 0.0
fetch_modules = []
if len(sys.argv) > 7:  # the secret fetch the first call makes (platform.secrets), timed alone
    fetch, fetch_cpu, before = time.perf_counter(), time.process_time(), set(sys.modules)
    getattr(importlib.import_module("messenger.platform.secrets"), sys.argv[7])()
    fetch_ms = (time.perf_counter() - fetch) * 1000
    fetch_cpu = (time.process_time() - fetch_cpu) * 1000
    fetch_modules = sorted({n.partition(".")[0] for n in set(sys.modules) - before
                            if third_party(n)})
call, call_cpu = time.perf_counter(), time.process_time()
try:
    result = handler(event, Context())
    outcome = str(result.get("statusCode", "ok")) if isinstance(result, dict) else "ok"
except Exception as error:
    outcome = type(error).__name__
call_ms, call_cpu = (time.perf_counter() - call) * 1000, (time.process_time() - call_cpu) * 1000
own = {"__main__", module_name.partition(".")[0], "messenger"}
libs = sorted(name for name in sys.modules
              if name.partition(".")[0] not in sys.stdlib_module_names | own)
def group(name):
    head, _, rest = name.partition(".")
    return head + "." + rest.partition(".")[0] if head == "messenger" and rest else head
first_call = sorted({group(n) for n in set(sys.modules) - init_modules if third_party(n)})
print("COLDSTART " + json.dumps({
    "init_ms": init_ms, "init_cpu_ms": init_cpu, "call_ms": call_ms, "call_cpu_ms": call_cpu,
    "outcome": outcome,
    "init_modules": len(init_modules), "modules": len(sys.modules), "libs": libs,
    "first_call": first_call, "fetch_ms": fetch_ms, "fetch_cpu_ms": fetch_cpu,
    "fetch_modules": fetch_modules}))
"""

# argv: /opt/python, runtime site-packages, file with module names. Imports them, in order.
_LIBS_CHILD = """
import sys, time
start, cpu = time.perf_counter(), time.process_time()
sys.path[:0] = sys.argv[1:3]
import importlib
for name in open(sys.argv[3], encoding="utf-8").read().split():
    if name not in sys.modules:
        try:
            importlib.import_module(name)
        except Exception:
            pass
print("COLDSTART {\\"ms\\": %f, \\"cpu_ms\\": %f}"
      % ((time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000))
"""


@cache
def runtime_python() -> str:
    """The template's runtime interpreter, found as the build finds it (layers/bytecode.mk)."""
    found = subprocess.run(
        ["make", "-s", "-f", str(ROOT / "layers" / "bytecode.mk"), "runtime-python"],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0 or not found.stdout.strip():
        raise SystemExit(
            f"no runtime interpreter for the deployed-like cold starts: {found.stderr}"
        )
    return found.stdout.strip()


def _compile(tree: Path, runtime_path: str) -> None:
    subprocess.run(
        [runtime_python(), "-m", "compileall", "-q", "-j", "0", "--invalidation-mode",
         "unchecked-hash", "-s", str(tree), "-p", runtime_path, str(tree)],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def _host_deps_layer(build_dir: Path, work: Path) -> Path:
    """The deps layer for this machine: the built one on arm64, else a twin built the same way."""
    built = build_dir / "DepsLayer" / "python"
    if platform.machine() in ("aarch64", "arm64"):
        return built
    machine = platform.machine()
    twin = work / f"DepsLayer-{machine}"
    requirements = ROOT / "layers" / "deps" / "requirements.txt"
    stamp = twin / ".requirements.txt"
    if stamp.is_file() and stamp.read_text() == requirements.read_text():
        return twin / "python"
    print(f"building the deps layer for {machine} (once) in {twin} ...", flush=True)
    shutil.rmtree(twin, ignore_errors=True)
    twin.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "deps"
        shutil.copytree(ROOT / "layers" / "deps", source)
        platforms = f"manylinux_2_28_{machine} manylinux2014_{machine}"
        subprocess.run(
            ["make", "-s", "--makefile", str(ROOT / "layers" / "deps" / "Makefile"),
             "build-DepsLayer", f"ARTIFACTS_DIR={twin}", f"PLATFORMS={platforms}"],
            cwd=source, check=True,
        )  # fmt: skip
    stamp.write_text(requirements.read_text())
    return twin / "python"


def _runtime_site(work: Path) -> Path:
    """boto3 & co. as the runtime has them: this venv's copies, compiled by the runtime python."""
    import botocore

    site = work / f"runtime-botocore-{botocore.__version__}"
    if site.is_dir():
        return site
    staging = work / "runtime-staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    origin = Path(botocore.__file__).resolve().parents[1]
    for name in RUNTIME_PACKAGES:
        for candidate in (origin / name, origin / f"{name}.py"):
            if candidate.is_dir():
                shutil.copytree(candidate, staging / name, ignore=shutil.ignore_patterns("*.pyc"))
            elif candidate.is_file():
                shutil.copy2(candidate, staging / candidate.name)
    _compile(staging, "/var/lang/lib/python3.12/site-packages")
    staging.rename(site)
    return site


@dataclass(frozen=True)
class Layout:
    """What a cold start sees: /var/task per function, /opt, the runtime's site-packages."""

    build_dir: Path
    opt: Path
    runtime_site: Path

    def task_root(self, function: str) -> Path:
        return self.build_dir / function


def deployed_layout(build_dir: Path = BUILD_DIR, work: Path = WORK_DIR) -> Layout:
    """/opt as Lambda extracts the layers: one python/ holding every layer's python/ entries."""
    if not (build_dir / "MessengerLayer" / "python").is_dir():
        raise SystemExit(f"no sam build output in {build_dir}: run `make build` first")
    work.mkdir(parents=True, exist_ok=True)
    deps = _host_deps_layer(build_dir, work)
    opt = work / "opt"
    shutil.rmtree(opt, ignore_errors=True)
    (opt / "python").mkdir(parents=True)
    for layer in (build_dir / "MessengerLayer" / "python", deps):
        for entry in layer.iterdir():
            (opt / "python" / entry.name).symlink_to(entry)
    certs = build_dir / "CertsLayer" / "certs"
    if certs.is_dir():
        (opt / "certs").symlink_to(certs)
    return Layout(build_dir, opt, _runtime_site(work))


@dataclass(frozen=True)
class DeployedColdStart:
    """Samples per run; `cpu` = CPU time of the process (stable when the machine is shared)."""

    function: str
    wall_ms: list[float]  # init + first call
    cpu_ms: list[float]
    init_cpu_ms: list[float]
    call_cpu_ms: list[float]
    libs_wall_ms: list[float]
    libs_cpu_ms: list[float]
    modules: int
    outcome: str
    is_http: bool
    is_authorizer: bool
    first_call: list[str]  # packages (messenger modules) the first call imported

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_ms)

    @property
    def libs_cpu(self) -> float:
        return statistics.median(self.libs_cpu_ms) if self.libs_cpu_ms else float("nan")

    @property
    def libs_ratio(self) -> float:
        """The median of each run over the libraries' run right after it: on a machine whose
        speed drifts (a shared VM), a pair shares the moment, two medians do not."""
        pairs = list(zip(self.cpu_ms, self.libs_cpu_ms, strict=False))
        if not pairs:
            return float("nan")
        return statistics.median(run / libs for run, libs in pairs)

    @property
    def budget_ms(self) -> float | None:
        if self.is_authorizer:
            return AUTHORIZER_BUDGET_MS
        return BUDGET_MS if self.is_http else None

    @property
    def verdict(self) -> str:
        if self.budget_ms is None:
            return "n/a"
        if self.cpu <= self.budget_ms:
            return "ok"
        return "drivers" if self.libs_ratio <= LIBS_RATIO else "OVER"


def _child(args: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    command = [runtime_python(), "-I", "-S", "-B", "-X", "frozen_modules=on", "-c", *args]
    out = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    lines = [line for line in out.stdout.splitlines() if line.startswith("COLDSTART ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{args[1:]}: exit {out.returncode}\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("COLDSTART "))
    return result


def _sample_event(function: str) -> Path:
    index = json.loads((ROOT / "events" / "index.json").read_text(encoding="utf-8"))
    return ROOT / "events" / index[function][0]


def measure_one(
    template: Template,
    layout: Layout,
    backing: dict[str, str],
    function: Function,
    runs: int,
    libs_floor: bool = True,
) -> DeployedColdStart:
    task = layout.task_root(function.logical_id)
    env = LambdaRuntime(template, env_overrides={**LOCAL_ENV, **backing}).environment(function)
    env.update({"LAMBDA_TASK_ROOT": str(task), "PYTHONDONTWRITEBYTECODE": "1"})
    paths = [str(task), str(layout.opt / "python"), str(layout.runtime_site)]
    event = _sample_event(function.logical_id)
    wall, cpu, init_cpu, call_cpu, libs_wall, libs_cpu = [], [], [], [], [], []
    modules, outcome, libs, first_call = 0, "", [], []
    handle, name = tempfile.mkstemp(suffix=".txt")
    os.close(handle)
    names = Path(name)
    try:
        for _ in range(runs):
            result = _child(
                [_DEPLOYED_CHILD, *paths, function.handler, str(event), function.logical_id],
                env,
                task,
            )
            wall.append(result["init_ms"] + result["call_ms"])
            cpu.append(result["init_cpu_ms"] + result["call_cpu_ms"])
            init_cpu.append(result["init_cpu_ms"])
            call_cpu.append(result["call_cpu_ms"])
            modules, outcome, libs = result["modules"], result["outcome"], result["libs"]
            first_call = result["first_call"]
            if libs_floor:  # right after the run, so the pair sees the machine alike
                names.write_text("\n".join(libs), encoding="utf-8")
                floor = _child([_LIBS_CHILD, *paths[1:], str(names)], env, task)
                libs_wall.append(floor["ms"])
                libs_cpu.append(floor["cpu_ms"])
    finally:
        names.unlink()
    http = http_functions(template)
    authorizer = template.default_authorizer.function if template.default_authorizer else None
    return DeployedColdStart(
        function.logical_id,
        wall,
        cpu,
        init_cpu,
        call_cpu,
        libs_wall,
        libs_cpu,
        modules,
        outcome,
        function.logical_id in http,
        function.logical_id == authorizer,
        first_call,
    )


def http_functions(template: Template) -> set[str]:
    names = {route.function for route in template.routes}
    if template.default_authorizer:
        names.add(template.default_authorizer.function)
    return names


def measure_deployed(
    backing: dict[str, str],
    runs: int = 5,
    build_dir: Path = BUILD_DIR,
    only: list[str] | None = None,
    work: Path = WORK_DIR,
    libs_floor: bool = True,
    echo: Callable[[str], None] | None = None,
) -> list[DeployedColdStart]:
    """Every HTTP function (and the authorizer) as deployed, on the services in `backing`;
    `echo` gets the report's lines as they are measured."""
    template = load_template(ROOT / "template.yaml")
    layout = deployed_layout(build_dir, work)
    if "DYNAMODB_ENDPOINT" in backing and template.tables:
        from messenger_local.dynamodb import ensure_tables

        ensure_tables(template.tables, backing["DYNAMODB_ENDPOINT"])
    if "KAFKA_BOOTSTRAP_SERVERS" in backing:  # the publishers' topics exist in MSK beforehand
        from messenger.platform.settings import Settings
        from messenger_local.kafka_triggers import ensure_topics

        defaults = Settings()
        topics = [defaults.user_events_topic, defaults.friendship_events_topic]
        ensure_topics(backing["KAFKA_BOOTSTRAP_SERVERS"], [*topics, defaults.chat_events_topic], 3)
    names = sorted(only or http_functions(template))
    results = []
    for number, name in enumerate(names):
        result = measure_one(template, layout, backing, template.functions[name], runs, libs_floor)
        results.append(result)
        if echo:
            echo("\n".join(deployed_report(results).splitlines()[0 if number == 0 else -1 :]))
    return results


# One function per context that reads a secret on its first call, and the secret it reads.
SECRET_PATH = {
    "Register": "database_url",
    "GetMyProfile": "database_url",
    "GetFriends": "database_url",
    "ListChats": "mongodb_uri",
}


@dataclass(frozen=True)
class SecretFetch:
    function: str
    mode: str  # "extension" | "boto3"
    fetch_ms: list[float]
    fetch_cpu_ms: list[float]
    call_ms: list[float]
    imported: list[str]
    outcome: str


def measure_secret_path(
    backing: dict[str, str], runs: int = 5, build_dir: Path = BUILD_DIR, work: Path = WORK_DIR
) -> list[SecretFetch]:
    """The first call as in AWS: the function has secret ARNs (moto's Secrets Manager), not URLs,
    and reads them through the extension (a local stand-in) or through Powertools/boto3."""
    from messenger_local.secrets_extension import SecretsExtension, create_secret

    template = load_template(ROOT / "template.yaml")
    layout = deployed_layout(build_dir, work)
    moto = backing["DYNAMODB_ENDPOINT"]  # moto server: every AWS service on one endpoint
    pg = urlsplit(backing["DATABASE_URL"])
    db_arn = create_secret(
        moto,
        "coldstart/postgres",
        {"username": pg.username or "postgres", "password": pg.password or "",
         "host": pg.hostname, "port": pg.port or 5432, "dbname": pg.path.lstrip("/")},
    )  # fmt: skip
    mongo_arn = create_secret(moto, "coldstart/mongodb", {"uri": backing["MONGODB_URI"]})
    token = "coldstart-session-token"
    results = []
    with SecretsExtension(moto, token) as extension:
        for name, fetcher in SECRET_PATH.items():
            function = template.functions[name]
            task = layout.task_root(name)
            for mode in ("boto3", "extension"):
                env = LambdaRuntime(template, env_overrides={**LOCAL_ENV, **backing}).environment(
                    function
                )
                env.update(
                    {
                        "LAMBDA_TASK_ROOT": str(task),
                        "DATABASE_URL": "",
                        "DATABASE_SECRET_ARN": db_arn,
                        "DATABASE_HOST": "",
                        "DATABASE_SSLROOTCERT": "",
                        "MONGODB_URI": "",
                        "MONGODB_SECRET_ARN": mongo_arn,
                        "MONGODB_TLS_CA_FILE": "",
                        "AWS_SESSION_TOKEN": token,
                        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto,
                        "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": (
                            str(extension.port) if mode == "extension" else ""
                        ),
                    }
                )
                paths = [str(task), str(layout.opt / "python"), str(layout.runtime_site)]
                event = str(_sample_event(name))
                fetch, cpu, call, imported, outcome = [], [], [], [], ""
                for _ in range(runs):
                    result = _child(
                        [_DEPLOYED_CHILD, *paths, function.handler, event, name, fetcher], env, task
                    )
                    fetch.append(result["fetch_ms"])
                    cpu.append(result["fetch_cpu_ms"])
                    call.append(result["call_ms"])
                    imported, outcome = result["fetch_modules"], result["outcome"]
                results.append(SecretFetch(name, mode, fetch, cpu, call, imported, outcome))
    return results


def secret_report(results: list[SecretFetch]) -> str:
    median = statistics.median
    lines = [
        "First call's secret fetch as in AWS (secret ARNs on moto's Secrets Manager; boto3 ="
        " Powertools Parameters, extension = the Parameters and Secrets Extension over local"
        " HTTP, a stand-in); ms, median. The call runs after it (Postgres wants TLS in AWS:"
        " locally it answers 503).",
        f"{'function':<16} {'via':<10} {'fetch':>7} {'cpu':>7} {'call':>7} {'status':>7}"
        "  imported by the fetch",
    ]
    for r in results:
        lines.append(
            f"{r.function:<16} {r.mode:<10} {median(r.fetch_ms):>7.1f}"
            f" {median(r.fetch_cpu_ms):>7.1f} {median(r.call_ms):>7.1f} {r.outcome[:7]:>7}"
            f"  {' '.join(r.imported) or '-'}"
        )
    return "\n".join(lines)


def deployed_report(results: list[DeployedColdStart]) -> str:
    runs = len(results[0].cpu_ms) if results else 0
    median = statistics.median
    lines = [
        "Cold start as deployed (sam build output, python3.12 -X frozen_modules=on, read-only"
        f" bytecode), median of {runs}: init + first call (sample event, warm local services),",
        "in CPU ms (wall in parentheses: inflated when the machine is shared). libs = the"
        " third-party modules the function loaded, imported together in a fresh interpreter.",
        f"Budget {BUDGET_MS:.0f} ms ({AUTHORIZER_BUDGET_MS:.0f} authorizer) on CPU; 'drivers' ="
        f" over it but within {LIBS_RATIO}x libs",
        f"{'function':<24} {'init':>7} {'call':>7} {'total':>7} {'(wall)':>8} {'libs':>7}"
        f" {'x libs':>6} {'modules':>7} {'status':>8}  {'budget':<7}  imported by the first call",
    ]
    for r in results:
        lines.append(
            f"{r.function:<24} {median(r.init_cpu_ms):>7.1f} {median(r.call_cpu_ms):>7.1f}"
            f" {r.cpu:>7.1f} {median(r.wall_ms):>8.1f} {r.libs_cpu:>7.1f}"
            f" {r.libs_ratio:>6.2f} {r.modules:>7} {r.outcome[:8]:>8}  {r.verdict:<7}"
            f"  {' '.join(r.first_call) or '-'}"
        )
    return "\n".join(lines)


def deployed_reports(backing: dict[str, str], runs: int = 5) -> str:
    """What `make bench` prints: cold starts as deployed, then the first call's secret fetch."""
    return (
        deployed_report(measure_deployed(backing, runs))
        + "\n\n"
        + secret_report(measure_secret_path(backing, runs))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--proxy", action="store_true", help="the source proxy only")
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR)
    parser.add_argument("--work-dir", type=Path, default=WORK_DIR, help="/opt and the deps twin")
    parser.add_argument("--no-libs", action="store_true", help="skip the libraries' floor")
    parser.add_argument("--no-secrets", action="store_true", help="skip the secret fetch")
    parser.add_argument("functions", nargs="*", help="logical ids (default: every HTTP function)")
    args = parser.parse_args()
    if args.proxy:
        print(report(measure_all(args.runs)))
        return
    from messenger.bootstrap import apply_mongo_indexes
    from messenger.platform.migrate import apply_migrations
    from messenger_local.services import LocalServices, drop_database

    with LocalServices(
        state_dir=ROOT / ".local" / "coldstart",
        services=("postgres", "redis", "kafka", "mongodb", "dynamodb"),
    ) as services:
        database_url = services.create_database("coldstart")
        try:
            apply_migrations(database_url)
            apply_mongo_indexes(services.mongodb_uri)
            backing = {**services.env(), "DATABASE_URL": database_url}
            measure_deployed(
                backing,
                args.runs,
                args.build_dir,
                args.functions,
                args.work_dir,
                libs_floor=not args.no_libs,
                echo=lambda text: print(text, flush=True),
            )
            if not args.functions and not args.no_secrets:
                print()
                secrets = measure_secret_path(backing, args.runs, args.build_dir, args.work_dir)
                print(secret_report(secrets))
        finally:
            drop_database(database_url)


if __name__ == "__main__":
    main()
