"""Validators of the exported trace files, shared by the unit and the e2e tests.

OTLP/JSON: parsed into the official protobuf message (opentelemetry-proto's
ExportTraceServiceRequest), unknown fields rejected, after checking what the OTLP specification
("JSON Protobuf Encoding") sets apart from protobuf's own JSON mapping: hex ids (converted to the
mapping's base64 for the parser), integer enums, lowerCamelCase keys. Then the trace's shape:
one trace id, one root, every parent in the file.

Chrome trace events: the JSON schema written from the Trace Event Format document
(fixtures/chrome-trace-event.schema.json), then what a schema cannot say: every complete event
at ts >= 0 with dur >= 0, every (pid, tid) used named by a metadata event.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import jsonschema
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

CHROME_SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "chrome-trace-event.schema.json").read_text())
ID_BYTES = {"traceId": 16, "spanId": 8, "parentSpanId": 8}
ENUMS = ("kind", "code")  # Span.kind, Status.code
LOWER_CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")


def _otlp_to_proto_json(node, path: str = "$"):
    """The OTLP/JSON document in protobuf's JSON mapping; AssertionError where it breaks OTLP/JSON.
    (Every object key of a trace request is a field name: attributes are key/value lists.)"""
    if isinstance(node, list):
        return [_otlp_to_proto_json(v, f"{path}[{i}]") for i, v in enumerate(node)]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        where = f"{path}.{key}"
        assert LOWER_CAMEL.match(key), f"{where}: not a lowerCamelCase field name"
        if key in ID_BYTES:
            raw = bytes.fromhex(value)  # ValueError if not hex
            allowed = {ID_BYTES[key], 0} if key == "parentSpanId" else {ID_BYTES[key]}
            assert len(raw) in allowed, f"{where}: {len(raw)} bytes"
            out[key] = base64.b64encode(raw).decode()
        elif key in ENUMS:  # Span.kind and Status.code: the only fields of these names
            assert isinstance(value, int), f"{where}: an enum is an integer in OTLP/JSON"
            out[key] = value
        else:
            out[key] = _otlp_to_proto_json(value, where)
    return out


def otlp_request(text: str) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    json_format.Parse(json.dumps(_otlp_to_proto_json(json.loads(text))), request, ignore_unknown_fields=False)
    spans = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert spans, "no span"
    assert len({s.trace_id for s in spans}) == 1, "one saga, one trace id"
    ids = {s.span_id for s in spans}
    assert len(ids) == len(spans), "span ids are unique"
    assert sum(1 for s in spans if not s.parent_span_id) == 1, "one root span"
    assert all(not s.parent_span_id or s.parent_span_id in ids for s in spans), "every parent is in the trace"
    assert all(0 < s.start_time_unix_nano <= s.end_time_unix_nano for s in spans), "times in order"
    for rs in request.resource_spans:
        names = [a.value.string_value for a in rs.resource.attributes if a.key == "service.name"]
        assert len(names) == 1 and names[0], "every resource names its service"
    return request


def chrome_trace(text: str) -> dict:
    data = json.loads(text)
    jsonschema.validate(data, CHROME_SCHEMA)
    events = data["traceEvents"]
    named_threads = {(e["pid"], e["tid"]) for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    named_processes = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    for e in events:
        if e["ph"] == "X":
            assert e["ts"] >= 0 and e["dur"] >= 0, e
        if e["ph"] != "M":
            assert e["pid"] in named_processes, f"process {e['pid']} not named: {e}"
            assert (e["pid"], e.get("tid")) in named_threads, f"thread {e.get('tid')} not named: {e}"
    return data
