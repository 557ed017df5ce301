"""The floor of GET /v1/sync (mixed into tests/perf/floors.py's Floors): the one DynamoDB Query
the function makes, strongly consistent, from the start of the caller's stream."""

from __future__ import annotations

import json
from typing import Any

from tests.perf.pacing import Samples, timed


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

        return timed(n, once)

    def fanout(self, n: int, users: list[str]) -> Samples:
        """What PushRealtimeEvents and NotifyMessageSent call: the stream (one batch of markers
        and heads, then per recipient the frame and the head, then the markers 25 to a batch)
        and per recipient the notification (devices, claim, publish); 16 recipients at a time,
        as the functions run them. Writes to throwaway keys."""
        import uuid
        from concurrent.futures import ThreadPoolExecutor

        import boto3

        streams = self.env.get("USER_STREAMS_TABLE", "UserStreamsTable")
        devices = self.env.get("DEVICES_TABLE", "DevicesTable")
        sns = boto3.client(
            "sns",
            endpoint_url=self.env["DYNAMODB_ENDPOINT"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        app = sns.create_platform_application(
            Name="bench-floor", Platform="GCM", Attributes={"PlatformCredential": "x"}
        )["PlatformApplicationArn"]
        endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="bench-floor")[
            "EndpointArn"
        ]
        frame = json.dumps({"type": "message.sent", "data": {"content": "x" * 200}})
        run = uuid.uuid4().hex[:8]  # this floor's own streams: its positions start at 1

        def recipient(user: str, event: str, position: int) -> None:
            stream = f"floor-{run}-{user}"
            item = {"stream": {"S": stream}, "position": {"N": str(position)}}
            self.dynamodb.put_item(
                TableName=streams,
                Item={**item, "frame": {"S": frame}},
                ConditionExpression="attribute_not_exists(#p)",
                ExpressionAttributeNames={"#p": "position"},
            )
            self.dynamodb.update_item(
                TableName=streams,
                Key={"stream": {"S": stream}, "position": {"N": "0"}},
                UpdateExpression="SET head = :p, event_id = :e",
                ExpressionAttributeValues={":p": {"N": str(position)}, ":e": {"S": event}},
            )
            self.dynamodb.query(
                TableName=devices,
                KeyConditionExpression="#o = :u",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":u": {"S": user}},
                ConsistentRead=True,
            )
            self.dynamodb.put_item(
                TableName=devices,
                Item={"owner": {"S": f"sent#{event}"}, "device_id": {"S": user}},
            )
            sns.publish(TargetArn=endpoint, Message=json.dumps({"default": frame}))

        def once(i: int) -> None:
            event = str(uuid.uuid4())
            keys = [
                {"stream": {"S": stream}, "position": {"N": "0"}}
                for u in users
                for stream in (f"floor-{run}-{u}#{event}", f"floor-{run}-{u}")
            ]
            for start in range(0, len(keys), 100):
                self.dynamodb.batch_get_item(
                    RequestItems={
                        streams: {"Keys": keys[start : start + 100], "ConsistentRead": True}
                    }
                )
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda u: recipient(u, event, i + 1), users))
            markers = [
                {"PutRequest": {"Item": {**key, "head": {"N": str(i + 1)}}}} for key in keys[0::2]
            ]
            for start in range(0, len(markers), 25):
                self.dynamodb.batch_write_item(RequestItems={streams: markers[start : start + 25]})

        return timed(n, once)
