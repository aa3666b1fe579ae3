"""The reconciler's metric, straight to CloudWatch (PutMetricData) so that alarms evaluate it on
LocalStack too, which does not turn embedded-metric log lines into metrics."""

from __future__ import annotations

import boto3

NAMESPACE = "OrderSaga"
OLDEST_OPEN_ORDER_AGE = "OldestOpenOrderAge"  # seconds since the stalest open order last moved
STYLE_DIMENSION = "Style"


class CloudWatchMetrics:
    def __init__(self, style: str, client=None) -> None:
        self._client = client or boto3.client("cloudwatch")
        self._style = style

    def oldest_open_order_age(self, seconds: float) -> None:
        self._client.put_metric_data(
            Namespace=NAMESPACE,
            MetricData=[
                {
                    "MetricName": OLDEST_OPEN_ORDER_AGE,
                    "Dimensions": [{"Name": STYLE_DIMENSION, "Value": self._style}],
                    "Value": seconds,
                    "Unit": "Seconds",
                }
            ],
        )
