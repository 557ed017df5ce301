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
        """Per recipient what PushRealtimeEvents and NotifyMessageSent write: the stream (marker
        batch, newest item, frame, marker, head) and the notification (devices, claim, publish);
        16 recipients at a time, as the functions run them. Writes to throwaway keys."""
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

        def recipient(user: str, event: str, position: int) -> None:
            stream = f"floor-{user}"
            self.dynamodb.query(
                TableName=streams,
                KeyConditionExpression="#s = :u",
                ExpressionAttributeNames={"#s": "stream"},
                ExpressionAttributeValues={":u": {"S": stream}},
                ScanIndexForward=False,
                Limit=1,
                ConsistentRead=True,
            )
            item = {"stream": {"S": stream}, "position": {"N": str(position)}}
            self.dynamodb.put_item(TableName=streams, Item={**item, "frame": {"S": frame}})
            marker = {"stream": {"S": f"{stream}#{event}"}, "position": {"N": "0"}}
            self.dynamodb.put_item(TableName=streams, Item={**marker, "head": {"N": "1"}})
            self.dynamodb.update_item(
                TableName=streams,
                Key={"stream": {"S": stream}, "position": {"N": "0"}},
                UpdateExpression="SET head = :p",
                ExpressionAttributeValues={":p": {"N": str(position)}},
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
            keys = [{"stream": {"S": f"floor-{u}#{event}"}, "position": {"N": "0"}} for u in users]
            for start in range(0, len(keys), 100):
                self.dynamodb.batch_get_item(
                    RequestItems={
                        streams: {"Keys": keys[start : start + 100], "ConsistentRead": True}
                    }
                )
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda u: recipient(u, event, i + 1), users))

        return timed(n, once)
