"""Lambda's Invocations and Errors metrics, counted and published once a second.

LocalStack's Lambda service publishes the `AWS/Lambda` Invocations and Errors metrics from a new
thread per invocation, each a PutMetricData and a SQLite commit under one lock. With LocalStack's
process at its CPU limit the commits fell behind the invocations and the waiting threads piled up
by the thousand. Here the counts are added up per function and published once a second by one
thread (`Values`/`Counts`: the same samples, so Sum and SampleCount are unchanged; the
ReconcilerErrors alarm reads Errors).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

LOG = logging.getLogger(__name__)


class _LambdaMetrics:
    """Invocations and Errors of each function, counted, and published once every FLUSH_S."""

    FLUSH_S = 1.0
    MAX_DATA = 1000  # PutMetricData's limit per call

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, str, str], int] = {}
        threading.Thread(target=self._run, name="saga-lambda-metrics", daemon=True).start()

    def invocation(self, function_name: str, account_id: str, region_name: str) -> None:
        self._add(account_id, region_name, function_name, "Invocations")

    def error(self, function_name: str, account_id: str, region_name: str) -> None:
        self._add(account_id, region_name, function_name, "Invocations")
        self._add(account_id, region_name, function_name, "Errors")

    def _add(self, account_id: str, region_name: str, function_name: str, metric: str) -> None:
        key = (account_id, region_name, function_name, metric)
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1

    def _run(self) -> None:
        while True:
            time.sleep(self.FLUSH_S)
            try:
                self.flush()
            except Exception:  # the next flush tries again with what came since
                LOG.exception("saga executor: publishing Lambda metrics failed")

    def flush(self) -> None:
        from localstack.aws.connect import connect_to

        now = datetime.now(UTC)
        with self._lock:
            counts, self._counts = self._counts, {}
        by_place: dict[tuple[str, str], list[dict]] = {}
        for (account, region, function_name, metric), count in counts.items():
            by_place.setdefault((account, region), []).append(
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": function_name}],
                    "Timestamp": now,
                    "Values": [1.0],
                    "Counts": [float(count)],
                }
            )
        for (account, region), data in by_place.items():
            client = connect_to(aws_access_key_id=account, region_name=region).cloudwatch
            for start in range(0, len(data), self.MAX_DATA):
                client.put_metric_data(Namespace="AWS/Lambda", MetricData=data[start : start + self.MAX_DATA])


def apply() -> None:
    from localstack.services.lambda_.invocation import version_manager

    if isinstance(getattr(version_manager.record_cw_metric_invocation, "__self__", None), _LambdaMetrics):
        return
    metrics = _LambdaMetrics()
    version_manager.record_cw_metric_invocation = metrics.invocation
    version_manager.record_cw_metric_error = metrics.error
