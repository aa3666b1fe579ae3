"""The reconciler's metrics, straight to CloudWatch (PutMetricData) so that alarms evaluate it on
LocalStack too, which does not turn embedded-metric log lines into metrics."""

from __future__ import annotations

import boto3

NAMESPACE = "OrderSaga"
OLDEST_OPEN_ORDER_AGE = "OldestOpenOrderAge"  # seconds since the oldest open order was placed
ORDERS_NEEDING_ATTENTION = "OrdersNeedingAttention"  # orders parked for a person
STYLE_DIMENSION = "Style"


class CloudWatchMetrics:
    def __init__(self, style: str, client=None) -> None:
        self._client = client or boto3.client("cloudwatch")
        self._style = style

    def report(self, oldest_open_seconds: float, needing_attention: int) -> None:
        dimensions = [{"Name": STYLE_DIMENSION, "Value": self._style}]
        self._client.put_metric_data(
            Namespace=NAMESPACE,
            MetricData=[
                {
                    "MetricName": OLDEST_OPEN_ORDER_AGE,
                    "Dimensions": dimensions,
                    "Value": oldest_open_seconds,
                    "Unit": "Seconds",
                },
                {
                    "MetricName": ORDERS_NEEDING_ATTENTION,
                    "Dimensions": dimensions,
                    "Value": needing_attention,
                    "Unit": "Count",
                },
            ],
        )
