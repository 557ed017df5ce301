"""One Lambda execution environment: a child process that imports the handler once, then serves.

Run as a script (never imported by the parent): `python _worker.py <handler_file> <handler_name>
<request_fd> <response_fd> <parent_pid>`. Requests and responses are JSON lines on private pipes,
so whatever the handler prints goes to stdout/stderr (the function's log) untouched.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any


class LambdaContext:
    """The attributes and method of the Python runtime's context object."""

    def __init__(self, request_id: str, deadline_ms: int) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = os.environ.get("LOCAL_LAMBDA_FUNCTION_ARN", "")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "ok": False,
        "errorType": error_type or type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_tb(exc.__traceback__)[1:],
    }


def _watch_parent(parent_pid: int) -> None:
    """Die with the parent even when it is SIGKILLed (the pipe EOF covers the idle case)."""
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)
        time.sleep(1)


def main() -> None:
    handler_file, handler_name, req_fd, resp_fd, parent_pid = sys.argv[1:6]
    threading.Thread(target=_watch_parent, args=(int(parent_pid),), daemon=True).start()
    requests = os.fdopen(int(req_fd), "r", encoding="utf-8")
    responses = os.fdopen(int(resp_fd), "w", encoding="utf-8")

    def send(message: dict[str, Any]) -> None:
        responses.write(json.dumps(message) + "\n")
        responses.flush()

    # Init phase: like /var/task, the code folder is the cwd and first on sys.path.
    code_dir = str(Path(handler_file).parent)
    sys.path.insert(0, code_dir)
    try:
        module_name = Path(handler_file).stem
        spec = importlib.util.spec_from_file_location(module_name, handler_file)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {handler_file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        handler = getattr(module, handler_name)
    except Exception as exc:  # Lambda reports init failures as Runtime.* errors
        kind = "Runtime.HandlerNotFound" if isinstance(exc, AttributeError) else None
        send(_error(exc, kind or "Runtime.ImportModuleError"))
        sys.exit(1)
    send({"ready": True})

    for line in requests:
        request = json.loads(line)
        context = LambdaContext(request["request_id"], request["deadline_ms"])
        started = time.perf_counter()
        try:
            result = handler(request["event"], context)
        except Exception as exc:
            reply = _error(exc)
            print(f"[ERROR] {reply['errorType']}: {reply['errorMessage']}", file=sys.stderr)
            traceback.print_exc()
        else:
            try:
                payload = json.dumps(result, default=str)
            except (TypeError, ValueError) as exc:
                reply = _error(exc, "Runtime.MarshalError")
            else:
                reply = {"ok": True, "payload": payload}
        reply["handlerMs"] = (time.perf_counter() - started) * 1000  # what Lambda bills as Duration
        sys.stdout.flush()
        sys.stderr.flush()
        send(reply)


if __name__ == "__main__":
    main()
