"""Checks both stacks must pass, on both targets. Each test module subclasses `CommonStackChecks`
(pytest collects the subclass), says which target its template is for (`target`, default `local`)
and provides a module-scoped `template` fixture, so each stack is synthesized once per target."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import ClassVar

from aws_cdk.assertions import Template

from tests.cdk.template_helpers import (
    actions,
    as_list,
    flatten,
    function_role,
    functions_by_handler,
    grants,
    logical_id_of_type,
    only,
    refs,
    resources,
    resources_for_action,
    role_statements,
    statements_with_action,
    strings,
    table_ids,
)

# Written out here on purpose (not imported from shared.infra) so that a change there fails a test.
STEPS = {
    "reserve_inventory": "inventory",
    "charge_payment": "payment",
    "notify_shipping": "shipping",
    "refund_payment": "payment",
    "release_inventory": "inventory",
}
CREATE_ORDER = "shared.entrypoints.create_order.handler"
GET_ORDER = "shared.entrypoints.get_order.handler"
# The style's own functions besides the steps: the outbox relay and the reconciler.
RELAY, RECONCILER = "start_saga", "reconcile"
SERVICES = {**STEPS, RELAY: "orders", RECONCILER: "reconciler"}
STEP_TIMEOUT, RECONCILER_TIMEOUT = 10, 60

# Tables by their key (partition key, then sort key).
ORDERS_KEY, INVENTORY_KEY, PAYMENTS_KEY = ("orderId",), ("sku",), ("orderId", "entry")
IDEMPOTENCY_KEY = ("customerId", "idempotencyKey")
WATCH_INDEX = "WatchList"
TABLE_ENVIRONMENT = {
    ORDERS_KEY: "ORDERS_TABLE",
    INVENTORY_KEY: "INVENTORY_TABLE",
    PAYMENTS_KEY: "PAYMENTS_TABLE",
    IDEMPOTENCY_KEY: "IDEMPOTENCY_TABLE",
}
ORDER_WRITE = {"dynamodb:GetItem", "dynamodb:PutItem"}
# The idempotency record's conditional Put (in the order's transaction), and the GetItem of a
# record that holds a key already used.
CLAIM_KEY = {"dynamodb:GetItem", "dynamodb:PutItem"}
# What each function may do to which table (None: the WatchList index of the orders table): the
# DynamoDB calls its code makes, a TransactWriteItems counted as its Put/Update/ConditionCheck.
TABLE_ACCESS: dict[str, dict[tuple[str, ...] | None, set[str]]] = {
    "create_order": {ORDERS_KEY: ORDER_WRITE, IDEMPOTENCY_KEY: CLAIM_KEY},
    "get_order": {ORDERS_KEY: {"dynamodb:GetItem"}},
    "reserve_inventory": {ORDERS_KEY: ORDER_WRITE, INVENTORY_KEY: {"dynamodb:UpdateItem"}},
    "charge_payment": {
        ORDERS_KEY: ORDER_WRITE,
        PAYMENTS_KEY: {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"},
    },
    "notify_shipping": {ORDERS_KEY: ORDER_WRITE},
    "refund_payment": {
        ORDERS_KEY: ORDER_WRITE,
        PAYMENTS_KEY: {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"},
    },
    "release_inventory": {ORDERS_KEY: ORDER_WRITE, INVENTORY_KEY: {"dynamodb:UpdateItem"}},
    "start_saga": {},
    "reconcile": {ORDERS_KEY: ORDER_WRITE, None: {"dynamodb:Query"}},
}
STREAM_READ = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
COMMON_OUTPUTS = {
    "ApiUrl",
    "RestApiId",
    "OrdersTableName",
    "InventoryTableName",
    "PaymentsTableName",
    "IdempotencyTableName",
    "DeadLetterQueueUrl",
    "ReconcilerFunctionName",
    "AlarmNamePrefix",
}
# The only actions that AWS defines on no resource: Step Functions log delivery, X-Ray, ListStreams.
RESOURCE_STAR_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
    "dynamodb:ListStreams",
}
# A function's own logs and, where the target traces, its trace upload (X-Ray).
LOGGING = ("logs:", "xray:")
XRAY_UPLOAD = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
METRIC_CONDITION = {"StringEquals": {"cloudwatch:namespace": "OrderSaga"}}
DYNAMODB_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
# Reconciler settings: context stuckAfterSeconds defaults to 120 s, the alarm fires at 3 x that.
STUCK_AFTER_SECONDS, MAX_RECOVERY_ATTEMPTS, STUCK_ALARM_SECONDS = "120", "5", 360
COMMON_ALARMS = {"DeadLetters", "ReconcilerErrors", "StuckOrders", "OrdersNeedingAttention"}


@dataclass(frozen=True)
class Expected:
    """What differs between the targets (written out here, not read from shared.infra.target)."""

    log_retention_days: int
    tables_retained: bool  # DeletionPolicy Retain and deletion protection, else Delete and none
    lambda_tracing: str | None  # TracingConfig Mode, None: no TracingConfig
    alarm_topic: bool


EXPECTED = {
    "local": Expected(log_retention_days=7, tables_retained=False, lambda_tracing=None, alarm_topic=False),
    "aws": Expected(log_retention_days=30, tables_retained=True, lambda_tracing="Active", alarm_topic=True),
}


class CommonStackChecks:
    style: str
    stack_name: str
    extra_outputs: ClassVar[frozenset[str]]
    extra_alarms: ClassVar[frozenset[str]]
    target: ClassVar[str] = "local"
    # The style whose handlers the saga's functions run (the hybrid runs orchestration's).
    handler_style: ClassVar[str | None] = None
    # The style's functions besides the saga's nine: handler -> service. Only the checks that hold
    # for every function apply to them; their grants are the style's own tests'.
    extra_functions: ClassVar[dict[str, str]] = {}

    @property
    def expected(self) -> Expected:
        return EXPECTED[self.target]

    def handler(self, name: str) -> str:
        return f"{self.handler_style or self.style}.handlers.{name}.handler"

    def handlers(self) -> dict[str, str]:
        """The saga's functions: name (as in TABLE_ACCESS) -> handler."""
        return {name: self.handler(name) for name in SERVICES} | {"create_order": CREATE_ORDER, "get_order": GET_ORDER}

    def statements_of(self, template: Template, handler: str) -> list[dict]:
        _, props = functions_by_handler(template)[handler]
        return role_statements(template, function_role(props))

    def function_id(self, template: Template, name: str) -> str:
        return functions_by_handler(template)[self.handlers()[name]][0]

    # --- functions -------------------------------------------------------------------------

    def test_functions_are_exactly_the_steps_the_api_the_relay_and_the_reconciler(self, template: Template) -> None:
        assert set(functions_by_handler(template)) == set(self.handlers().values()) | set(self.extra_functions)
        assert len(functions_by_handler(template)) == 9 + len(self.extra_functions)

    def test_every_function_is_python312_256mb_10s_but_the_reconciler_60s(self, template: Template) -> None:
        for handler, (_, props) in functions_by_handler(template).items():
            assert props["Runtime"] == "python3.12", handler
            assert props["MemorySize"] == 256, handler
            expected = RECONCILER_TIMEOUT if handler == self.handler(RECONCILER) else STEP_TIMEOUT
            assert props["Timeout"] == expected, handler

    def test_function_environment(self, template: Template) -> None:
        functions = functions_by_handler(template)
        expected_services = {self.handler(name): service for name, service in SERVICES.items()}
        expected_services[CREATE_ORDER] = expected_services[GET_ORDER] = "orders"
        expected_services |= self.extra_functions
        for handler, (_, props) in functions.items():
            env = props["Environment"]["Variables"]
            assert env["POWERTOOLS_SERVICE_NAME"] == expected_services[handler], handler
            assert env["SAGA_STYLE"] == self.style, handler
            assert env["LOG_LEVEL"] == "INFO", handler

    def test_each_function_knows_exactly_the_tables_it_may_touch(self, template: Template) -> None:
        tables = table_ids(template)
        functions = functions_by_handler(template)
        for name, handler in self.handlers().items():
            env = functions[handler][1]["Environment"]["Variables"]
            for key, variable in TABLE_ENVIRONMENT.items():
                if key in TABLE_ACCESS[name]:
                    assert refs(env[variable]) == {tables[key]}, (name, variable)
                else:
                    assert variable not in env, (name, variable)

    def test_every_function_is_traced_as_the_target_says(self, template: Template) -> None:
        for handler, (_, props) in functions_by_handler(template).items():
            statements = self.statements_of(template, handler)
            xray = [s for s in statements if any(a.startswith("xray:") for a in as_list(s["Action"]))]
            if self.expected.lambda_tracing is None:
                assert "TracingConfig" not in props, handler
                assert xray == [], handler
            else:
                assert props["TracingConfig"] == {"Mode": self.expected.lambda_tracing}, handler
                # The trace upload, on "*" (X-Ray defines no resource for it), and nothing more of X-Ray.
                assert {a for a in actions(xray) if a.startswith("xray:")} == XRAY_UPLOAD, handler
                assert all(s["Resource"] == "*" for s in xray), handler

    def test_every_log_group_keeps_the_target_retention_and_goes_with_the_stack(self, template: Template) -> None:
        log_groups = resources(template, "AWS::Logs::LogGroup")
        assert log_groups
        for logical_id, group in log_groups.items():
            assert group["Properties"]["RetentionInDays"] == self.expected.log_retention_days, logical_id
            assert group["DeletionPolicy"] == "Delete", logical_id

    def test_every_function_logs_to_its_own_log_group(self, template: Template) -> None:
        log_groups = resources(template, "AWS::Logs::LogGroup")
        used = set()
        for handler, (_, props) in functions_by_handler(template).items():
            (group_id,) = refs(props["LoggingConfig"]["LogGroup"])
            group = log_groups[group_id]
            assert group["Properties"]["LogGroupName"] == f"/aws/lambda/{props['FunctionName']}", handler
            assert props["FunctionName"].startswith(f"{self.stack_name}-"), handler
            assert group["DeletionPolicy"] == "Delete", handler
            used.add(group_id)
        assert len(used) == len(self.handlers()) + len(self.extra_functions)

    # --- tables ----------------------------------------------------------------------------

    def test_four_tables_on_demand_with_pitr_destroyed_or_retained_as_the_target_says(self, template: Template) -> None:
        tables = table_ids(template)
        assert set(tables) == {ORDERS_KEY, INVENTORY_KEY, PAYMENTS_KEY, IDEMPOTENCY_KEY}
        for key, logical_id in tables.items():
            resource = template.to_json()["Resources"][logical_id]
            props = resource["Properties"]
            assert props["BillingMode"] == "PAY_PER_REQUEST", key
            assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, key
            types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
            assert all(types[name] == "S" for name in key), key
            # The idempotency records last a day and only matter while the API exists: never retained.
            if self.expected.tables_retained and key != IDEMPOTENCY_KEY:
                assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain"), key
                assert props["DeletionProtectionEnabled"] is True, key
            else:
                assert resource["DeletionPolicy"] == "Delete", key
                assert "DeletionProtectionEnabled" not in props, key

    def test_payment_ledger_is_keyed_by_order_and_entry(self, template: Template) -> None:
        props = template.to_json()["Resources"][table_ids(template)[PAYMENTS_KEY]]["Properties"]
        assert props["KeySchema"] == [
            {"AttributeName": "orderId", "KeyType": "HASH"},
            {"AttributeName": "entry", "KeyType": "RANGE"},
        ]
        assert "StreamSpecification" not in props and "GlobalSecondaryIndexes" not in props

    def test_orders_table_streams_new_images_and_has_the_watch_list_index(self, template: Template) -> None:
        tables = table_ids(template)
        props = template.to_json()["Resources"][tables[ORDERS_KEY]]["Properties"]
        assert props["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
        (index,) = props["GlobalSecondaryIndexes"]
        assert index == {
            "IndexName": WATCH_INDEX,
            "KeySchema": [
                {"AttributeName": "watch", "KeyType": "HASH"},
                {"AttributeName": "updatedAt", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
        types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
        assert types == {"orderId": "S", "watch": "S", "updatedAt": "S"}
        inventory = template.to_json()["Resources"][tables[INVENTORY_KEY]]["Properties"]
        assert "StreamSpecification" not in inventory and "GlobalSecondaryIndexes" not in inventory

    # --- IAM -------------------------------------------------------------------------------

    def test_no_wildcard_actions_and_no_literal_arns(self, template: Template) -> None:
        policies = resources(template, "AWS::IAM::Policy")
        assert policies
        for logical_id, policy in policies.items():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow", logical_id
                for action in actions([statement]):
                    assert "*" not in action, (logical_id, action)
                for text in strings(statement["Resource"]):
                    assert not text.startswith("arn:aws"), (logical_id, text)  # `arn:` + partition is fine
                    assert not re.search(r"\d{12}", text), (logical_id, text)  # no account ids

    def test_resource_star_only_for_actions_defined_on_no_resource(self, template: Template) -> None:
        for logical_id, policy in resources(template, "AWS::IAM::Policy").items():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if statement["Resource"] != "*":
                    assert "*" not in as_list(statement["Resource"]), (logical_id, statement)
                    continue
                if actions([statement]) == {"cloudwatch:PutMetricData"}:
                    assert statement["Condition"] == METRIC_CONDITION, (logical_id, statement)
                else:
                    assert actions([statement]) <= RESOURCE_STAR_ACTIONS, (logical_id, statement)

    def test_no_grant_names_every_index_of_a_table(self, template: Template) -> None:
        for logical_id, policy in resources(template, "AWS::IAM::Policy").items():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                for resource in as_list(statement["Resource"]):
                    assert not flatten(resource).endswith("/index/*"), (logical_id, statement)

    def test_roles_have_no_managed_policies(self, template: Template) -> None:
        for logical_id, role in resources(template, "AWS::IAM::Role").items():
            assert "ManagedPolicyArns" not in role["Properties"], logical_id

    def test_table_access_is_exactly_what_each_function_calls(self, template: Template) -> None:
        tables = table_ids(template)
        arns = {key: f"<{logical_id}.Arn>" for key, logical_id in tables.items()}
        arns[None] = f"<{tables[ORDERS_KEY]}.Arn>/index/{WATCH_INDEX}"
        stream = f"<{tables[ORDERS_KEY]}.StreamArn>"
        for name, handler in self.handlers().items():
            granted = grants(self.statements_of(template, handler), "dynamodb")
            granted.pop(stream, None)  # the relay's stream reads: test_relay_reads_only_the_orders_stream
            if granted.get("*") == {"dynamodb:ListStreams"}:
                granted.pop("*")
            expected = {arns[key]: access for key, access in TABLE_ACCESS[name].items()}
            assert granted == expected, name

    def test_inventory_only_for_reserve_and_release_ledger_only_for_charge_and_refund(self, template: Template) -> None:
        # The same rule as TABLE_ACCESS, said the other way round.
        tables = table_ids(template)
        for name, handler in self.handlers().items():
            touched: set[str] = set()
            for statement in self.statements_of(template, handler):
                touched |= refs(statement["Resource"]) & set(tables.values())
            assert (tables[INVENTORY_KEY] in touched) == (name in {"reserve_inventory", "release_inventory"}), name
            assert (tables[PAYMENTS_KEY] in touched) == (name in {"charge_payment", "refund_payment"}), name
            if name == "notify_shipping":
                assert touched == {tables[ORDERS_KEY]}

    def test_get_order_reads_only(self, template: Template) -> None:
        statements = self.statements_of(template, GET_ORDER)
        assert not actions(statements) & DYNAMODB_WRITES
        assert {a for a in actions(statements) if not a.startswith(LOGGING)} == {"dynamodb:GetItem"}

    def test_create_order_only_writes_the_order_and_its_idempotency_record(self, template: Template) -> None:
        # It no longer starts the saga: no states:StartExecution, no events:PutEvents.
        statements = self.statements_of(template, CREATE_ORDER)
        assert {a for a in actions(statements) if not a.startswith(LOGGING)} == ORDER_WRITE | CLAIM_KEY
        tables = table_ids(template)
        assert grants(statements, "dynamodb") == {
            f"<{tables[ORDERS_KEY]}.Arn>": ORDER_WRITE,
            f"<{tables[IDEMPOTENCY_KEY]}.Arn>": CLAIM_KEY,
        }
        env = functions_by_handler(template)[CREATE_ORDER][1]["Environment"]["Variables"]
        assert "STATE_MACHINE_ARN" not in env and "EVENT_BUS_NAME" not in env

    def test_function_log_permissions_are_scoped_to_its_log_group(self, template: Template) -> None:
        for handler, (_, props) in functions_by_handler(template).items():
            statements = role_statements(template, function_role(props))
            (group_id,) = refs(props["LoggingConfig"]["LogGroup"])
            assert resources_for_action(statements, "logs:PutLogEvents") == {group_id}, handler

    # --- outbox relay: orders stream -> start_saga -------------------------------------------

    def test_relay_is_fed_new_orders_from_the_stream(self, template: Template, dlq_id: str) -> None:
        _, mapping = only(resources(template, "AWS::Lambda::EventSourceMapping"))
        props = mapping["Properties"]
        tables = table_ids(template)
        assert props["EventSourceArn"] == {"Fn::GetAtt": [tables[ORDERS_KEY], "StreamArn"]}
        assert refs(props["FunctionName"]) == {self.function_id(template, RELAY)}
        assert props["StartingPosition"] == "TRIM_HORIZON"
        (pattern,) = props["FilterCriteria"]["Filters"]
        assert json.loads(pattern["Pattern"]) == {"eventName": ["INSERT"]}
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BisectBatchOnFunctionError"] is True
        assert props["MaximumRetryAttempts"] == 10  # bounded: a poison record cannot block the shard
        assert props["ParallelizationFactor"] == 10  # a failing start holds back a tenth of new orders
        assert refs(props["DestinationConfig"]["OnFailure"]["Destination"]) == {dlq_id}

    def test_relay_reads_only_the_orders_stream_and_reaches_the_queue(self, template: Template, dlq_id: str) -> None:
        statements = self.statements_of(template, self.handler(RELAY))
        stream = f"<{table_ids(template)[ORDERS_KEY]}.StreamArn>"
        granted = grants(statements, "dynamodb")
        assert granted == {stream: STREAM_READ, "*": {"dynamodb:ListStreams"}}
        assert resources_for_action(statements, "sqs:SendMessage") == {dlq_id}
        assert {a for a in actions(statements) if a.startswith("sqs:")} <= {
            "sqs:SendMessage",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
        }

    # --- reconciler: schedule -> reconcile ---------------------------------------------------

    def test_reconciler_runs_every_minute_on_the_default_bus(self, template: Template) -> None:
        scheduled = {
            logical_id: rule["Properties"]
            for logical_id, rule in resources(template, "AWS::Events::Rule").items()
            if "ScheduleExpression" in rule["Properties"]
        }
        rule_id, rule = only(scheduled)
        assert rule["ScheduleExpression"] == "rate(1 minute)"
        assert "EventBusName" not in rule and "EventPattern" not in rule
        assert rule["State"] == "ENABLED"
        (target,) = rule["Targets"]
        reconcile = self.function_id(template, RECONCILER)
        assert refs(target["Arn"]) == {reconcile}
        permissions = [
            p["Properties"]
            for p in resources(template, "AWS::Lambda::Permission").values()
            if refs(p["Properties"]["SourceArn"]) == {rule_id}
        ]
        assert [refs(p["FunctionName"]) for p in permissions] == [{reconcile}]
        assert permissions[0]["Principal"] == "events.amazonaws.com"

    def test_reconciler_settings(self, template: Template) -> None:
        env = functions_by_handler(template)[self.handler(RECONCILER)][1]["Environment"]["Variables"]
        assert env["STUCK_AFTER_SECONDS"] == STUCK_AFTER_SECONDS
        assert env["MAX_RECOVERY_ATTEMPTS"] == MAX_RECOVERY_ATTEMPTS
        for handler, (_, props) in functions_by_handler(template).items():
            if handler != self.handler(RECONCILER):
                assert "STUCK_AFTER_SECONDS" not in props["Environment"]["Variables"], handler

    def test_a_failed_reconciler_run_is_not_retried(self, template: Template) -> None:
        reconcile = self.function_id(template, RECONCILER)
        (config,) = [
            c["Properties"]
            for c in resources(template, "AWS::Lambda::EventInvokeConfig").values()
            if refs(c["Properties"]["FunctionName"]) == {reconcile}
        ]
        assert config["MaximumRetryAttempts"] == 0

    def test_only_the_reconciler_puts_metrics_and_only_in_the_saga_namespace(self, template: Template) -> None:
        for handler in functions_by_handler(template):
            statements = self.statements_of(template, handler)
            metric = statements_with_action(statements, "cloudwatch:PutMetricData")
            if handler == self.handler(RECONCILER):
                (statement,) = metric
                assert statement["Action"] == "cloudwatch:PutMetricData"
                assert statement["Resource"] == "*"
                assert statement["Condition"] == METRIC_CONDITION
            else:
                assert not metric, handler
            assert {a for a in actions(statements) if a.startswith("cloudwatch:")} <= {"cloudwatch:PutMetricData"}

    # --- dead-letter queue -------------------------------------------------------------------

    def test_one_encrypted_dead_letter_queue_that_refuses_plain_http(self, template: Template, dlq_id: str) -> None:
        queue = template.to_json()["Resources"][dlq_id]["Properties"]
        assert queue["SqsManagedSseEnabled"] is True
        assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
        policies = [
            p["Properties"]["PolicyDocument"]["Statement"]
            for p in resources(template, "AWS::SQS::QueuePolicy").values()
            if dlq_id in refs(p["Properties"]["Queues"])
        ]
        (statements,) = policies
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )

    # --- alarms ----------------------------------------------------------------------------

    def test_alarms(self, alarms: dict[str, dict]) -> None:
        assert set(alarms) == {f"{self.stack_name}-{name}" for name in COMMON_ALARMS | self.extra_alarms}
        for name, alarm in alarms.items():
            assert alarm["TreatMissingData"] == "notBreaching", name
            assert alarm["Period"] == 60, name
            assert alarm["EvaluationPeriods"] == 1, name
            assert alarm["ComparisonOperator"] == "GreaterThanThreshold", name

    def test_dead_letter_alarm(self, alarms: dict[str, dict], dlq_id: str) -> None:
        alarm = alarms[f"{self.stack_name}-DeadLetters"]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
        (dimension,) = alarm["Dimensions"]
        assert dimension["Name"] == "QueueName" and refs(dimension["Value"]) == {dlq_id}
        assert alarm["Threshold"] == 0

    def test_reconciler_errors_alarm(self, template: Template, alarms: dict[str, dict]) -> None:
        alarm = alarms[f"{self.stack_name}-ReconcilerErrors"]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
        (dimension,) = alarm["Dimensions"]
        assert dimension["Name"] == "FunctionName"
        assert refs(dimension["Value"]) == {self.function_id(template, RECONCILER)}
        assert alarm["Threshold"] == 0

    def test_stuck_orders_alarm(self, alarms: dict[str, dict]) -> None:
        alarm = alarms[f"{self.stack_name}-StuckOrders"]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("OrderSaga", "OldestOpenOrderAge")
        assert alarm["Dimensions"] == [{"Name": "Style", "Value": self.style}]
        assert alarm["Statistic"] == "Maximum"
        assert alarm["Threshold"] == STUCK_ALARM_SECONDS

    def test_parked_orders_alarm(self, alarms: dict[str, dict]) -> None:
        alarm = alarms[f"{self.stack_name}-OrdersNeedingAttention"]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("OrderSaga", "OrdersNeedingAttention")
        assert alarm["Dimensions"] == [{"Name": "Style", "Value": self.style}]
        assert alarm["Threshold"] == 0

    def test_every_alarm_notifies_the_alarm_topic_if_the_target_has_one(
        self, template: Template, alarms: dict[str, dict]
    ) -> None:
        topics = resources(template, "AWS::SNS::Topic")
        outputs = template.to_json()["Outputs"]
        if not self.expected.alarm_topic:
            assert topics == {}
            assert "AlarmTopicArn" not in outputs
            for name, alarm in alarms.items():
                assert not alarm.get("AlarmActions") and not alarm.get("OKActions"), name
            return
        topic_id, _ = only(topics)
        for name, alarm in alarms.items():
            assert alarm["AlarmActions"] == [{"Ref": topic_id}], name
            assert alarm["OKActions"] == [{"Ref": topic_id}], name
        assert outputs["AlarmTopicArn"]["Value"] == {"Ref": topic_id}

    def test_the_alarm_topic_is_encrypted_refuses_plain_http_and_takes_only_this_stacks_alarms(
        self, template: Template
    ) -> None:
        if not self.expected.alarm_topic:
            assert resources(template, "AWS::KMS::Key") == {}
            return
        topic_id, topic = only(resources(template, "AWS::SNS::Topic"))
        assert topic["Properties"]["TopicName"] == f"{self.stack_name}-alarms"
        (key_id,) = refs(topic["Properties"]["KmsMasterKeyId"])
        key = resources(template, "AWS::KMS::Key")[key_id]
        assert key["Properties"]["EnableKeyRotation"] is True
        _, policy = only(resources(template, "AWS::SNS::TopicPolicy"))
        assert refs(policy["Properties"]["Topics"]) == {topic_id}
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )
        alarm_arn = f"arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:{self.stack_name}-*"
        for document, actions_ in (
            (policy["Properties"]["PolicyDocument"], {"sns:Publish"}),
            (key["Properties"]["KeyPolicy"], {"kms:Decrypt", "kms:GenerateDataKey*"}),
        ):
            (cloudwatch,) = [
                s for s in document["Statement"] if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
            ]
            assert cloudwatch["Effect"] == "Allow"
            assert set(as_list(cloudwatch["Action"])) == actions_
            assert cloudwatch["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
            assert flatten(cloudwatch["Condition"]["ArnLike"]["aws:SourceArn"]) == alarm_arn

    # --- API and outputs -------------------------------------------------------------------

    def test_api_routes_to_create_and_get_functions(self, template: Template) -> None:
        functions = {logical_id: handler for handler, (logical_id, _) in functions_by_handler(template).items()}
        api_resources = resources(template, "AWS::ApiGateway::Resource")
        rest_api = logical_id_of_type(template, "AWS::ApiGateway::RestApi")
        routes = {}
        for method in resources(template, "AWS::ApiGateway::Method").values():
            props = method["Properties"]
            if props["HttpMethod"] == "OPTIONS":
                continue
            (resource_id,) = refs(props["ResourceId"])
            path_part = api_resources[resource_id]["Properties"]["PathPart"]
            integration = props["Integration"]
            assert integration["Type"] == "AWS_PROXY"
            assert integration["IntegrationHttpMethod"] == "POST"
            (target,) = refs(integration["Uri"]) & set(functions)
            routes[(props["HttpMethod"], path_part)] = functions[target]
        assert routes == {("POST", "orders"): CREATE_ORDER, ("GET", "{orderId}"): GET_ORDER}
        by_path = {r["Properties"]["PathPart"]: (i, r) for i, r in api_resources.items()}
        orders_id, orders = by_path["orders"]
        assert refs(orders["Properties"]["ParentId"]) == {rest_api}  # /orders hangs off the root
        assert refs(by_path["{orderId}"][1]["Properties"]["ParentId"]) == {orders_id}

    def test_api_stage_logs_errors_and_access_but_never_bodies(self, template: Template) -> None:
        _, stage = only(resources(template, "AWS::ApiGateway::Stage"))
        (settings,) = stage["Properties"]["MethodSettings"]
        assert (settings["LoggingLevel"], settings["DataTraceEnabled"]) == ("ERROR", False)
        assert "AccessLogSetting" in stage["Properties"]

    def test_api_may_invoke_only_its_two_functions(self, template: Template) -> None:
        functions = {logical_id: handler for handler, (logical_id, _) in functions_by_handler(template).items()}
        invoked = {
            functions[next(iter(refs(p["Properties"]["FunctionName"])))]
            for p in resources(template, "AWS::Lambda::Permission").values()
            if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
        }
        assert invoked == {CREATE_ORDER, GET_ORDER}

    def test_outputs(self, template: Template, dlq_id: str) -> None:
        outputs = template.to_json()["Outputs"]
        assert COMMON_OUTPUTS | self.extra_outputs <= set(outputs)
        tables = table_ids(template)
        assert refs(outputs["OrdersTableName"]["Value"]) == {tables[ORDERS_KEY]}
        assert refs(outputs["InventoryTableName"]["Value"]) == {tables[INVENTORY_KEY]}
        assert refs(outputs["PaymentsTableName"]["Value"]) == {tables[PAYMENTS_KEY]}
        assert refs(outputs["DeadLetterQueueUrl"]["Value"]) == {dlq_id}
        assert refs(outputs["ReconcilerFunctionName"]["Value"]) == {self.function_id(template, RECONCILER)}
        assert outputs["AlarmNamePrefix"]["Value"] == f"{self.stack_name}-"
        assert refs(outputs["RestApiId"]["Value"]) == {logical_id_of_type(template, "AWS::ApiGateway::RestApi")}
        stage = logical_id_of_type(template, "AWS::ApiGateway::Stage")
        assert stage in refs(outputs["ApiUrl"]["Value"])
