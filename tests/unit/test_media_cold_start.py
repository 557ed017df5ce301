"""The media context costs a cold start only where its use-case needs it at once (CreateUpload):
the chats readers sign URLs with botocore's signer loaded by the first file they meet, and
SendMessage and UpdateMyProfile load the S3 client and the uploads store with their first file.
(Powertools imports the bare `botocore` package for its user agent: the signer, the session and
boto3 are what cost.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache

import pytest

from tests.support import template

pytestmark = pytest.mark.unit

_CHILD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("lambda_function", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
print(json.dumps(sorted(sys.modules)))
"""

SDK = {"boto3", "botocore.session", "botocore.auth", "botocore.client"}


@cache
def modules_at_init(logical_id: str) -> frozenset[str]:
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
    return frozenset(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("name", ["GetChatHistory", "ListChats", "SendMessage"])
def test_chats_functions_load_no_aws_sdk_at_init(name: str) -> None:
    assert not SDK & modules_at_init(name)


def test_the_profile_editor_loads_neither_mongo_nor_the_aws_sdk_at_init() -> None:
    loaded = modules_at_init("UpdateMyProfile")
    assert not (SDK | {"pymongo"}) & loaded


def test_create_upload_makes_its_s3_client_at_init_and_needs_no_kafka_or_postgres() -> None:
    loaded = modules_at_init("CreateUpload")
    assert {"botocore.client", "pymongo"} <= loaded
    assert not {"boto3", "kafka", "psycopg"} & {name.partition(".")[0] for name in loaded}
