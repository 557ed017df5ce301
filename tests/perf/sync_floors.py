"""The floor of GET /v1/sync (mixed into tests/perf/floors.py's Floors): the one DynamoDB Query
the function makes, strongly consistent, from the start of the caller's stream."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

Samples = list[float]


def _timed(n: int, call: Callable[[int], object]) -> Samples:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


class SyncFloors:
    env: dict[str, str]
    dynamodb: Any

    def sync_frames(self, n: int, user: str, since: int, limit: int) -> Samples:
        table = self.env.get("USER_STREAMS_TABLE", "UserStreamsTable")

        def once(_: int) -> None:
            found = self.dynamodb.query(
                TableName=table,
                KeyConditionExpression="#s = :u AND #p > :since",
                ExpressionAttributeNames={"#s": "stream", "#p": "position"},
                ExpressionAttributeValues={":u": {"S": user}, ":since": {"N": str(since)}},
                ConsistentRead=True,
                Limit=limit + 1,
            )
            [json.loads(item["frame"]["S"]) for item in found["Items"]]

        return _timed(n, once)
