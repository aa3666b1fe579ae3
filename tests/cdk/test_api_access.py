"""Who may call the orders API, and how the handlers learn who called (shared.infra.api,
shared.infra.customers): open on LocalStack, behind a Cognito user pool authorizer, an API key and
its usage plan on AWS; and the idempotency records' table, which only create_order touches.
Expectations are written out here, not read from shared.infra."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from tests.cdk.common_checks import CREATE_ORDER, GET_ORDER, IDEMPOTENCY_KEY
from tests.cdk.template_helpers import (
    function_role,
    functions_by_handler,
    grants,
    logical_id_of_type,
    only,
    refs,
    resources,
    role_statements,
    table_ids,
)

IDENTITY = "CUSTOMER_IDENTITY"
API_RESOURCES = ("AWS::Cognito::UserPool", "AWS::ApiGateway::Authorizer", "AWS::ApiGateway::UsagePlan")
AWS_OUTPUTS = {"UserPoolId", "UserPoolClientId", "ApiKeyId"}


@pytest.fixture(params=["orchestration", "choreography"])
def aws_template(request: pytest.FixtureRequest) -> Template:
    return request.getfixturevalue(f"{request.param}_aws_template")


@pytest.fixture(params=["orchestration", "choreography"])
def local_template(request: pytest.FixtureRequest) -> Template:
    return request.getfixturevalue(f"{request.param}_template")


@pytest.fixture(params=["local", "aws"])
def any_template(request: pytest.FixtureRequest) -> Template:
    suffix = "_aws" if request.param == "aws" else ""
    return request.getfixturevalue(f"orchestration{suffix}_template")


def api_methods(template: Template) -> dict[str, dict]:
    """HTTP method -> Properties of the API's methods (no CORS preflight)."""
    found = resources(template, "AWS::ApiGateway::Method").values()
    return {m["Properties"]["HttpMethod"]: m["Properties"] for m in found if m["Properties"]["HttpMethod"] != "OPTIONS"}


def identity_of(template: Template) -> dict[str, str | None]:
    """Handler -> its CUSTOMER_IDENTITY (None: not set)."""
    return {
        handler: props["Environment"]["Variables"].get(IDENTITY)
        for handler, (_, props) in functions_by_handler(template).items()
    }


# --- both targets ----------------------------------------------------------------------------


def test_the_idempotency_table_is_keyed_per_customer_and_key_and_expires_its_records(any_template: Template) -> None:
    logical_id = table_ids(any_template)[IDEMPOTENCY_KEY]
    table = any_template.to_json()["Resources"][logical_id]
    props = table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "customerId", "KeyType": "HASH"},
        {"AttributeName": "idempotencyKey", "KeyType": "RANGE"},
    ]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert "StreamSpecification" not in props and "GlobalSecondaryIndexes" not in props
    # A day's records, read only by the API: they go with the stack on both targets.
    assert table["DeletionPolicy"] == "Delete" and "DeletionProtectionEnabled" not in props


def test_only_create_order_touches_the_idempotency_table(any_template: Template) -> None:
    table = table_ids(any_template)[IDEMPOTENCY_KEY]
    for handler, (_, props) in functions_by_handler(any_template).items():
        granted = grants(role_statements(any_template, function_role(props)), "dynamodb")
        touched = {resource: access for resource, access in granted.items() if table in resource}
        expected = {f"<{table}.Arn>": {"dynamodb:GetItem", "dynamodb:PutItem"}} if handler == CREATE_ORDER else {}
        assert touched == expected, handler
        env = props["Environment"]["Variables"]
        assert ("IDEMPOTENCY_TABLE" in env) == (handler == CREATE_ORDER), handler


# --- local: open, the body names the customer ----------------------------------------------------


def test_local_api_is_open_and_its_handlers_take_the_customer_from_the_body(local_template: Template) -> None:
    for method, props in api_methods(local_template).items():
        assert props["AuthorizationType"] == "NONE", method
        assert not props.get("ApiKeyRequired"), method
    for type_ in (*API_RESOURCES, "AWS::ApiGateway::ApiKey"):
        assert resources(local_template, type_) == {}, type_
    identity = identity_of(local_template)
    assert {identity[CREATE_ORDER], identity[GET_ORDER]} == {"body"}
    assert {value for handler, value in identity.items() if handler not in (CREATE_ORDER, GET_ORDER)} == {None}
    assert not AWS_OUTPUTS & set(local_template.to_json()["Outputs"])


def test_local_stage_keeps_its_throttle(local_template: Template) -> None:
    _, stage = only(resources(local_template, "AWS::ApiGateway::Stage"))
    (settings,) = stage["Properties"]["MethodSettings"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (50, 100)


# --- aws: signed-in customers, an API key, a usage plan ------------------------------------------


def test_aws_methods_need_a_customers_token_and_an_api_key(aws_template: Template) -> None:
    authorizer_id, authorizer = only(resources(aws_template, "AWS::ApiGateway::Authorizer"))
    pool_id, _ = only(resources(aws_template, "AWS::Cognito::UserPool"))
    props = authorizer["Properties"]
    assert props["Type"] == "COGNITO_USER_POOLS"
    assert refs(props["ProviderARNs"]) == {pool_id}
    assert props["IdentitySource"] == "method.request.header.Authorization"
    methods = api_methods(aws_template)
    assert set(methods) == {"POST", "GET"}
    for method, props in methods.items():
        assert props["AuthorizationType"] == "COGNITO_USER_POOLS", method
        assert refs(props["AuthorizerId"]) == {authorizer_id}, method
        assert props["ApiKeyRequired"] is True, method


def test_aws_handlers_take_the_customer_from_the_token(aws_template: Template) -> None:
    identity = identity_of(aws_template)
    assert {identity[CREATE_ORDER], identity[GET_ORDER]} == {"cognito-sub"}
    assert {value for handler, value in identity.items() if handler not in (CREATE_ORDER, GET_ORDER)} == {None}


def test_aws_usage_plan_throttles_and_caps_the_storefront_key(aws_template: Template) -> None:
    plan_id, plan = only(resources(aws_template, "AWS::ApiGateway::UsagePlan"))
    props = plan["Properties"]
    assert props["Throttle"] == {"RateLimit": 25, "BurstLimit": 50}
    assert props["Quota"] == {"Limit": 100_000, "Period": "DAY"}
    (stage,) = props["ApiStages"]
    assert refs(stage["ApiId"]) == {logical_id_of_type(aws_template, "AWS::ApiGateway::RestApi")}
    assert refs(stage["Stage"]) == {logical_id_of_type(aws_template, "AWS::ApiGateway::Stage")}
    key_id, key = only(resources(aws_template, "AWS::ApiGateway::ApiKey"))
    assert "Value" not in key["Properties"]  # generated by API Gateway, never in the template
    _, link = only(resources(aws_template, "AWS::ApiGateway::UsagePlanKey"))
    assert refs(link["Properties"]["UsagePlanId"]) == {plan_id}
    assert refs(link["Properties"]["KeyId"]) == {key_id}
    assert link["Properties"]["KeyType"] == "API_KEY"
    # The stage's own throttle still caps every key together.
    _, stage_resource = only(resources(aws_template, "AWS::ApiGateway::Stage"))
    (settings,) = stage_resource["Properties"]["MethodSettings"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (50, 100)


def test_aws_customers_are_created_by_the_shop_and_kept_with_the_orders(aws_template: Template) -> None:
    _, pool = only(resources(aws_template, "AWS::Cognito::UserPool"))
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True  # no self sign-up
    assert props["UsernameAttributes"] == ["email"]
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[f"Require{kind}"] for kind in ("Lowercase", "Uppercase", "Numbers", "Symbols"))
    assert props["MfaConfiguration"] == "OPTIONAL" and props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert (pool["DeletionPolicy"], props["DeletionProtection"]) == ("Retain", "ACTIVE")
    _, client = only(resources(aws_template, "AWS::Cognito::UserPoolClient"))
    client_props = client["Properties"]
    assert client_props.get("GenerateSecret") is False
    assert set(client_props["ExplicitAuthFlows"]) == {
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert client_props["PreventUserExistenceErrors"] == "ENABLED"


def test_aws_outputs_say_how_to_sign_in_and_which_key_to_send(aws_template: Template) -> None:
    outputs = aws_template.to_json()["Outputs"]
    assert set(outputs) >= AWS_OUTPUTS
    assert refs(outputs["UserPoolId"]["Value"]) == {logical_id_of_type(aws_template, "AWS::Cognito::UserPool")}
    client = logical_id_of_type(aws_template, "AWS::Cognito::UserPoolClient")
    assert refs(outputs["UserPoolClientId"]["Value"]) == {client}
    assert refs(outputs["ApiKeyId"]["Value"]) == {logical_id_of_type(aws_template, "AWS::ApiGateway::ApiKey")}
