"""What a function's init (import + module scope) loads: only the drivers its use-case needs.

Each function is imported in a fresh interpreter with its template variables, as the cold-start
proxy does (tests/perf/coldstart.py); the test reads sys.modules afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from typing import Any

import pytest

from tests.support import template

_CHILD = """
import gc, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("lambda_function", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
print(json.dumps({"gc": [gc.isenabled(), gc.get_freeze_count()],
                  "modules": sorted(sys.modules if "--all" in sys.argv else
                                    {name.partition(".")[0] for name in sys.modules})}))
"""

READ_ONLY = sorted({r.function for r in template().routes if r.method == "GET"})


CHATS = sorted(n for n, f in template().functions.items() if f.code_uri.parent.name == "chats")


CONSUMERS = sorted({m.function for m in template().msk_mappings})


# Whose requests or first call hold an email address (the auth context's models, EmailStr).
READS_ACCOUNTS = {"GetMyProfile", "UpdateMyProfile", "DeleteMyAccount"}
NO_EMAIL = sorted(
    n
    for n, f in template().functions.items()
    if f.code_uri.parent.name != "auth" and n not in READS_ACCOUNTS
)


@cache
def _init(logical_id: str, every_module: bool = False) -> dict[str, Any]:
    """A fresh interpreter's init of the function, as in Lambda (AWS_LAMBDA_FUNCTION_NAME set)."""
    function = template().functions[logical_id]
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(function.handler_file), *(["--all"] * every_module)],
        env={**os.environ, **function.env, "AWS_LAMBDA_FUNCTION_NAME": logical_id},
        cwd=function.code_uri,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def loaded_at_init(logical_id: str, every_module: bool = False) -> frozenset[str]:
    """The top-level packages a function's init loads (or every module, `every_module`)."""
    return frozenset(_init(logical_id, every_module)["modules"])


@pytest.mark.parametrize("name", READ_ONLY)
def test_read_only_functions_load_no_kafka_client(name: str) -> None:
    assert "kafka" not in loaded_at_init(name)


def test_read_only_functions_include_the_chats_readers() -> None:
    assert {"ListChats", "GetChatHistory", "GetFriends"} <= set(READ_ONLY)


@pytest.mark.parametrize("name", CHATS)
def test_chats_functions_load_no_postgres_driver(name: str) -> None:
    """Their friendship checks read Redis; psycopg comes only on a cache miss."""
    loaded = loaded_at_init(name)
    assert "psycopg" not in loaded
    assert "pymongo" in loaded  # and the check can fail: this is the list it looks in


@pytest.mark.parametrize("name", CONSUMERS)
def test_consumers_load_no_powertools_parser_models(name: str) -> None:
    """Powertools' batch types import its parser's models (about 20 modules) when pydantic is
    imported first: the consumer plumbing must come before anything that loads pydantic."""
    assert "aws_lambda_powertools.utilities.parser" not in loaded_at_init(name, every_module=True)


def test_consumers_include_the_three_msk_consumers() -> None:
    assert {"CreateProfileOnUserRegistered", "PushRealtimeEvents", "InvalidateCaches"} <= set(
        CONSUMERS
    )


@pytest.mark.parametrize("name", NO_EMAIL)
def test_functions_without_an_email_load_no_email_validator(name: str) -> None:
    """pydantic builds EmailStr's schema by importing email-validator, whose grammar compiles
    for about 30 ms: only the auth context's functions and the account readers pay it."""
    assert "email_validator" not in loaded_at_init(name)


def test_no_email_covers_the_realtime_and_public_profile_functions() -> None:
    assert {"WebSocketConnect", "PushRealtimeEvents", "GetProfileByNickname"} <= set(NO_EMAIL)
    assert "email_validator" in loaded_at_init("GetMyProfile")  # and the check can fail


@pytest.mark.parametrize("name", sorted(template().functions))
def test_every_init_ends_with_the_collector_on_and_its_objects_frozen(name: str) -> None:
    """Importing `messenger` in Lambda holds the garbage collector for the init; the function's
    module must end it (`messenger.platform.collector.end_init`, which the entrypoints call),
    or the collector would stay off for the life of the execution environment."""
    enabled, frozen = _init(name)["gc"]
    assert enabled
    assert frozen > 10_000  # what the init built, never scanned again


def test_get_friends_loads_presence_at_init() -> None:
    """Its first call asks who is online: pynamodb is part of the init (SnapStart snapshot)."""
    assert "pynamodb" in loaded_at_init("GetFriends")


def test_snapstart_is_the_default_except_in_dev() -> None:
    from tests.unit.sam_template import samconfig
    from tests.unit.sam_template import template as raw_template

    assert raw_template()["Parameters"]["SnapStart"]["Default"] == "PublishedVersions"
    for env, expected in {"dev": "None", "staging": "PublishedVersions", "prod": None}.items():
        overrides = samconfig()[env]["deploy"]["parameters"]["parameter_overrides"]
        if expected is None:  # prod: the template's default, or set to it
            assert "SnapStart=None" not in overrides
        else:
            assert f"SnapStart={expected}" in overrides, env
