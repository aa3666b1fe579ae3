"""Three caches in LocalStack's Step Functions and one read size in its stream poller, applied at
LocalStack's start (an on_infra_start hook, registered in executor/pyproject.toml) and only on the
version they were written and measured against (PINNED): on any other version nothing is patched
and LocalStack's log says so.

Why (docs/profile.md has the profiles):
- For each Lambda task, LocalStack 2026.3.0's Step Functions assumes the state machine's role (an
  STS request through its own HTTP gateway) and builds a new boto client with those credentials;
  every JSONPath it evaluates (InputPath, ResultPath, ...) is parsed by a parser that first
  regenerates its LALR tables; and every execution parses the state machine's definition again
  with ANTLR. Together that was about a third of LocalStack's CPU in an orchestrated saga. Each
  result depends only on its arguments: a client per (service, region, role), a parsed
  expression per path string and a parse tree per definition are reused. LocalStack does the same
  for API Gateway's integrations (an lru_cache on its assumed-role client factory); its
  assumed-role credentials do not expire. The tree is only read: each execution still builds its
  own states from it, so no state is shared between executions.
- Its DynamoDB stream poller reads at most BatchSize records per poll (a TODO in its code says so),
  before the event filter. The orders table's stream carries every step's update, and only the
  inserts reach the outbox relay: 10 records per 0.25 s poll capped the whole runtime at about 7
  sagas a second, and a batch of 10 records held about 2 inserts. Lambda's poller on AWS reads
  what the shard has (GetRecords returns up to 1000 records) and drops what the filter does not
  match before it makes batches of BatchSize; here it does the same.
- Its EventBridge target for CloudWatch Logs creates a new log stream for every event it delivers
  (CreateLogStream, then PutLogEvents): the choreography's event tap, which copies each event on
  the bus into a log group for `make compare`, was a sixth of LocalStack's CPU in a choreographed
  saga, and the group grew a stream per event. Here each target writes to one stream of its own,
  created on its first event (and again should the group have been recreated since).
- `localstack.utils.threads.TMP_THREADS`, the list of threads LocalStack stops at shutdown, keeps
  every thread ever appended to it: Step Functions adds one per execution and one per task state.
  On Python 3.13 a finished thread that is still referenced keeps its stack mapped (8 MiB and a
  guard page), so after ~32,000 such threads (about 5,000 sagas) the process reached the kernel's
  limit of 65,530 memory mappings and could start no thread at all: requests failed with "can't
  start new thread". Here the list drops threads that have ended whenever it has doubled since.
- Its Lambda service publishes the `AWS/Lambda` Invocations and Errors metrics from a new thread
  per invocation, each a PutMetricData and a SQLite commit under one lock. With LocalStack's
  process at its CPU limit the commits fell behind the invocations and the waiting threads piled
  up by the thousand. Here the counts are added up per function and published once a second by
  one thread (`Values`/`Counts`: the same samples, so Sum and SampleCount are unchanged; the
  ReconcilerErrors alarm reads Errors).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from importlib import metadata

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)

PINNED = "2026.3.0"
CACHE_SIZE = 256
GET_RECORDS_LIMIT = 1000  # DynamoDB Streams' own maximum per GetRecords


def _cached_client_factory(original):
    @functools.lru_cache(maxsize=CACHE_SIZE)
    def client(service: str, region: str, role_arn: str):
        return original(service=service, region=region, state_credentials=_Credentials(role_arn))

    def boto_client_for(service: str, region: str, state_credentials):
        return client(service, region, state_credentials.role_arn)

    boto_client_for.cache = client
    return boto_client_for


class _Credentials:
    """What boto_client_for reads of StateCredentials: the role to assume."""

    def __init__(self, role_arn: str) -> None:
        self.role_arn = role_arn


def _cached_parse(original):
    cached = functools.lru_cache(maxsize=CACHE_SIZE)(original)
    functools.update_wrapper(cached, original)
    return cached


def _cached_definition_trees(parse):
    """ExecutionWorker._get_evaluation_entrypoint, with the parse tree of each definition kept."""
    from localstack.services.stepfunctions.asl.parse.preprocessor import Preprocessor

    @functools.lru_cache(maxsize=CACHE_SIZE)
    def tree(definition: str):
        return parse(definition)[1]

    def _get_evaluation_entrypoint(self):
        return Preprocessor().visit(tree(self._evaluation_details.state_machine_details.definition))

    _get_evaluation_entrypoint.cache = tree
    return _get_evaluation_entrypoint


class _WholeShardReads:
    """A poller's stream client whose GetRecords reads up to GET_RECORDS_LIMIT records."""

    def __init__(self, client) -> None:
        self._client = client

    def __getattr__(self, name: str):
        return getattr(self._client, name)

    def get_records(self, **kwargs):
        return self._client.get_records(**{**kwargs, "Limit": GET_RECORDS_LIMIT})


def _reading_whole_shards(init):
    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.source_client = _WholeShardReads(self.source_client)

    __init__.patched = True
    return __init__


def _filtering_before_batching(get_records):
    """StreamPoller.get_records keeping only the records the mapping's filter lets through, so
    batches are made of those, as on AWS. The check runs on a copy: making an event of a record
    changes the record."""

    @functools.wraps(get_records)
    def filtered(self, shard_iterator: str) -> dict:
        response = get_records(self, shard_iterator)
        if self.filter_patterns:
            response["Records"] = [r for r in response.get("Records", []) if _lets_through(self, r)]
        return response

    filtered.patched = True
    return filtered


def _lets_through(poller, record: dict) -> bool:
    events = poller.pre_filter(poller.transform_into_events([copy.deepcopy(record)], shard_id=None))
    return bool(poller.filter_events(events))


def _one_stream_per_target(send_event):
    """LogsTargetSender.send_event writing to one log stream per target instead of one per event."""
    from localstack.services.events.utils import to_json_str
    from localstack.utils.time import now_utc

    lock = threading.Lock()

    def write(self, group: str, message: str) -> None:
        self.client.put_log_events(
            logGroupName=group,
            logStreamName=self.saga_stream,
            logEvents=[{"timestamp": now_utc(millis=True), "message": message}],
        )

    def create_stream(self, group: str) -> None:
        # Another delivery of this target's may have created it first.
        with lock, contextlib.suppress(self.client.exceptions.ResourceAlreadyExistsException):
            self.client.create_log_stream(logGroupName=group, logStreamName=self.saga_stream)

    @functools.wraps(send_event)
    def send(self, event, trace_header) -> None:
        group = self.target["Arn"].split(":")[6]
        if getattr(self, "saga_stream", None) is None:
            self.saga_stream = f"{self.target['Id']}-{uuid.uuid4()}"
            create_stream(self, group)
        try:
            write(self, group, to_json_str(event))
        except self.client.exceptions.ResourceNotFoundException:
            create_stream(self, group)  # the group was deleted and created again since
            write(self, group, to_json_str(event))

    send.patched = True
    return send


class _LiveThreads(list):
    """TMP_THREADS without the threads that have ended: pruned when it has doubled since the last
    time (so appending stays cheap). What is not a thread (thread pools, servers) is kept, and so
    is a thread not started yet: some are appended first."""

    MIN_PRUNE_AT = 256

    def __init__(self, threads) -> None:
        super().__init__(threads)
        self._lock = threading.Lock()
        self._prune_at = self.MIN_PRUNE_AT

    def append(self, thread) -> None:
        with self._lock:
            if len(self) >= self._prune_at:
                self[:] = [t for t in self if not _ended(t)]
                self._prune_at = max(self.MIN_PRUNE_AT, 2 * len(self))
            super().append(thread)


def _ended(item) -> bool:
    return isinstance(item, threading.Thread) and item.ident is not None and not item.is_alive()


def _forget_ended_threads() -> None:
    """Put a _LiveThreads in place of TMP_THREADS, in every module that imported the list."""
    from localstack.utils import threads

    old = threads.TMP_THREADS
    if isinstance(old, _LiveThreads):
        return
    live = _LiveThreads(old)
    for module in list(sys.modules.values()):
        if getattr(module, "TMP_THREADS", None) is old:
            module.TMP_THREADS = live


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


def _counted_lambda_metrics(version_manager) -> None:
    metrics = _LambdaMetrics()
    version_manager.record_cw_metric_invocation = metrics.invocation
    version_manager.record_cw_metric_error = metrics.error


def apply(version: str | None = None) -> bool:
    """Patch the running LocalStack; returns whether it did (only on the pinned version)."""
    version = version or metadata.version("localstack-core")
    if version != PINNED:
        LOG.warning(
            "saga executor: LocalStack patches not applied (written for localstack-core %s, found %s)",
            PINNED,
            version,
        )
        return False
    from localstack.services.events.target import LogsTargetSender
    from localstack.services.lambda_.event_source_mapping.pollers.dynamodb_poller import DynamoDBPoller
    from localstack.services.lambda_.invocation import version_manager
    from localstack.services.stepfunctions.asl.component.common.path import result_path
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_task import lambda_eval_utils
    from localstack.services.stepfunctions.asl.parse.asl_parser import AmazonStateLanguageParser
    from localstack.services.stepfunctions.asl.utils import json_path
    from localstack.services.stepfunctions.backend.execution_worker import ExecutionWorker

    if not hasattr(lambda_eval_utils.boto_client_for, "cache"):
        lambda_eval_utils.boto_client_for = _cached_client_factory(lambda_eval_utils.boto_client_for)
    for module in (json_path, result_path):
        if not hasattr(module.parse, "cache_info"):
            module.parse = _cached_parse(module.parse)
    if not hasattr(ExecutionWorker._get_evaluation_entrypoint, "cache"):
        ExecutionWorker._get_evaluation_entrypoint = _cached_definition_trees(AmazonStateLanguageParser.parse)
    if not hasattr(DynamoDBPoller.__init__, "patched"):
        DynamoDBPoller.__init__ = _reading_whole_shards(DynamoDBPoller.__init__)
    if not hasattr(DynamoDBPoller.get_records, "patched"):
        DynamoDBPoller.get_records = _filtering_before_batching(DynamoDBPoller.get_records)
    _forget_ended_threads()
    if not isinstance(getattr(version_manager.record_cw_metric_invocation, "__self__", None), _LambdaMetrics):
        _counted_lambda_metrics(version_manager)
    if not hasattr(LogsTargetSender.send_event, "patched"):
        LogsTargetSender.send_event = _one_stream_per_target(LogsTargetSender.send_event)
    LOG.info("saga executor: LocalStack patches applied (localstack-core %s)", version)
    return True


@hooks.on_infra_start()
def _apply_patches() -> None:
    apply()
