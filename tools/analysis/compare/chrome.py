"""One traced saga as Chrome trace-event JSON: opens in Perfetto (ui.perfetto.dev, "Open trace
file") and chrome://tracing, offline.

The JSON Object Format of the Trace Event Format: one process (the saga), one thread per lane
(orders, step-functions or eventbridge, inventory, payment, shipping, then the hand-offs), named
and sorted by metadata ("M") events so the lanes read like the report's timeline. Handler runs,
states and hand-offs are complete ("X") events; the stored order, start_saga and events on the
bus are instants ("i"). Times are microseconds from the saga's first record.

A viewer draws a thread's complete events as a stack, so two of them that overlap without one
holding the other (a duplicate delivery running beside the first) go to a second thread of the
same lane ("inventory #2") rather than be drawn wrong.
"""

from __future__ import annotations

from datetime import datetime

from tools.analysis.compare.handoffs import handoffs, lanes
from tools.analysis.compare.model import Trace
from tools.analysis.compare.otlp import name

PID = 1
HANDOFFS = "hand-offs"
POINTS = ("event", "request", "relay", "recovery")  # start == end: instants


class _Threads:
    """Lane -> its threads: a complete event goes to the lane's first thread whose last one has
    ended by its start; instants always to the first (they overlap nothing)."""

    def __init__(self, order: list[str]) -> None:
        self.order = order
        self.last_end: dict[tuple[str, int], float] = {}

    def place(self, lane: str, event: dict) -> tuple[str, int]:
        if event["ph"] != "X":
            self.last_end.setdefault((lane, 0), float("-inf"))
            return lane, 0
        n = 0
        while self.last_end.get((lane, n), float("-inf")) > event["ts"]:
            n += 1
        self.last_end[(lane, n)] = event["ts"] + event["dur"]
        return lane, n

    def numbered(self) -> dict[tuple[str, int], int]:
        """Thread ids: lanes in order, a lane's extra threads right after it."""
        rank = {lane: i for i, lane in enumerate(self.order)}
        keys = sorted(self.last_end, key=lambda k: (rank.get(k[0], len(rank)), k[1]))
        return {key: tid for tid, key in enumerate(keys, 1)}


def _metadata(tids: dict[tuple[str, int], int]) -> list[dict]:
    out = []
    for (lane, n), tid in tids.items():
        label = lane if n == 0 else f"{lane} #{n + 1}"
        out.append({"name": "thread_name", "ph": "M", "pid": PID, "tid": tid, "args": {"name": label}})
        out.append({"name": "thread_sort_index", "ph": "M", "pid": PID, "tid": tid, "args": {"sort_index": tid}})
    return out


def export(trace: Trace) -> dict:
    origin = trace.start if trace.spans else None

    def us(at: datetime) -> float:
        return round((at - origin).total_seconds() * 1_000_000, 3) if origin else 0.0

    threads = _Threads([*lanes(trace), HANDOFFS])
    pending: list[tuple[tuple[str, int], dict]] = []  # ((lane, its n-th thread), the event but its tid)
    for s in sorted(trace.spans, key=lambda s: (s.start, s.end)):
        args = {k: v for k, v in {"outcome": s.outcome, "detail": s.detail}.items() if v}
        event = {"name": name(s), "cat": s.kind, "pid": PID, "ts": us(s.start), "args": args}
        if s.kind in POINTS:
            event |= {"ph": "i", "s": "t"}
        else:
            event |= {"ph": "X", "dur": round(max(us(s.end) - us(s.start), 0.0), 3)}
        pending.append((threads.place(s.service, event), event))
    for h in handoffs(trace):
        event = {
            "name": f"hand-off -> {h.step}",
            "cat": "hand-off",
            "ph": "X",
            "pid": PID,
            "ts": us(h.start),
            "dur": round(max(us(h.end) - us(h.start), 0.0), 3),
            "args": {"carried by": h.lane},
        }
        pending.append((threads.place(HANDOFFS, event), event))
    tids = threads.numbered()  # only once every event is placed are the threads known
    events = [{**e, "tid": tids[thread]} for thread, e in pending]
    title = f"{trace.style}{' — ' + trace.scenario if trace.scenario else ''} — order {trace.order_id}"
    return {
        "traceEvents": [
            {"name": "process_name", "ph": "M", "pid": PID, "tid": 0, "args": {"name": title}},
            *_metadata(tids),
            *events,
        ],
        "displayTimeUnit": "ms",
        "otherData": {
            "style": trace.style,
            "scenario": trace.scenario,
            "order_id": trace.order_id,
            "start": origin.isoformat() if origin else "",
        },
    }
