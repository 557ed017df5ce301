"""DynamoDB tables from template.yaml, created on the local DynamoDB (moto server).

The template is the schema: keys, attribute definitions, indexes, TTL and billing mode are read
from each AWS::DynamoDB::Table, and the table gets the name the functions see locally (its
TableName, else its logical id, which is what `!Ref` resolves to in the local template loader).
"""

from __future__ import annotations

import logging
from typing import Any

from messenger_local.template import REGION, Table

log = logging.getLogger("messenger_local.dynamodb")

_CREATE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
)


def client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any
    )


def ensure_tables(tables: list[Table], endpoint: str) -> list[str]:
    """Create the missing tables (and their TTL); the names created."""
    dynamodb = client(endpoint)
    existing = set(dynamodb.list_tables().get("TableNames", []))
    created = []
    for table in tables:
        if table.name in existing:
            continue
        spec = {k: table.properties[k] for k in _CREATE_KEYS if k in table.properties}
        stream = spec.get("StreamSpecification")
        if stream:
            spec["StreamSpecification"] = {"StreamEnabled": True, **stream}
        try:
            dynamodb.create_table(TableName=table.name, **spec)
        except dynamodb.exceptions.ResourceInUseException:
            continue
        ttl = table.properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=table.name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        created.append(table.name)
        log.info("created DynamoDB table %s (%s)", table.name, table.logical_id)
    return created
