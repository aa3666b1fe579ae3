"""Lambda invocations that LocalStack makes of itself, handed to its Lambda provider in-process.

Five of LocalStack's services invoke functions through an internal boto client: Step Functions'
Lambda tasks, the event source mappings (the outbox relay), EventBridge's Lambda targets, the
poller of each function's asynchronous events (a choreographed step costs two: the rule's target
queues the event, the poller invokes) and API Gateway's Lambda proxy (every API request). Each
Invoke was built and signed by the client, run through LocalStack's whole handler chain,
answered, and parsed back: under a chaos run those calls were ~37 % of LocalStack's CPU (the
Lambda provider's own work ~14 %), and API Gateway's another 14 % (py-spy).
Here those clients' Invoke goes straight to the provider's `invoke`, with what the handler chain
would have given it: the account and region of the function's ARN, the request id and X-Ray
trace header the caller set (an asynchronous event keeps its request id across retries), a
payload as bytes; its answer comes back as the client's would (the payload as a stream, errors
as the client's own exception classes). A call with anything else (a function named without its
ARN, other parameters) and every other operation go through the client as before.
"""

from __future__ import annotations

import functools
import io
import logging
from typing import Any

from botocore.response import StreamingBody

LOG = logging.getLogger(__name__)

# Invoke's parameters served in-process; TraceHeader is LocalStack's internal one (EventBridge).
HANDLED = frozenset(
    {"FunctionName", "Payload", "InvocationType", "Qualifier", "ClientContext", "LogType", "TraceHeader"}
)


class DirectInvoke:
    """A LocalStack-internal Lambda client whose Invoke calls the Lambda provider in-process;
    anything else is the wrapped client's."""

    def __init__(self, client, headers: dict[str, str] | None = None) -> None:
        self._client, self._headers = client, headers or {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def custom_headers(self, headers: dict[str, str]) -> DirectInvoke:
        return DirectInvoke(self._client, {**self._headers, **headers})

    def invoke(self, **params) -> dict:
        name = params.get("FunctionName", "")
        if not name.startswith("arn:") or not set(params) <= HANDLED:
            return self._invoke_through_client(params)
        context = self._context(params.get("TraceHeader"))
        try:
            answer = _provider().invoke(
                context,
                function_name=name,
                invocation_type=params.get("InvocationType"),
                log_type=params.get("LogType"),
                client_context=params.get("ClientContext"),
                payload=io.BytesIO(_bytes(params.get("Payload"))),
                qualifier=params.get("Qualifier"),
            )
        except Exception as error:
            if not hasattr(error, "code"):  # not one of the API's errors: say what broke
                LOG.warning("In-process Invoke of %s failed", name, exc_info=error)
            raise self._client_error(error, context.request_id) from error
        return self._response(answer, context.request_id)

    def _invoke_through_client(self, params: dict) -> dict:
        client = self._client.custom_headers(self._headers) if self._headers else self._client
        return client.invoke(**params)

    def _context(self, trace_header):
        from localstack.aws.api import RequestContext
        from localstack.utils.strings import long_uid
        from localstack.utils.xray.trace_header import TraceHeader
        from rolo import Request

        context = RequestContext(request=Request("POST", "/", headers={"User-Agent": "localstack-internal"}))
        context.service = self._client.meta.service_model
        context.operation = context.service.operation_model("Invoke")
        context.account_id = None  # the function's ARN gives it, and the region
        context.region = self._client.meta.region_name
        context.request_id = self._headers.get("X-Amz-Request-Id") or long_uid()
        if trace_header is None:
            trace_header = TraceHeader.from_header_str(self._headers.get("X-Amzn-Trace-Id"))
        context.trace_context["aws_trace_header"] = trace_header.ensure_root_exists()
        return context

    def _response(self, answer: dict, request_id: str) -> dict:
        payload = _bytes(answer.get("Payload"))
        response = {k: v for k, v in answer.items() if k != "Payload"}
        response["Payload"] = StreamingBody(io.BytesIO(payload), len(payload))
        response["ResponseMetadata"] = _metadata(request_id, answer.get("StatusCode", 200))
        return response

    def _client_error(self, error: Exception, request_id: str) -> Exception:
        """The exception the client raises for the provider's error (ServiceException, if not one)."""
        from localstack.aws.api import ServiceException

        code = error.code if isinstance(error, ServiceException) else "ServiceException"
        status = error.status_code if isinstance(error, ServiceException) else 500
        message = error.message if isinstance(error, ServiceException) else str(error)
        body = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": _metadata(request_id, status)}
        return self._client.exceptions.from_code(code)(body, "Invoke")


def _metadata(request_id: str, status: int) -> dict:
    """What botocore puts in a response's ResponseMetadata (callers read RequestId)."""
    headers = {"x-amz-request-id": request_id, "x-amzn-requestid": request_id}
    return {"RequestId": request_id, "HTTPStatusCode": status, "HTTPHeaders": headers, "RetryAttempts": 0}


def _bytes(payload) -> bytes:
    if payload is None:
        return b""
    if isinstance(payload, str):
        return payload.encode()
    if hasattr(payload, "read"):
        return payload.read()
    return bytes(payload)


@functools.cache
def _provider():
    from localstack.services.plugins import SERVICE_PLUGINS

    return SERVICE_PLUGINS.get_service("lambda").lifecycle_hook


def direct(client):
    """The client, its Invoke served in-process (once: a wrapped client is returned as it is)."""
    return client if isinstance(client, DirectInvoke) else DirectInvoke(client)


def _wrapping_init(init, attribute: str):
    """An __init__ that leaves `attribute` (a Lambda client) serving Invoke in-process."""

    @functools.wraps(init)
    def __init__(self, *args, **kwargs) -> None:
        init(self, *args, **kwargs)
        setattr(self, attribute, direct(getattr(self, attribute)))

    __init__.patched = True
    return __init__


def _direct_target_client(send_event):
    """LambdaTargetSender.send_event with the target's (lazily made) client serving Invoke in-process."""

    @functools.wraps(send_event)
    def send(self, event, trace_header) -> None:
        self._client = direct(self.client)
        send_event(self, event, trace_header)

    send.patched = True
    return send


def _direct_proxy_call(call_lambda):
    """RestApiAwsProxyIntegration.call_lambda invoking in-process, unless the integration names
    credentials (a role API Gateway assumes first: that stays the client's)."""

    @functools.wraps(call_lambda)
    def call(function_arn: str, event: bytes, source_arn: str, credentials: str | None = None) -> bytes:
        if credentials:
            return call_lambda(function_arn, event, source_arn, credentials)
        from localstack.aws.connect import connect_to
        from localstack.utils.aws.arns import extract_region_from_arn

        client = direct(connect_to(region_name=extract_region_from_arn(function_arn)).lambda_)
        answer = client.invoke(FunctionName=function_arn, Payload=event, InvocationType="RequestResponse")
        return answer["Payload"].read()

    call.patched = True
    return call


def apply() -> None:
    from localstack.services.apigateway.next_gen.execute_api.integrations.aws import RestApiAwsProxyIntegration
    from localstack.services.events.target import LambdaTargetSender
    from localstack.services.lambda_.event_source_mapping.senders.lambda_sender import LambdaSender
    from localstack.services.lambda_.invocation.event_manager import Poller

    for cls, attribute in ((Poller, "lambda_client"), (LambdaSender, "target_client")):
        if not hasattr(cls.__init__, "patched"):
            cls.__init__ = _wrapping_init(cls.__init__, attribute)
    if not hasattr(LambdaTargetSender.send_event, "patched"):
        LambdaTargetSender.send_event = _direct_target_client(LambdaTargetSender.send_event)
    if not hasattr(RestApiAwsProxyIntegration.call_lambda, "patched"):
        RestApiAwsProxyIntegration.call_lambda = staticmethod(
            _direct_proxy_call(RestApiAwsProxyIntegration.call_lambda)
        )
