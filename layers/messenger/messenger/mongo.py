"""The execution environment's MongoDB client (DocumentDB or Atlas in AWS), made on first use.

DocumentDB has no retryable writes, so they are off everywhere (locally too, so the code paths
match); a transaction's own retry (TransientTransactionError) is handled by pymongo's
`with_transaction`.
"""

from __future__ import annotations

from typing import Any

import pymongo
from pymongo import errors as mongo_errors

from messenger.errors import register_unavailable
from messenger.secrets import mongodb_uri
from messenger.settings import get_settings

register_unavailable(
    mongo_errors.ConnectionFailure,  # includes AutoReconnect, NetworkTimeout, ServerSelection
    mongo_errors.ExecutionTimeout,
)

_client: pymongo.MongoClient[Any] | None = None


def client() -> pymongo.MongoClient[Any]:
    global _client
    if _client is None:
        _client = pymongo.MongoClient(
            mongodb_uri(),
            retryWrites=False,
            serverSelectionTimeoutMS=2000,
            connectTimeoutMS=2000,
            socketTimeoutMS=5000,
            maxPoolSize=4,
            uuidRepresentation="standard",
            tz_aware=True,
            appname="messenger",
        )
    return _client


def database() -> Any:
    return client()[get_settings().mongodb_database]
