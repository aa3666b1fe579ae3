"""Lambda invocation payloads and context, shaped as API Gateway and EventBridge send them."""

import json
import uuid
from dataclasses import dataclass


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "req-1"


def api_request(method: str, path: str, body: str | None = None, resource: str | None = None):
    path_parameters = None
    if resource and "{orderId}" in resource:
        path_parameters = {"orderId": path.rsplit("/", 1)[-1]}
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "accountId": "123456789012",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def bus_event(detail_type: str, source: str, detail: dict) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2026-11-27T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": json.loads(json.dumps(detail)),
    }


def stream_event(*images: dict, event_name: str = "INSERT") -> dict:
    """A DynamoDB Streams batch as the event source mapping sends it: one record per image."""
    from boto3.dynamodb.types import TypeSerializer

    serialize = TypeSerializer().serialize
    return {
        "Records": [
            {
                "eventID": str(uuid.uuid4()),
                "eventName": event_name,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "Keys": {"orderId": {"S": image["orderId"]}},
                    "NewImage": {k: serialize(v) for k, v in image.items()},
                    "SequenceNumber": str(100 + n),
                    "SizeBytes": 100,
                    "StreamViewType": "NEW_IMAGE",
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/x",
            }
            for n, image in enumerate(images)
        ]
    }
