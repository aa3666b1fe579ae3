"""The LocalStack patches (saga_lambda_executor.patches): what the Step Functions caches keep, how
the stream poller reads and batches, and that they stay off on a LocalStack version they were not
written for."""

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from threading import Thread
from types import SimpleNamespace

import pytest

pytest.importorskip("localstack.services.stepfunctions", reason="needs .venv-localstack (localstack-core)")

from localstack.aws import connect
from localstack.services.events.target import LogsTargetSender
from localstack.services.lambda_.event_source_mapping.event_processor import EventProcessor
from localstack.services.lambda_.event_source_mapping.pollers.dynamodb_poller import DynamoDBPoller
from localstack.services.lambda_.invocation import version_manager
from localstack.services.stepfunctions.asl.component.common.path import result_path
from localstack.services.stepfunctions.asl.component.state.state_execution.state_task import (
    lambda_eval_utils,
)
from localstack.services.stepfunctions.asl.component.state.state_execution.state_task.credentials import (
    StateCredentials,
)
from localstack.services.stepfunctions.asl.parse.asl_parser import AmazonStateLanguageParser
from localstack.services.stepfunctions.asl.utils import json_path
from localstack.services.stepfunctions.backend import execution_worker
from localstack.services.stepfunctions.backend.execution_worker import ExecutionWorker
from localstack.utils import threads
from saga_lambda_executor import patches
from saga_lambda_executor.patches import streams

DEFINITION = json.dumps(
    {
        "StartAt": "Reserve",
        "States": {"Reserve": {"Type": "Pass", "Result": {"ok": True}, "ResultPath": "$.reserved", "End": True}},
    }
)


@pytest.fixture
def unpatched(monkeypatch):
    """The patched module attributes, restored after the test; boto_client_for counts its calls."""
    made = []

    def boto_client_for(service, region, state_credentials):
        made.append((service, region, state_credentials.role_arn))
        return object()

    monkeypatch.setattr(lambda_eval_utils, "boto_client_for", boto_client_for)
    monkeypatch.setattr(json_path, "parse", json_path.parse)
    monkeypatch.setattr(result_path, "parse", result_path.parse)
    monkeypatch.setattr(ExecutionWorker, "_get_evaluation_entrypoint", ExecutionWorker._get_evaluation_entrypoint)
    monkeypatch.setattr(DynamoDBPoller, "__init__", DynamoDBPoller.__init__)
    monkeypatch.setattr(DynamoDBPoller, "get_records", DynamoDBPoller.get_records)
    monkeypatch.setattr(LogsTargetSender, "send_event", LogsTargetSender.send_event)
    for name in ("record_cw_metric_invocation", "record_cw_metric_error"):
        monkeypatch.setattr(version_manager, name, getattr(version_manager, name))
    return made


def test_one_client_per_service_region_and_role(unpatched):
    assert patches.apply(patches.PINNED)
    get = lambda_eval_utils.boto_client_for
    role_a, role_b = (StateCredentials(role_arn=f"arn:aws:iam::000000000000:role/{n}") for n in "ab")
    first = get(service="lambda", region="us-east-1", state_credentials=role_a)
    assert get(service="lambda", region="us-east-1", state_credentials=role_a) is first
    assert get(service="lambda", region="us-east-1", state_credentials=role_b) is not first
    assert get(service="lambda", region="eu-west-1", state_credentials=role_a) is not first
    assert len(unpatched) == 3


def test_paths_are_parsed_once_and_still_evaluate(unpatched):
    assert patches.apply(patches.PINNED)
    assert json_path.parse("$.order.id") is json_path.parse("$.order.id")
    assert json_path.extract_json("$.order.id", {"order": {"id": "o-1"}}) == "o-1"
    assert result_path.parse("$.result") is result_path.parse("$.result")
    # ResultPath's update must not change the cached expression: two documents, two results.
    expr = result_path.parse("$.result")
    assert expr.update_or_create({"a": 1}, {"x": 1}) == {"a": 1, "result": {"x": 1}}
    assert expr.update_or_create({"b": 2}, {"y": 2}) == {"b": 2, "result": {"y": 2}}


def worker(definition: str) -> SimpleNamespace:
    """What _get_evaluation_entrypoint reads of an ExecutionWorker."""
    details = SimpleNamespace(state_machine_details=SimpleNamespace(definition=definition))
    return SimpleNamespace(_evaluation_details=details)


def test_a_definition_is_parsed_once_and_each_execution_gets_its_own_states(unpatched, monkeypatch):
    parsed = []
    original = AmazonStateLanguageParser.parse
    monkeypatch.setattr(AmazonStateLanguageParser, "parse", lambda d: parsed.append(d) or original(d))
    assert patches.apply(patches.PINNED)
    entry = ExecutionWorker._get_evaluation_entrypoint
    first, second = entry(worker(DEFINITION)), entry(worker(DEFINITION))
    assert parsed == [DEFINITION]
    # Same program, built anew: nothing an execution changes in its states is seen by the next.
    assert type(first) is type(second) and first is not second
    assert first.states.states["Reserve"] is not second.states.states["Reserve"]
    entry(worker(DEFINITION.replace("Reserve", "Charge")))
    assert len(parsed) == 2


class _Shard:
    """A DynamoDB stream client with one shard holding `records`; answers GetRecords as DynamoDB
    Local does (at most Limit records) and remembers the Limits asked for."""

    def __init__(self, records: list[dict]) -> None:
        self.records, self.limits = records, []

    def get_records(self, ShardIterator: str, Limit: int) -> dict:
        self.limits.append(Limit)
        taken, self.records = self.records[:Limit], self.records[Limit:]
        return {"Records": taken, "NextShardIterator": "next"}


class _Batches(EventProcessor):
    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def process_events_batch(self, input_events: list[dict]) -> None:
        self.batches.append([e["eventName"] for e in input_events])

    def generate_event_failure_context(self, abort_condition: str, **kwargs) -> dict:
        return {}


def stream_record(n: int, event_name: str) -> dict:
    image = {"orderId": {"S": f"o-{n}"}}
    dynamodb = {"ApproximateCreationDateTime": datetime.now(UTC), "Keys": image, "NewImage": image}
    return {"eventID": str(n), "eventName": event_name, "dynamodb": {**dynamodb, "SequenceNumber": str(n)}}


def test_the_stream_poller_reads_the_shard_and_batches_only_what_the_filter_lets_through(unpatched):
    assert patches.apply(patches.PINNED)
    # Each saga: its order inserted, then updated by every step; only inserts start a saga.
    records = [stream_record(n, "INSERT" if n % 4 == 0 else "MODIFY") for n in range(40)]
    shard, batches = _Shard(records), _Batches()
    poller = DynamoDBPoller(
        "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2026",
        source_parameters={
            "DynamoDBStreamParameters": {"BatchSize": 4, "StartingPosition": "TRIM_HORIZON"},
            "FilterCriteria": {"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT"]})}]},
        },
        source_client=shard,
        processor=batches,
    )
    poller.poll_events_from_shard("shard-1", "iterator-1")
    assert shard.limits == [streams.GET_RECORDS_LIMIT] and shard.records == []
    assert batches.batches == [["INSERT"] * 4, ["INSERT"] * 4, ["INSERT"] * 2]


class _Logs:
    """A CloudWatch Logs client holding streams of messages; `drop()` deletes the log group's
    streams, as deleting and creating the group again would."""

    class exceptions:
        class ResourceAlreadyExistsException(Exception):
            pass

        class ResourceNotFoundException(Exception):
            pass

    def __init__(self) -> None:
        self.streams: dict[str, list[str]] = {}
        self.created = 0

    def create_log_stream(self, logGroupName: str, logStreamName: str) -> None:
        if logStreamName in self.streams:
            raise self.exceptions.ResourceAlreadyExistsException(logStreamName)
        self.streams[logStreamName] = []
        self.created += 1

    def put_log_events(self, logGroupName: str, logStreamName: str, logEvents: list[dict]) -> None:
        if logStreamName not in self.streams:
            raise self.exceptions.ResourceNotFoundException(logStreamName)
        self.streams[logStreamName] += [e["message"] for e in logEvents]

    def drop(self) -> None:
        self.streams.clear()


def tap_sender(logs: _Logs) -> LogsTargetSender:
    sender = LogsTargetSender.__new__(LogsTargetSender)  # what send_event reads of a sender
    sender.target = {"Id": "tap", "Arn": "arn:aws:logs:us-east-1:000000000000:log-group:/saga/events"}
    sender._client = logs
    return sender


def test_the_event_tap_writes_every_event_to_one_stream_of_its_own(unpatched):
    assert patches.apply(patches.PINNED)
    logs = _Logs()
    sender = tap_sender(logs)
    for n in range(5):
        sender.send_event({"detail": {"n": n}}, trace_header=None)
    [(stream, messages)] = logs.streams.items()
    assert stream.startswith("tap-") and [json.loads(m)["detail"]["n"] for m in messages] == list(range(5))
    logs.drop()
    sender.send_event({"detail": {"n": 5}}, trace_header=None)
    assert logs.created == 2 and [json.loads(m)["detail"]["n"] for m in logs.streams[stream]] == [5]


@pytest.fixture
def tmp_threads():
    """The modules holding LocalStack's TMP_THREADS list, given it back after the test."""
    original = threads.TMP_THREADS
    holders = [m for m in list(sys.modules.values()) if getattr(m, "TMP_THREADS", None) is original]
    yield holders
    for module in holders:
        module.TMP_THREADS = original


def memory_mappings() -> int:
    return len(Path(f"/proc/{os.getpid()}/maps").read_text().splitlines())


def test_threads_that_ended_are_not_kept_with_their_stacks(unpatched, tmp_threads):
    assert patches.apply(patches.PINNED)
    assert all(m.TMP_THREADS is threads.TMP_THREADS for m in tmp_threads)
    assert execution_worker.TMP_THREADS is threads.TMP_THREADS  # Step Functions appends its threads
    pool = ThreadPoolExecutor(1)  # LocalStack appends its thread pools too: they stay
    execution_worker.TMP_THREADS.append(pool)
    before = memory_mappings()
    for _ in range(1000):  # as Step Functions does: appended, then started, never joined
        thread = Thread(target=lambda: None, daemon=True)
        execution_worker.TMP_THREADS.append(thread)
        thread.start()
    del thread
    deadline = time.monotonic() + 10
    while any(isinstance(t, Thread) and t.is_alive() for t in threads.TMP_THREADS) and time.monotonic() < deadline:
        time.sleep(0.01)
    execution_worker.TMP_THREADS.append(Thread(target=lambda: None))  # not started yet: kept
    assert len(threads.TMP_THREADS) < 300 and pool in threads.TMP_THREADS
    # Kept, the 1000 ended threads would hold two mappings each (stack and guard page).
    assert memory_mappings() - before < 600


def test_lambda_metrics_are_counted_per_function_and_published_together(unpatched, monkeypatch):
    published: list[tuple[str, str, dict]] = []

    class CloudWatch:
        def __init__(self, account: str, region: str) -> None:
            self.place = (account, region)

        def put_metric_data(self, Namespace: str, MetricData: list[dict]) -> None:
            published.extend((*self.place, {**d, "Namespace": Namespace}) for d in MetricData)

    monkeypatch.setattr(
        connect,
        "connect_to",
        lambda aws_access_key_id, region_name: SimpleNamespace(cloudwatch=CloudWatch(aws_access_key_id, region_name)),
    )
    assert patches.apply(patches.PINNED)
    for _ in range(5):
        version_manager.record_cw_metric_invocation(
            function_name="a", account_id="000000000000", region_name="us-east-1"
        )
    for _ in range(2):
        version_manager.record_cw_metric_error(function_name="b", account_id="000000000000", region_name="us-east-1")
    version_manager.record_cw_metric_invocation.__self__.flush()
    counts: dict[tuple, float] = {}
    for account, region, datum in published:
        assert (account, region, datum["Namespace"], datum["Values"]) == (
            "000000000000",
            "us-east-1",
            "AWS/Lambda",
            [1.0],
        )
        key = (datum["Dimensions"][0]["Value"], datum["MetricName"])
        counts[key] = counts.get(key, 0) + sum(datum["Counts"])
    assert counts == {("a", "Invocations"): 5, ("b", "Invocations"): 2, ("b", "Errors"): 2}


def patched_attributes() -> tuple:
    return (
        lambda_eval_utils.boto_client_for,
        json_path.parse,
        result_path.parse,
        ExecutionWorker._get_evaluation_entrypoint,
        DynamoDBPoller.__init__,
        DynamoDBPoller.get_records,
        LogsTargetSender.send_event,
        version_manager.record_cw_metric_invocation,
        version_manager.record_cw_metric_error,
    )


def test_applying_twice_wraps_once(unpatched):
    patches.apply(patches.PINNED)
    once = patched_attributes()
    patches.apply(patches.PINNED)
    assert patched_attributes() == once


def test_other_localstack_versions_are_left_alone(unpatched):
    original = lambda_eval_utils.boto_client_for
    assert not patches.apply("2099.1.0")
    assert lambda_eval_utils.boto_client_for is original


def test_the_pinned_version_is_the_installed_one():
    # The pin in tools/dev/setup_localstack.sh moved: measure again, then move PINNED with it.
    from importlib import metadata

    assert metadata.version("localstack-core") == patches.PINNED
