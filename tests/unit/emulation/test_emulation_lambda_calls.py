"""What the Lambda seam records of a handler's AWS calls: the IAM action, and for DynamoDB the partition
key value a `dynamodb:LeadingKeys` condition would be compared with (the workflow tests check both)."""

from __future__ import annotations

import json
from typing import Any

import boto3

from ecs_migrate_deploy.emulation import Emulator
from ecs_migrate_deploy.emulation.seams.awslambda import iam_requests

FUNCTION = "GreetFunction"


def _invoke(emu: Emulator, handler: Any) -> set[tuple[str, str | None]]:
    """Run `handler` as FUNCTION; the (action, leading key) pairs recorded for it."""
    emu.seams.lambdas.route(FUNCTION, handler)
    response = emu.client("lambda").invoke(FunctionName=FUNCTION, Payload=b"{}")
    assert "FunctionError" not in response, json.loads(response["Payload"].read())
    return {(action, key) for function, action, key in emu.seams.lambdas.api_calls if function == FUNCTION}


def test_a_handlers_dynamodb_calls_record_the_partition_key_each_touches(emulator: Emulator) -> None:
    table = emulator.world.table_name
    # Another key schema: the partition key's name is read from the table, not assumed to be `pk`.
    emulator.client("dynamodb").create_table(
        TableName="tenants",
        KeySchema=[{"AttributeName": "tenant", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "tenant", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        dynamodb = boto3.client("dynamodb")
        dynamodb.get_item(TableName=table, Key={"pk": {"S": "STOP#deploy-1"}, "sk": {"S": "STOP"}})
        dynamodb.update_item(
            TableName=table,
            Key={"pk": {"S": "WAKE#snap-1"}, "sk": {"S": "WAKE"}},
            UpdateExpression="SET seen_at = :seen",
            ExpressionAttributeValues={":seen": {"S": "now"}},
        )
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "LOCK#acme/web"}, "sk": {"S": "LOCK"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "LOCK#acme/worker"}, "sk": {"S": "LOCK"}},
                        "UpdateExpression": "SET execution = :me",
                        "ExpressionAttributeValues": {":me": {"S": "deploy-1"}},
                    }
                },
            ]
        )
        dynamodb.query(
            TableName="tenants",
            KeyConditionExpression="#t = :t",
            ExpressionAttributeNames={"#t": "tenant"},
            ExpressionAttributeValues={":t": {"S": "acme"}},
        )
        dynamodb.scan(TableName=table)
        boto3.client("sts").get_caller_identity()
        return {}

    assert _invoke(emulator, handler) == {
        ("dynamodb:GetItem", "STOP#deploy-1"),
        ("dynamodb:UpdateItem", "WAKE#snap-1"),
        ("dynamodb:PutItem", "LOCK#acme/web"),
        ("dynamodb:UpdateItem", "LOCK#acme/worker"),
        ("dynamodb:Query", "acme"),
        ("dynamodb:Scan", None),
        ("sts:GetCallerIdentity", None),
    }


def _schema(table: str, index: str | None) -> str | None:
    return {("orders", None): "pk", ("orders", "by_owner"): "owner"}.get((table, index))


def test_batches_transactions_and_queries_name_each_items_partition() -> None:
    """The request forms the pipeline does not use today are recorded per item as well."""
    key = {"pk": {"S": "A#1"}, "sk": {"S": "x"}}
    other = {"pk": {"S": "B#2"}, "sk": {"S": "y"}}

    assert iam_requests("dynamodb", "BatchGetItem", {"RequestItems": {"orders": {"Keys": [key, other]}}}, _schema) == {
        ("dynamodb:BatchGetItem", "A#1"),
        ("dynamodb:BatchGetItem", "B#2"),
    }
    writes = {"orders": [{"PutRequest": {"Item": {**key, "n": {"N": "1"}}}}, {"DeleteRequest": {"Key": other}}]}
    assert iam_requests("dynamodb", "BatchWriteItem", {"RequestItems": writes}, _schema) == {
        ("dynamodb:BatchWriteItem", "A#1"),
        ("dynamodb:BatchWriteItem", "B#2"),
    }
    gets = [{"Get": {"TableName": "orders", "Key": key}}, {"Get": {"TableName": "orders", "Key": other}}]
    assert iam_requests("dynamodb", "TransactGetItems", {"TransactItems": gets}, _schema) == {
        ("dynamodb:GetItem", "A#1"),
        ("dynamodb:GetItem", "B#2"),
    }
    checked = [{"ConditionCheck": {"TableName": "orders", "Key": key, "ConditionExpression": "attribute_exists(pk)"}}]
    assert iam_requests("dynamodb", "TransactWriteItems", {"TransactItems": checked}, _schema) == {
        ("dynamodb:ConditionCheckItem", "A#1")
    }


def test_a_query_names_the_partition_its_key_condition_tests_for_equality() -> None:
    def query(expression: str, **params: Any) -> set[tuple[str, str | None]]:
        values = {":p": {"S": "A#1"}, ":s": {"S": "2024"}, ":o": {"N": "42"}}
        request = {"TableName": "orders", "KeyConditionExpression": expression, "ExpressionAttributeValues": values}
        return iam_requests("dynamodb", "Query", {**request, **params}, _schema)

    assert query("sk >= :s AND pk = :p") == {("dynamodb:Query", "A#1")}
    assert query(":p = pk") == {("dynamodb:Query", "A#1")}
    # An index's partition key is the index's own; a number's value is its text.
    assert query("#o = :o AND begins_with(sk, :s)", IndexName="by_owner", ExpressionAttributeNames={"#o": "owner"}) == {
        ("dynamodb:Query", "42")
    }
    assert query("sk = :s") == {("dynamodb:Query", None)}  # no test on the partition key
    assert query("pk = :p", TableName="unknown") == {("dynamodb:Query", None)}  # no key schema


def test_a_binary_or_missing_partition_key_is_unknown() -> None:
    assert iam_requests("dynamodb", "GetItem", {"TableName": "orders", "Key": {"pk": {"B": b"\x01"}}}, _schema) == {
        ("dynamodb:GetItem", None)
    }
    assert iam_requests("dynamodb", "GetItem", {"TableName": "unknown", "Key": {"pk": {"S": "A#1"}}}, _schema) == {
        ("dynamodb:GetItem", None)
    }
    assert iam_requests("sns", "Publish", {"TopicArn": "arn"}, _schema) == {("sns:Publish", None)}
