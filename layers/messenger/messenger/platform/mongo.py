"""The execution environment's MongoDB client (DocumentDB or Atlas in AWS), made on first use.

DocumentDB has no retryable writes, so they are off (MONGODB_RETRY_WRITES, false by default and
in the template; locally too, so the code paths match); a transaction's own retry
(TransientTransactionError) is handled by pymongo's `with_transaction`.

Every operation of an invocation runs under `pymongo.timeout(<time the invocation has left>)`
(messenger.platform.deadline): pymongo's client-side operation timeout covers server selection, the
socket, its retries and `with_transaction`'s retry loop (otherwise up to 120 s), so a hung or
vanished MongoDB ends as 503 before Lambda's Timeout. The client's own timeouts below are the caps
outside an invocation.
"""

from __future__ import annotations

from typing import Any

import pymongo
from pymongo import errors as mongo_errors

from messenger.kernel.errors import register_unavailable, register_unavailable_check
from messenger.platform import deadline
from messenger.platform.secrets import mongodb_uri
from messenger.platform.settings import get_settings

register_unavailable(
    mongo_errors.ConnectionFailure,  # includes AutoReconnect, NetworkTimeout, ServerSelection
    mongo_errors.ExecutionTimeout,
)


def _timed_out(exc: BaseException) -> bool:
    """A client-side timeout (pymongo.timeout expired), whatever error class carries it."""
    return isinstance(exc, mongo_errors.PyMongoError) and bool(exc.timeout)


register_unavailable_check(_timed_out)
deadline.register_scope("mongodb", pymongo.timeout)

_client: pymongo.MongoClient[Any] | None = None


def client() -> pymongo.MongoClient[Any]:
    global _client
    if _client is None:
        _client = pymongo.MongoClient(
            mongodb_uri(),
            retryWrites=get_settings().mongodb_retry_writes,
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
