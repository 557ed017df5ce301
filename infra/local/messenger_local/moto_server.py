"""`python -m messenger_local.moto_server -H HOST -p PORT`: moto's app, served by waitress, with
four fixes that make it fit to be every function's DynamoDB at once (decisions 54 and 60).

Query.

moto (5.2) answers a Query on a table's own key by sorting every item of the table and then
keeping the partition's (`Table.all_items()`), so each Query costs O(N log N) in the table's
size. The per-user sync stream (decision 46) queries its partition on every append, and the
table only grows during a test session or a long `make dev`: after the e2e tier, queries took
over a second and the functions' DynamoDB calls (1 s read timeout) answered 503. DynamoDB reads
one partition. This launcher makes moto do the same for base-table queries of tables with a
sort key (items of one hash key, which moto keeps in a dict); index queries, scans and
everything else are moto's own. Remove it once moto reads partitions itself.

Serving. `moto_server` runs moto's app on werkzeug's development server, which closes the
connection after every answer (its own comment: http.server cannot drain a request it did not
read) and starts a thread per connection: each DynamoDB call of a function was a new TCP
connection and a new server thread. waitress keeps connections open (botocore pools them) and
answers from a fixed pool of threads. One difference: waitress drops request headers with an
underscore in their name, which werkzeug's handler kept for S3 object metadata; this code sends
none.

Routing. moto finds the backend of every request under one lock, listing its package directory
(about 200 `isdir` calls) and trying its URL patterns each time: requests queued on that lock.
The answer depends only on the host, so it is remembered per host.

Dispatch. moto lists a response class's methods with `inspect.getmembers` on every request, to
see whether the action is one of them (5% of its CPU under load): remembered per class.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from typing import Any

import waitress
from moto.core import responses
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

THREADS = 8  # moto's work holds the GIL: more threads only queue
CONNECTION_LIMIT = 4000  # every worker process keeps a pool of connections open
# Idle connections stay open: a function's DynamoDB calls are not retried (platform.dynamodb),
# so a pooled connection the server closed just as it is reused would be a 503. A client that
# exits closes its own.
IDLE_SECONDS = 24 * 3600

_query: Callable[..., Any] = Table.query
_all_items: Callable[..., Any] = Table.all_items
_within = threading.local()  # the server is threaded: the override is this request's only


def _items(self: Table) -> Any:
    partition = getattr(_within, "partition", None)
    if partition is not None and partition[0] is self:
        return partition[1]
    return _all_items(self)


def _partition_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    index_name = kwargs.get("index_name")
    if len(args) >= 7:
        index_name = args[6]
    if index_name or not self.range_key_attr or hash_key is None:
        return _query(self, hash_key, *args, **kwargs)
    _within.partition = (self, list(self.items.get(hash_key, {}).values()))
    try:
        return _query(self, hash_key, *args, **kwargs)
    finally:
        _within.partition = None


Table.all_items = _items  # type: ignore[method-assign]
Table.query = _partition_query  # type: ignore[method-assign]

_backend_for_host: Callable[..., Any] = DomainDispatcherApplication.get_backend_for_host
_backends: dict[str | None, Any] = {}


def _remembered_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
    if host not in _backends:  # called under the dispatcher's lock
        _backends[host] = _backend_for_host(self, host)
    return _backends[host]


DomainDispatcherApplication.get_backend_for_host = _remembered_backend_for_host  # type: ignore[method-assign]


_method_names: Callable[[object], list[str]] = responses.method_names_from_class
_names_of: dict[object, list[str]] = {}


def _remembered_method_names(clazz: object) -> list[str]:
    if clazz not in _names_of:
        _names_of[clazz] = _method_names(clazz)
    return _names_of[clazz]


responses.method_names_from_class = _remembered_method_names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # as moto's own server sets it
    waitress.serve(
        app,
        host=args.host,
        port=args.port,
        threads=THREADS,
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=IDLE_SECONDS,
        ident="moto",
        _quiet=True,
    )


if __name__ == "__main__":
    main()
