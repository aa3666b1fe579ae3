"""LocalStack's stream poller honouring an event source mapping's ParallelizationFactor, as Lambda
does on AWS: up to that many batches of one shard are processed at once, the records of one key
(the item's key, a Kinesis partition key) always in the same lane and in order.

LocalStack ignores the setting and forwards a shard's batches one after another, each retried
(with a growing backoff) until it succeeds. The outbox relay sets a factor of 10, so on AWS a
failing start holds back the new orders of its lane only; here, under `make chaos`'s faults, every
new order waited behind each retried batch: sagas started ~7 s after their order was stored, and
that capped the whole run at ~3.5 orders a second per style.

A factor of 1 (every other mapping) keeps LocalStack's own path. Like LocalStack's poller, the
lanes do not checkpoint: records queued in a lane when the mapping stops are not forwarded.
"""

from __future__ import annotations

import functools
import json
import logging
import queue
import threading
import zlib
from itertools import groupby
from operator import itemgetter

LOG = logging.getLogger(__name__)

LANE_POLL_S = 0.1  # how often an idle lane looks whether its poller was stopped
_LANES_LOCK = threading.Lock()  # a poller's lanes are made once


class _Lanes:
    """`count` threads of one poller, each forwarding the records of its keys, in order, in
    batches of at most BatchSize of what it has queued."""

    def __init__(self, poller, forward, count: int) -> None:
        self._poller, self._forward = poller, forward
        self._queues: list[queue.SimpleQueue] = [queue.SimpleQueue() for _ in range(count)]
        for number, lane in enumerate(self._queues):
            name = f"esm-lane-{poller.esm_uuid}-{number}"
            threading.Thread(target=self._run, args=(lane,), name=name, daemon=True).start()

    def put(self, shard_id: str, records: list[dict]) -> None:
        for record in records:
            self._queues[_lane_of(record, len(self._queues))].put((shard_id, record))

    def _run(self, lane: queue.SimpleQueue) -> None:
        while not self._poller._is_shutdown.is_set():
            try:
                batch = [lane.get(timeout=LANE_POLL_S)]
            except queue.Empty:
                continue
            while len(batch) < self._poller.stream_parameters.get("BatchSize", 1) and not lane.empty():
                batch.append(lane.get())
            for shard_id, entries in groupby(batch, key=itemgetter(0)):
                self._forward_safely(shard_id, [record for _, record in entries])

    def _forward_safely(self, shard_id: str, records: list[dict]) -> None:
        try:
            self._forward(self._poller, shard_id, records)
        except Exception:  # the lane must live on; LocalStack's own loop logs and goes on too
            LOG.exception("stream lane: forwarding %d records of %s failed", len(records), shard_id)


def _lane_of(record: dict, count: int) -> int:
    key = record.get("dynamodb", {}).get("Keys") or record.get("PartitionKey") or ""
    return zlib.crc32(json.dumps(key, sort_keys=True, default=str).encode()) % count


def _through_lanes(forward):
    """StreamPoller.forward_events_to_target handing the records to the poller's lanes when its
    mapping's ParallelizationFactor is above 1."""

    @functools.wraps(forward)
    def forward_events_to_target(self, shard_id, records):
        factor = getattr(self, "parallelization_factor", 1)
        if factor <= 1:
            return forward(self, shard_id, records)
        with _LANES_LOCK:
            if getattr(self, "_lanes", None) is None:
                self._lanes = _Lanes(self, forward, factor)
        self._lanes.put(shard_id, records)

    forward_events_to_target.patched = True
    return forward_events_to_target


def _telling_pollers_their_factor(get_esm_worker):
    """EsmWorkerFactory.get_esm_worker giving a stream poller its mapping's ParallelizationFactor
    (LocalStack does not pass it on)."""

    @functools.wraps(get_esm_worker)
    def get(self):
        worker = get_esm_worker(self)
        worker.poller.parallelization_factor = int(self.esm_config.get("ParallelizationFactor") or 1)
        return worker

    get.patched = True
    return get


def apply() -> None:
    from localstack.services.lambda_.event_source_mapping.esm_worker_factory import EsmWorkerFactory
    from localstack.services.lambda_.event_source_mapping.pollers.stream_poller import StreamPoller

    if not hasattr(StreamPoller.forward_events_to_target, "patched"):
        StreamPoller.forward_events_to_target = _through_lanes(StreamPoller.forward_events_to_target)
    if not hasattr(EsmWorkerFactory.get_esm_worker, "patched"):
        EsmWorkerFactory.get_esm_worker = _telling_pollers_their_factor(EsmWorkerFactory.get_esm_worker)
