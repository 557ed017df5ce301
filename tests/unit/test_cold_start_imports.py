"""What a function's init (import + module scope) loads: only the drivers its use-case needs.

Each function is imported in a fresh interpreter with its template variables, as the cold-start
proxy does (tests/perf/coldstart.py); the test reads sys.modules afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support import template

_CHILD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("lambda_function", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
print(json.dumps(sorted({name.partition(".")[0] for name in sys.modules})))
"""

READ_ONLY = sorted({r.function for r in template().routes if r.method == "GET"})


def loaded_at_init(logical_id: str) -> set[str]:
    function = template().functions[logical_id]
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(function.handler_file)],
        env={**os.environ, **function.env},
        cwd=function.code_uri,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("name", READ_ONLY)
def test_read_only_functions_load_no_kafka_client(name: str) -> None:
    assert "kafka" not in loaded_at_init(name)


def test_read_only_functions_include_the_chats_readers() -> None:
    assert {"ListChats", "GetChatHistory", "GetFriends"} <= set(READ_ONLY)
