"""`python -m messenger_local.moto_server`: moto's server, with one fix for DynamoDB's Query.

moto (5.2) answers a Query on a table's own key by sorting every item of the table and then
keeping the partition's (`Table.all_items()`), so each Query costs O(N log N) in the table's
size. The per-user sync stream (decision 46) queries its partition on every append, and the
table only grows during a test session or a long `make dev`: after the e2e tier, queries took
over a second and the functions' DynamoDB calls (1 s read timeout) answered 503. DynamoDB reads
one partition. This launcher makes moto do the same for base-table queries of tables with a
sort key (items of one hash key, which moto keeps in a dict); index queries, scans and
everything else are moto's own. Remove it once moto reads partitions itself.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models.table import Table
from moto.server import main

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

if __name__ == "__main__":
    sys.exit(main())
