"""The deployment target, the one place that says how `local` and `aws` differ.

CDK context `target` picks it: `local` (LocalStack, the default) or `aws` (a real account):
`cdk synth -c target=aws`, `make synth TARGET=aws`. Stacks and constructs take their settings
from `Target.of(scope)`; nothing else reads the context or compares target names.

    setting                    local                          aws
    synthesizer                CLI credentials, fixed bucket  default (needs `cdk bootstrap`)
    tables                     destroyed with the stack       retained, deletion protection on
    (both: on-demand, point-in-time recovery)
    state machine log level    ERROR                          ALL
    (both: without execution data: no customer ids or amounts in the logs; traces of `make
    compare` come from the execution history)
    Lambda tracing (X-Ray)     off                            active
    log retention              one week                       one month
    event tap (choreography)   on (`make compare` reads it)   off: it logs every event, customer
                                                              ids and amounts included
    alarm topic (SNS)          none                           every alarm notifies it
    API callers                anyone; the body names the     signed in to the stack's Cognito
                               customer (LocalStack community user pool (authorizer): the customer
                               has no Cognito)                is the caller (shared.infra.api)
    API usage plan             none: the stage's throttle     API key required, its usage plan
                               only                           throttles it and caps a day's calls

On LocalStack the state machine's logs are written synchronously, on the execution's critical
path (docs/benchmarks.md): level ERROR keeps them out of its hand-offs. Context `eventTap`
(`true` or `false`) overrides the target's event tap: `cdk deploy -c target=aws -c eventTap=true`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from aws_cdk import RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import IConstruct

TARGET_CONTEXT = "target"
EVENT_TAP_CONTEXT = "eventTap"
LOCAL, AWS = "local", "aws"
DEFAULT_TARGET = LOCAL


class TargetError(ValueError):
    """An unknown target or a malformed override: its message is one readable line."""


@dataclass(frozen=True)
class Target:
    name: str
    # DefaultStackSynthesizer (assets in the `cdk bootstrap` bucket, deployed through its roles);
    # else CliCredentialsStackSynthesizer with one fixed asset bucket (app.py).
    bootstrap: bool
    table_removal_policy: RemovalPolicy
    table_deletion_protection: bool
    state_machine_log_level: sfn.LogLevel
    lambda_tracing: lambda_.Tracing | None  # None: left out of the template (Lambda's default, off)
    log_retention: logs.RetentionDays
    event_tap: bool
    alarm_topic: bool
    # A Cognito user pool authorizer on the API: the customer is the caller, not the body.
    api_authorizer: bool
    # Methods require an API key, throttled per key by a usage plan (else the stage's throttle only).
    api_usage_plan: bool

    @staticmethod
    def of(scope: IConstruct) -> Target:
        """The target of `scope`'s app, from its context (`target`, `eventTap`)."""
        node = scope.node
        return target_named(node.try_get_context(TARGET_CONTEXT), event_tap=node.try_get_context(EVENT_TAP_CONTEXT))


TARGETS = {
    LOCAL: Target(
        name=LOCAL,
        bootstrap=False,
        table_removal_policy=RemovalPolicy.DESTROY,
        table_deletion_protection=False,
        state_machine_log_level=sfn.LogLevel.ERROR,
        lambda_tracing=None,
        log_retention=logs.RetentionDays.ONE_WEEK,
        event_tap=True,
        alarm_topic=False,
        api_authorizer=False,
        api_usage_plan=False,
    ),
    AWS: Target(
        name=AWS,
        bootstrap=True,
        table_removal_policy=RemovalPolicy.RETAIN,
        table_deletion_protection=True,
        state_machine_log_level=sfn.LogLevel.ALL,
        lambda_tracing=lambda_.Tracing.ACTIVE,
        log_retention=logs.RetentionDays.ONE_MONTH,
        event_tap=False,
        alarm_topic=True,
        api_authorizer=True,
        api_usage_plan=True,
    ),
}


def target_named(name: object = None, *, event_tap: object = None) -> Target:
    """The settings of target `name` (None: the default), with the event tap overridden if given."""
    name = DEFAULT_TARGET if name is None else name
    target = TARGETS.get(name) if isinstance(name, str) else None
    if target is None:
        raise TargetError(f"unknown target {name!r} (context `{TARGET_CONTEXT}`): use {' or '.join(TARGETS)}")
    if event_tap is None:
        return target
    return replace(target, event_tap=_boolean(EVENT_TAP_CONTEXT, event_tap))


def _boolean(key: str, value: object) -> bool:
    """A context flag: a JSON boolean (cdk.json, tests) or the string `-c key=true` gives."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TargetError(f"context `{key}` must be true or false, got {value!r}")
