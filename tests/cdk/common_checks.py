"""Checks both stacks must pass. Each test module subclasses `CommonStackChecks` (pytest collects
the subclass) and provides a module-scoped `template` fixture, so each stack is synthesized once."""

from __future__ import annotations

from aws_cdk.assertions import Template

from template_helpers import (
    actions,
    function_role,
    functions_by_handler,
    logical_id_of_type,
    refs,
    resources,
    resources_for_action,
    role_statements,
    strings,
    table_ids,
)

# Written out here on purpose (not imported from shared.infra) so that a change there fails a test.
SERVICES = {
    "create_order": "orders",
    "reserve_inventory": "inventory",
    "charge_payment": "payment",
    "notify_shipping": "shipping",
    "release_inventory": "inventory",
}
INVENTORY_STEPS = {"reserve_inventory", "release_inventory"}
GET_ORDER = "shared.entrypoints.get_order.handler"
COMMON_OUTPUTS = {"ApiUrl", "RestApiId", "OrdersTableName", "InventoryTableName"}
# The only actions that AWS defines on no resource: Step Functions log delivery and X-Ray.
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
}
DYNAMODB_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


class CommonStackChecks:
    style: str
    stack_name: str
    extra_outputs: set[str]

    def handler(self, step: str) -> str:
        return f"{self.style}.handlers.{step}.handler"

    def all_handlers(self) -> set[str]:
        return {self.handler(step) for step in SERVICES} | {GET_ORDER}

    def statements_of(self, template: Template, handler: str) -> list[dict]:
        _, props = functions_by_handler(template)[handler]
        return role_statements(template, function_role(props))

    # --- functions -------------------------------------------------------------------------

    def test_functions_are_exactly_the_steps_and_get_order(self, template: Template) -> None:
        assert set(functions_by_handler(template)) == self.all_handlers()

    def test_every_function_is_python312_256mb_10s(self, template: Template) -> None:
        for handler, (_, props) in functions_by_handler(template).items():
            assert props["Runtime"] == "python3.12", handler
            assert props["MemorySize"] == 256, handler
            assert props["Timeout"] == 10, handler

    def test_function_environment(self, template: Template) -> None:
        tables = table_ids(template)
        functions = functions_by_handler(template)
        expected_services = {self.handler(step): service for step, service in SERVICES.items()}
        expected_services[GET_ORDER] = "orders"
        for handler, (_, props) in functions.items():
            env = props["Environment"]["Variables"]
            assert env["POWERTOOLS_SERVICE_NAME"] == expected_services[handler], handler
            assert env["SAGA_STYLE"] == self.style, handler
            assert env["LOG_LEVEL"] == "INFO", handler
            assert refs(env["ORDERS_TABLE"]) == {tables["orderId"]}, handler
        for step in SERVICES:
            env = functions[self.handler(step)][1]["Environment"]["Variables"]
            if step in INVENTORY_STEPS:
                assert refs(env["INVENTORY_TABLE"]) == {tables["sku"]}, step
            else:
                assert "INVENTORY_TABLE" not in env, step
        assert "INVENTORY_TABLE" not in functions[GET_ORDER][1]["Environment"]["Variables"]

    def test_every_function_logs_to_its_own_short_lived_log_group(self, template: Template) -> None:
        log_groups = resources(template, "AWS::Logs::LogGroup")
        used = set()
        for handler, (_, props) in functions_by_handler(template).items():
            (group_id,) = refs(props["LoggingConfig"]["LogGroup"])
            group = log_groups[group_id]
            assert group["Properties"]["LogGroupName"] == f"/aws/lambda/{props['FunctionName']}", handler
            assert props["FunctionName"].startswith(f"{self.stack_name}-"), handler
            assert group["Properties"]["RetentionInDays"] <= 14, handler
            assert group["DeletionPolicy"] == "Delete", handler
            used.add(group_id)
        assert len(used) == len(self.all_handlers())

    # --- tables ----------------------------------------------------------------------------

    def test_tables(self, template: Template) -> None:
        tables = table_ids(template)
        assert set(tables) == {"orderId", "sku"}
        for logical_id in tables.values():
            resource = template.to_json()["Resources"][logical_id]
            props = resource["Properties"]
            assert props["BillingMode"] == "PAY_PER_REQUEST"
            assert props["AttributeDefinitions"][0]["AttributeType"] == "S"
            assert props["KeySchema"][0]["KeyType"] == "HASH"
            assert resource["DeletionPolicy"] == "Delete"

    # --- IAM -------------------------------------------------------------------------------

    def test_no_wildcard_actions_and_no_literal_arns(self, template: Template) -> None:
        policies = resources(template, "AWS::IAM::Policy")
        assert policies
        for logical_id, policy in policies.items():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow", logical_id
                for action in actions([statement]):
                    assert "*" not in action, (logical_id, action)
                if statement["Resource"] == "*" or "*" in list(strings(statement["Resource"])):
                    assert actions([statement]) <= RESOURCE_STAR_ACTIONS, (logical_id, statement)
                for text in strings(statement["Resource"]):
                    assert not text.startswith("arn:"), (logical_id, text)

    def test_roles_have_no_managed_policies(self, template: Template) -> None:
        for logical_id, role in resources(template, "AWS::IAM::Role").items():
            assert "ManagedPolicyArns" not in role["Properties"], logical_id

    def test_inventory_table_only_for_reserve_and_release(self, template: Template) -> None:
        inventory = table_ids(template)["sku"]
        allowed = {self.handler(step) for step in INVENTORY_STEPS}
        for handler in self.all_handlers():
            statements = self.statements_of(template, handler)
            touches_inventory = any(inventory in refs(s["Resource"]) for s in statements)
            assert touches_inventory == (handler in allowed), handler
            if handler in allowed:
                assert DYNAMODB_WRITES <= {
                    a for s in statements if inventory in refs(s["Resource"]) for a in actions([s])
                }

    def test_orders_table_read_write_for_steps_read_only_for_get_order(self, template: Template) -> None:
        orders = table_ids(template)["orderId"]
        for step in SERVICES:
            statements = self.statements_of(template, self.handler(step))
            for action in DYNAMODB_WRITES | {"dynamodb:GetItem"}:
                assert orders in resources_for_action(statements, action), (step, action)
        get_statements = self.statements_of(template, GET_ORDER)
        assert orders in resources_for_action(get_statements, "dynamodb:GetItem")
        assert not actions(get_statements) & DYNAMODB_WRITES
        assert {a.split(":")[0] for a in actions(get_statements)} == {"dynamodb", "logs"}

    def test_function_log_permissions_are_scoped_to_its_log_group(self, template: Template) -> None:
        for handler, (_, props) in functions_by_handler(template).items():
            statements = role_statements(template, function_role(props))
            (group_id,) = refs(props["LoggingConfig"]["LogGroup"])
            assert resources_for_action(statements, "logs:PutLogEvents") == {group_id}, handler

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
        assert routes == {("POST", "orders"): self.handler("create_order"), ("GET", "{orderId}"): GET_ORDER}
        by_path = {r["Properties"]["PathPart"]: (i, r) for i, r in api_resources.items()}
        orders_id, orders = by_path["orders"]
        assert refs(orders["Properties"]["ParentId"]) == {rest_api}  # /orders hangs off the root
        assert refs(by_path["{orderId}"][1]["Properties"]["ParentId"]) == {orders_id}

    def test_api_may_invoke_only_its_two_functions(self, template: Template) -> None:
        functions = {logical_id: handler for handler, (logical_id, _) in functions_by_handler(template).items()}
        invoked = {
            functions[next(iter(refs(p["Properties"]["FunctionName"])))]
            for p in resources(template, "AWS::Lambda::Permission").values()
            if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
        }
        assert invoked == {self.handler("create_order"), GET_ORDER}

    def test_outputs(self, template: Template) -> None:
        outputs = template.to_json()["Outputs"]
        assert COMMON_OUTPUTS | self.extra_outputs <= set(outputs)
        tables = table_ids(template)
        assert refs(outputs["OrdersTableName"]["Value"]) == {tables["orderId"]}
        assert refs(outputs["InventoryTableName"]["Value"]) == {tables["sku"]}
        assert refs(outputs["RestApiId"]["Value"]) == {logical_id_of_type(template, "AWS::ApiGateway::RestApi")}
        stage = logical_id_of_type(template, "AWS::ApiGateway::Stage")
        assert stage in refs(outputs["ApiUrl"]["Value"])
