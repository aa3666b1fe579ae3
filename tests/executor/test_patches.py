"""The LocalStack patches (saga_lambda_executor.patches): what the Step Functions caches keep, how
the stream poller reads and batches, and that they stay off on a LocalStack version they were not
written for."""

import contextlib
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from threading import Thread
from types import SimpleNamespace

import pytest

pytest.importorskip("localstack.services.stepfunctions", reason="needs .venv-localstack (localstack-core)")

from localstack.aws import connect
from localstack.aws.api.lambda_ import ResourceNotFoundException, TooManyRequestsException
from localstack.services.apigateway.next_gen.execute_api.integrations.aws import RestApiAwsProxyIntegration
from localstack.services.events import provider as events_provider
from localstack.services.events.models import EventBus, events_stores
from localstack.services.events.target import LambdaTargetSender, LogsTargetSender
from localstack.services.lambda_ import api_utils
from localstack.services.lambda_.event_source_mapping.esm_worker_factory import EsmWorkerFactory
from localstack.services.lambda_.event_source_mapping.event_processor import BatchFailureError, EventProcessor
from localstack.services.lambda_.event_source_mapping.pollers.dynamodb_poller import DynamoDBPoller
from localstack.services.lambda_.event_source_mapping.pollers.stream_poller import StreamPoller
from localstack.services.lambda_.event_source_mapping.senders.lambda_sender import LambdaSender
from localstack.services.lambda_.invocation import event_manager, version_manager
from localstack.services.lambda_.invocation.logs import QUEUE_SHUTDOWN, LogHandler, LogItem
from localstack.services.logs.provider import get_moto_logs_backend
from localstack.services.stepfunctions.asl.component.common.path import result_path
from localstack.services.stepfunctions.asl.component.eval_component import EvalComponent
from localstack.services.stepfunctions.asl.component.state.state_execution.state_task import (
    lambda_eval_utils,
)
from localstack.services.stepfunctions.asl.component.state.state_execution.state_task.credentials import (
    StateCredentials,
)
from localstack.services.stepfunctions.asl.component.state.state_execution.state_task.service import (
    state_task_service_events,
)
from localstack.services.stepfunctions.asl.eval.event.logging import CloudWatchLoggingSession
from localstack.services.stepfunctions.asl.parse.asl_parser import AmazonStateLanguageParser
from localstack.services.stepfunctions.asl.utils import json_path
from localstack.services.stepfunctions.backend import execution_worker
from localstack.services.stepfunctions.backend.execution import Execution
from localstack.services.stepfunctions.backend.execution_worker import ExecutionWorker
from localstack.utils import threads
from saga_lambda_executor import patches
from saga_lambda_executor.patches import async_events, direct_invoke, rule_workers, stream_lanes, streams

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
    monkeypatch.setattr(state_task_service_events, "boto_client_for", boto_client_for)
    monkeypatch.setattr(json_path, "parse", json_path.parse)
    monkeypatch.setattr(result_path, "parse", result_path.parse)
    monkeypatch.setattr(ExecutionWorker, "_get_evaluation_entrypoint", ExecutionWorker._get_evaluation_entrypoint)
    monkeypatch.setattr(DynamoDBPoller, "__init__", DynamoDBPoller.__init__)
    monkeypatch.setattr(DynamoDBPoller, "get_records", DynamoDBPoller.get_records)
    monkeypatch.setattr(StreamPoller, "forward_events_to_target", StreamPoller.forward_events_to_target)
    monkeypatch.setattr(EsmWorkerFactory, "get_esm_worker", EsmWorkerFactory.get_esm_worker)
    monkeypatch.setattr(LogsTargetSender, "send_event", LogsTargetSender.send_event)
    monkeypatch.setattr(LogHandler, "run_log_loop", LogHandler.run_log_loop)
    monkeypatch.setattr(CloudWatchLoggingSession, "_put_events", CloudWatchLoggingSession._put_events)
    monkeypatch.setattr(event_manager.Poller, "run", event_manager.Poller.run)
    monkeypatch.setattr(event_manager.Poller, "stop", event_manager.Poller.stop)
    monkeypatch.setattr(event_manager.Poller, "__init__", event_manager.Poller.__init__)
    monkeypatch.setattr(LambdaSender, "__init__", LambdaSender.__init__)
    monkeypatch.setattr(LambdaTargetSender, "send_event", LambdaTargetSender.send_event)
    monkeypatch.setattr(RestApiAwsProxyIntegration, "call_lambda", RestApiAwsProxyIntegration.__dict__["call_lambda"])
    monkeypatch.setattr(events_provider, "start_worker_thread", events_provider.start_worker_thread)
    monkeypatch.setattr(
        Execution, "publish_execution_status_change_event", Execution.publish_execution_status_change_event
    )
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
    events_client = state_task_service_events.boto_client_for  # service integrations: the same cache
    assert events_client(service="lambda", region="us-east-1", state_credentials=role_a) is first
    assert events_client(service="events", region="us-east-1", state_credentials=role_a) is not first
    assert len(unpatched) == 4


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


PARALLEL = json.dumps(
    {
        "StartAt": "Both",
        "States": {"Both": {"Type": "Parallel", "Branches": [json.loads(DEFINITION)], "End": True}},
    }
)


@pytest.fixture
def parsed(unpatched, monkeypatch) -> list[str]:
    """The definitions ANTLR parsed, in order, with the patches applied."""
    seen: list[str] = []
    original = AmazonStateLanguageParser.parse
    monkeypatch.setattr(AmazonStateLanguageParser, "parse", lambda d: seen.append(d) or original(d))
    assert patches.apply(patches.PINNED)
    return seen


def components(program) -> list[EvalComponent]:
    found, waiting, seen = [], [program], set()
    while waiting:
        item = waiting.pop()
        if id(item) not in seen:
            seen.add(id(item))
            if isinstance(item, EvalComponent):
                found.append(item)
                waiting += vars(item).values()
            elif isinstance(item, list | dict):
                waiting += item.values() if isinstance(item, dict) else item
    return found


def test_a_definition_of_tasks_and_ends_is_built_once_for_every_execution(parsed):
    entry = ExecutionWorker._get_evaluation_entrypoint
    first = entry(worker(DEFINITION))
    assert entry(worker(DEFINITION)) is first and parsed == [DEFINITION]
    # Each component's heap key (where an execution keeps its attempt counts) is drawn up front.
    assert all(c._EvalComponent__heap_key is not None for c in components(first))
    entry(worker(DEFINITION.replace("Reserve", "Charge")))
    assert len(parsed) == 2


def test_a_definition_with_a_parallel_state_gets_its_own_states_per_execution(parsed):
    entry = ExecutionWorker._get_evaluation_entrypoint
    first, second = entry(worker(PARALLEL)), entry(worker(PARALLEL))
    assert parsed == [PARALLEL]
    assert type(first) is type(second) and first is not second
    assert first.states.states["Both"] is not second.states.states["Both"]


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


class _Starts(EventProcessor):
    """The relay: records (event name, order id) of each batch it took; the first batch holding
    `failing` fails as a whole."""

    def __init__(self, failing: str) -> None:
        self.taken: list[tuple[str, str]] = []
        self.failing, self.failed = failing, 0
        self.lock = threading.Lock()

    def process_events_batch(self, input_events: list[dict]) -> None:
        batch = [(e["eventName"], e["dynamodb"]["Keys"]["orderId"]["S"]) for e in input_events]
        with self.lock:
            if not self.failed and any(order == self.failing for _, order in batch):
                self.failed += 1
                raise BatchFailureError(error={"errorMessage": "start failed"})
            self.taken += batch

    def generate_event_failure_context(self, abort_condition: str, **kwargs) -> dict:
        return {}


def poller_of(records: list[dict], processor: EventProcessor, factor: int) -> DynamoDBPoller:
    """A poller of a mapping with ParallelizationFactor `factor`, made as LocalStack makes it."""
    poller = DynamoDBPoller(
        "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2026",
        source_parameters={"DynamoDBStreamParameters": {"BatchSize": 2, "StartingPosition": "TRIM_HORIZON"}},
        source_client=_Shard(records),
        processor=processor,
    )
    factory = SimpleNamespace(esm_config={"ParallelizationFactor": factor})
    stream_lanes._telling_pollers_their_factor(lambda _: SimpleNamespace(poller=poller))(factory)
    return poller


def wait_for(condition, deadline_s: float = 10.0) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline, "not reached before the deadline"
        time.sleep(0.01)


def test_a_failing_batch_holds_back_only_its_lane_and_each_key_keeps_its_order(unpatched):
    assert patches.apply(patches.PINNED)
    records = [stream_record(n, "INSERT") for n in range(12)] + [stream_record(5, "MODIFY")]
    starts = _Starts(failing="o-3")
    poller = poller_of(records, starts, factor=4)
    try:
        poller.poll_events_from_shard("shard-1", "iterator-1")
        wait_for(lambda: len(starts.taken) >= len(records))
    finally:
        poller.close()
    orders = [order for _, order in starts.taken]
    assert starts.failed == 1 and sorted(set(orders)) == sorted(f"o-{n}" for n in range(12))
    assert starts.taken.index(("INSERT", "o-5")) < starts.taken.index(("MODIFY", "o-5"))
    # o-3's batch waits for the retry's backoff; the other lanes went on meanwhile.
    lane = stream_lanes._lane_of(records[3], 4)
    others = [n for n in range(12) if stream_lanes._lane_of(records[n], 4) != lane]
    assert others and all(orders.index(f"o-{n}") < orders.index("o-3") for n in others)


def test_without_a_parallelization_factor_batches_go_one_after_another(unpatched):
    assert patches.apply(patches.PINNED)
    starts = _Starts(failing="none")
    poller = poller_of([stream_record(n, "INSERT") for n in range(5)], starts, factor=1)
    poller.poll_events_from_shard("shard-1", "iterator-1")  # forwarded before it returns
    assert [order for _, order in starts.taken] == [f"o-{n}" for n in range(5)]


ACCOUNT, REGION = "000000000000", "us-east-1"


class _Logs:
    """LocalStack's logs backend (moto's) of the test account, one log group of it watched: the
    messages per stream and the size of each write; `drop()` deletes the group, `hold()` makes the
    next write wait until `release()`."""

    def __init__(self, monkeypatch, group: str) -> None:
        self.group, self.puts = group, []
        self.backend = get_moto_logs_backend(ACCOUNT, REGION)
        self.backend.groups.pop(group, None)
        self._gate = threading.Event()
        self._gate.set()
        put = self.backend.put_log_events

        def put_log_events(group: str, stream: str, events: list[dict]):
            self._gate.wait(10)
            answer = put(group, stream, events)
            self.puts.append(len(events))
            return answer

        monkeypatch.setattr(self.backend, "put_log_events", put_log_events)

    @property
    def streams(self) -> dict[str, list[str]]:
        group = self.backend.groups.get(self.group)
        return {} if group is None else {n: [e.message for e in s.events] for n, s in group.streams.items()}

    def drop(self) -> None:
        self.backend.groups.pop(self.group)

    def hold(self) -> None:
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def messages(self) -> int:
        return sum(len(m) for m in self.streams.values())


class _ApiClient:
    """A CloudWatch Logs client that records PutLogEvents."""

    class exceptions:
        class ResourceNotFoundException(Exception):
            pass

    def __init__(self) -> None:
        self.puts: list[tuple[str, str, int]] = []

    def put_log_events(self, logGroupName: str, logStreamName: str, logEvents: list[dict]) -> None:
        self.puts.append((logGroupName, logStreamName, len(logEvents)))


def tap_sender(client=None) -> LogsTargetSender:
    sender = LogsTargetSender.__new__(LogsTargetSender)  # what send_event reads of a sender
    sender.target = {"Id": "tap", "Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/saga/events"}
    sender._client = client or _ApiClient()
    return sender


def test_the_event_tap_writes_every_event_to_one_stream_of_its_own(unpatched, monkeypatch):
    assert patches.apply(patches.PINNED)
    logs = _Logs(monkeypatch, "/saga/events")
    sender = tap_sender()
    for n in range(5):
        sender.send_event({"detail": {"n": n}}, trace_header=None)
    wait_for(lambda: logs.messages() == 5)
    [(stream, messages)] = logs.streams.items()
    assert stream.startswith("tap-") and [json.loads(m)["detail"]["n"] for m in messages] == list(range(5))
    logs.drop()  # the group and its stream are created again by the next write
    sender.send_event({"detail": {"n": 5}}, trace_header=None)
    wait_for(lambda: logs.messages() == 1)
    assert [json.loads(m)["detail"]["n"] for m in logs.streams[stream]] == [5]


def test_events_that_wait_for_a_write_go_out_together(unpatched, monkeypatch):
    assert patches.apply(patches.PINNED)
    logs = _Logs(monkeypatch, "/saga/events")
    sender = tap_sender()
    sender.send_event({"detail": {"n": 0}}, trace_header=None)
    wait_for(lambda: logs.messages() == 1)
    logs.hold()
    for n in range(1, 11):  # the first of these is being written while the others queue
        sender.send_event({"detail": {"n": n}}, trace_header=None)
    logs.release()
    wait_for(lambda: logs.messages() == 11)
    [messages] = logs.streams.values()
    assert [json.loads(m)["detail"]["n"] for m in messages] == list(range(11))
    assert len(logs.puts) <= 3 and logs.puts[0] == 1  # not one write per event


def lambda_log_handler(monkeypatch, client) -> LogHandler:
    monkeypatch.setattr(
        connect, "connect_to", SimpleNamespace(with_assumed_role=lambda **_: SimpleNamespace(logs=client))
    )
    return LogHandler(role_arn=f"arn:aws:iam::{ACCOUNT}:role/fn", region=REGION)


def test_lambda_output_is_shipped_with_one_write_per_log_stream(unpatched, monkeypatch):
    assert patches.apply(patches.PINNED)
    logs, client = _Logs(monkeypatch, "/aws/lambda/fn"), _ApiClient()
    handler = lambda_log_handler(monkeypatch, client)
    for n in range(3):
        handler.add_logs(LogItem("/aws/lambda/fn", "stream-a", f"START {n}\n\nline {n}\n"))
    handler.add_logs(LogItem("/aws/lambda/fn", "stream-b", "START 3\n"))
    handler.log_queue.put(QUEUE_SHUTDOWN)
    handler.run_log_loop()  # ships what was queued before the shutdown, then returns
    assert logs.streams == {
        "stream-a": ["START 0\n", "line 0\n", "START 1\n", "line 1\n", "START 2\n", "line 2\n"],
        "stream-b": ["START 3\n"],
    }
    assert sorted(logs.puts) == [1, 6] and client.puts == []  # in-process, not through the API


def test_lines_of_an_account_with_metric_filters_go_through_the_api(unpatched, monkeypatch):
    assert patches.apply(patches.PINNED)
    logs, client = _Logs(monkeypatch, "/aws/lambda/fn"), _ApiClient()
    monkeypatch.setattr(logs.backend.filters, "metric_filters", [{"filterName": "errors", "filterPattern": "ERROR"}])
    handler = lambda_log_handler(monkeypatch, client)
    handler.add_logs(LogItem("/aws/lambda/fn", "stream-a", "START 0\nERROR boom\n"))
    handler.log_queue.put(QUEUE_SHUTDOWN)
    handler.run_log_loop()
    assert client.puts == [("/aws/lambda/fn", "stream-a", 2)] and logs.puts == []


def test_a_state_machine_execution_log_is_written_in_process(unpatched, monkeypatch):
    assert patches.apply(patches.PINNED)
    logs, client = _Logs(monkeypatch, "/saga/states"), _ApiClient()
    session = CloudWatchLoggingSession.__new__(CloudWatchLoggingSession)  # what _put_events reads
    session.configuration = SimpleNamespace(
        log_account_id=ACCOUNT, log_region=REGION, log_group_name="/saga/states", log_stream_name="states/sm"
    )
    session._logs_client = client
    event = {"timestamp": int(time.time() * 1000), "message": "ExecutionFailed"}
    assert session._put_events([event]) is False  # no group yet: the session sets up its stream
    logs.backend.ensure_log_group("/saga/states")
    logs.backend.ensure_log_stream("/saga/states", "states/sm")
    assert session._put_events([event]) is True
    assert logs.streams == {"states/sm": ["ExecutionFailed"]} and client.puts == []


def execution_in(account_id: str) -> Execution:
    execution = Execution.__new__(Execution)  # what the publishing reads of an execution
    execution.account_id, execution.region_name = account_id, REGION
    return execution


def test_status_changes_are_published_only_where_the_default_bus_can_receive_them(unpatched, monkeypatch):
    published = []
    monkeypatch.setattr(Execution, "publish_execution_status_change_event", published.append)
    assert patches.apply(patches.PINNED)
    account = "111122223333"
    store = events_stores[account][REGION]
    store.event_buses.pop("default", None)
    execution_in(account).publish_execution_status_change_event()
    bus = EventBus(name="default", region=REGION, account_id=account)
    store.event_buses["default"] = bus
    execution_in(account).publish_execution_status_change_event()
    bus.rules["every-minute"] = SimpleNamespace(event_pattern=None)  # a schedule: it never receives events
    execution_in(account).publish_execution_status_change_event()
    assert published == []  # no default bus, then a default bus with no rule for events nor archive
    bus.rules["on-status"] = SimpleNamespace(event_pattern='{"source": ["aws.states"]}')
    execution_in(account).publish_execution_status_change_event()
    del bus.rules["on-status"]
    store.archives["all"] = SimpleNamespace(event_source_arn=bus.arn)
    execution_in(account).publish_execution_status_change_event()
    assert len(published) == 2


class _EventQueue:
    """The internal queue of a function's asynchronous events: each receive hands out `batches`
    in turn (after running `during`, as something happening while the receive waits)."""

    def __init__(self, batches: list[list[str]], during=lambda: None) -> None:
        self.batches, self.during = batches, during

    def receive_message(self, **_) -> dict:
        self.during()
        batch = self.batches.pop(0) if self.batches else []
        if not self.batches:
            time.sleep(0.01)
        return {"Messages": [{"Body": body} for body in batch]}


def event_poller(monkeypatch, queue: _EventQueue, workers: int = 2) -> tuple[event_manager.Poller, list[str]]:
    """A function version's poller of asynchronous events, recording the messages it handles."""
    assert patches.apply(patches.PINNED)
    monkeypatch.setattr(event_manager, "get_sqs_client", lambda *_, **__: queue)
    poller = event_manager.Poller.__new__(event_manager.Poller)
    function_version = SimpleNamespace(config=SimpleNamespace(timeout=10))
    poller.version_manager = SimpleNamespace(function_version=function_version, function_arn="fn")
    poller.event_queue_url, poller._shutdown_event = "queue", threading.Event()
    poller.invoker_pool = ThreadPoolExecutor(max_workers=workers)
    handled: list[str] = []
    poller.handle_message = lambda message: handled.append(message["Body"])
    return poller, handled


def test_events_received_as_the_function_is_updated_are_still_handled(unpatched, monkeypatch):
    queue = _EventQueue([["e1", "e2"]])
    poller, handled = event_poller(monkeypatch, queue)
    queue.during = poller.stop  # the update stops the poller while its receive waits
    poller.run()
    wait_for(lambda: sorted(handled) == ["e1", "e2"])


def test_events_waiting_for_an_invoker_are_handled_after_the_poller_stops(unpatched, monkeypatch):
    poller, handled = event_poller(monkeypatch, _EventQueue([]), workers=1)
    busy = threading.Event()
    poller.invoker_pool.submit(busy.wait, 10)  # the one invoker is busy: the next events queue
    for body in ("e1", "e2", "e3"):
        async_events._handle(poller, {"Body": body})
    poller.stop()
    busy.set()
    wait_for(lambda: handled == ["e1", "e2", "e3"])


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
        LogHandler.run_log_loop,
        StreamPoller.forward_events_to_target,
        EsmWorkerFactory.get_esm_worker,
        state_task_service_events.boto_client_for,
        version_manager.record_cw_metric_invocation,
        version_manager.record_cw_metric_error,
        RestApiAwsProxyIntegration.call_lambda,
        events_provider.start_worker_thread,
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


FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:reserve"


class _LambdaProvider:
    """LocalStack's Lambda provider as DirectInvoke calls it: records each call's context and
    arguments, answers `answer` (or raises `error`)."""

    def __init__(self, answer: dict | None = None, error: Exception | None = None) -> None:
        self.calls: list[tuple] = []
        self.answer, self.error = answer or {"StatusCode": 200, "Payload": b'{"ok": true}'}, error

    def invoke(self, context, function_name, invocation_type, log_type, client_context, payload, qualifier):
        # What the provider reads of the context first, with LocalStack's own helpers.
        assert api_utils.get_account_and_region(function_name, context) == (ACCOUNT, REGION)
        assert api_utils.get_name_and_qualifier(function_name, qualifier, context) == ("reserve", qualifier)
        assert context.request.user_agent.string
        self.calls.append((context, function_name, invocation_type, qualifier, payload.read()))
        if self.error is not None:
            raise self.error
        return dict(self.answer)


@pytest.fixture
def lambda_client():
    """A real boto3 Lambda client (never sends: what is not served in-process is recorded)."""
    import boto3

    client = boto3.client("lambda", region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test")
    client.sent = []
    client.meta.events.register_first("before-send.*.*", lambda request, **_: client.sent.append(request.url) or _Ok())
    return client


class _Ok:
    status_code, headers, content, raw = 200, {}, b"", None


def test_an_invoke_by_arn_is_handed_to_the_lambda_provider(monkeypatch, lambda_client):
    provider = _LambdaProvider({"StatusCode": 200, "Payload": b'{"ok": true}', "FunctionError": "Unhandled"})
    monkeypatch.setattr(direct_invoke, "_provider", lambda: provider)
    client = direct_invoke.direct(lambda_client).custom_headers(
        {"X-Amz-Request-Id": "req-1", "X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}
    )
    answer = client.invoke(FunctionName=FUNCTION_ARN, Payload='{"orderId": "o-1"}', InvocationType="RequestResponse")
    assert json.loads(answer["Payload"].read()) == {"ok": True} and answer["FunctionError"] == "Unhandled"
    [(context, name, invocation_type, qualifier, payload)] = provider.calls
    assert (name, invocation_type, qualifier, payload) == (FUNCTION_ARN, "RequestResponse", None, b'{"orderId": "o-1"}')
    assert context.request_id == "req-1"  # an asynchronous event keeps its request id across retries
    assert answer["ResponseMetadata"]["RequestId"] == "req-1" and answer["StatusCode"] == 200
    assert context.trace_context["aws_trace_header"].root == "1-5759e988-bd862e3fe1be46a994272793"
    assert lambda_client.sent == []  # nothing went through the client


def test_the_providers_errors_are_the_clients_exceptions(monkeypatch, lambda_client):
    provider = _LambdaProvider(error=TooManyRequestsException("Rate exceeded"))
    monkeypatch.setattr(direct_invoke, "_provider", lambda: provider)
    client = direct_invoke.direct(lambda_client)
    with pytest.raises(lambda_client.exceptions.TooManyRequestsException) as raised:
        client.invoke(FunctionName=FUNCTION_ARN, Payload=b"{}")
    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    provider.error = RuntimeError("environment gone")
    with pytest.raises(lambda_client.exceptions.ClientError) as raised:
        client.invoke(FunctionName=FUNCTION_ARN, Payload=b"{}")
    assert raised.value.response["Error"]["Code"] == "ServiceException"


def test_an_invoke_by_name_or_with_other_parameters_goes_through_the_client(monkeypatch, lambda_client):
    provider = _LambdaProvider()
    monkeypatch.setattr(direct_invoke, "_provider", lambda: provider)
    client = direct_invoke.direct(lambda_client)
    with contextlib.suppress(Exception):  # the recorded request gets no real answer
        client.invoke(FunctionName="reserve", Payload=b"{}")
    with contextlib.suppress(Exception):
        client.invoke(FunctionName=FUNCTION_ARN, Payload=b"{}", TenantId="t-1")
    assert provider.calls == [] and len(lambda_client.sent) == 2
    assert direct_invoke.direct(client) is client  # wrapped once


def test_localstacks_lambda_callers_get_clients_that_invoke_in_process(unpatched, monkeypatch, lambda_client):
    assert patches.apply(patches.PINNED)
    provider = _LambdaProvider({"StatusCode": 202})
    monkeypatch.setattr(direct_invoke, "_provider", lambda: provider)
    sender = LambdaSender(FUNCTION_ARN, target_client=lambda_client)
    assert isinstance(sender.target_client, direct_invoke.DirectInvoke)
    target = LambdaTargetSender.__new__(LambdaTargetSender)  # what send_event reads of a target
    target.target, target._client = {"Arn": FUNCTION_ARN}, lambda_client
    target.send_event({"detail": {"n": 1}}, trace_header=None)
    [(_, name, invocation_type, _, payload)] = provider.calls
    assert (name, invocation_type, json.loads(payload)) == (FUNCTION_ARN, "Event", {"detail": {"n": 1}})
    assert lambda_client.sent == []


def test_api_gateways_lambda_proxy_invokes_in_process(unpatched, monkeypatch):
    assert patches.apply(patches.PINNED)
    provider = _LambdaProvider({"StatusCode": 200, "Payload": b'{"statusCode": 201}'})
    monkeypatch.setattr(direct_invoke, "_provider", lambda: provider)
    source = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:api1/prod/POST/orders"
    answer = RestApiAwsProxyIntegration.call_lambda(
        function_arn=FUNCTION_ARN, event=b'{"body": "{}"}', source_arn=source
    )
    assert answer == b'{"statusCode": 201}'
    [(_, name, invocation_type, _, payload)] = provider.calls
    assert (name, invocation_type, payload) == (FUNCTION_ARN, "RequestResponse", b'{"body": "{}"}')
    # An error is the client's, as the integration expects (it answers 502 for a ClientError).
    provider.error = ResourceNotFoundException("Function not found")
    with pytest.raises(connect.connect_to().lambda_.exceptions.ResourceNotFoundException):
        RestApiAwsProxyIntegration.call_lambda(function_arn=FUNCTION_ARN, event=b"{}", source_arn=source)


def test_an_events_rules_run_on_the_pool_and_other_work_on_its_own_thread(unpatched):
    assert patches.apply(patches.PINNED)
    ran: list[tuple[str, dict]] = []
    done = threading.Event()

    def process_rules(params: dict) -> None:
        ran.append((threading.current_thread().name, params))
        done.set()

    assert events_provider.start_worker_thread(process_rules, {"event": 1}, name=rule_workers.NAME) is None
    assert done.wait(5)
    [(thread, params)] = ran
    assert thread.startswith(rule_workers.NAME) and params == {"event": 1}
    # A failing event is logged and leaves the pool serving the next one.
    events_provider.start_worker_thread(lambda params: 1 / 0, {}, name=rule_workers.NAME)
    done.clear()
    events_provider.start_worker_thread(process_rules, {"event": 2}, name=rule_workers.NAME)
    assert done.wait(5) and ran[-1][1] == {"event": 2}
    other = events_provider.start_worker_thread(lambda params: None, name="another")
    assert isinstance(other, threads.FuncThread)  # anything else keeps LocalStack's own thread
    other.join(5)
