"""Small queries over a synthesized CloudFormation template (a plain dict)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from aws_cdk.assertions import Template


def resources(template: Template, type_: str) -> dict[str, dict]:
    return template.find_resources(type_)


def refs(value: Any) -> set[str]:
    """Logical ids referenced (Ref / Fn::GetAtt) anywhere inside `value`."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for item in value.values():
            found |= refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= refs(item)
    return found


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def only(mapping: dict[str, dict]) -> tuple[str, dict]:
    assert len(mapping) == 1, f"expected exactly one, found {sorted(mapping)}"
    return next(iter(mapping.items()))


def functions_by_handler(template: Template) -> dict[str, tuple[str, dict]]:
    """Handler string -> (logical id, Properties) of every Lambda function."""
    out: dict[str, tuple[str, dict]] = {}
    for logical_id, resource in resources(template, "AWS::Lambda::Function").items():
        props = resource["Properties"]
        assert props["Handler"] not in out, f"two functions with handler {props['Handler']}"
        out[props["Handler"]] = (logical_id, props)
    return out


def function_role(props: dict) -> str:
    (role,) = refs(props["Role"])
    return role


def role_statements(template: Template, role_id: str) -> list[dict]:
    """All policy statements attached to a role (its AWS::IAM::Policy resources and inline policies)."""
    statements: list[dict] = []
    for resource in resources(template, "AWS::IAM::Policy").values():
        props = resource["Properties"]
        if role_id in refs(props.get("Roles", [])):
            statements += props["PolicyDocument"]["Statement"]
    role = template.to_json()["Resources"][role_id]
    for policy in role["Properties"].get("Policies", []):
        statements += policy["PolicyDocument"]["Statement"]
    return statements


def actions(statements: list[dict]) -> set[str]:
    return {action for statement in statements for action in as_list(statement["Action"])}


def resources_for_action(statements: list[dict], action: str) -> set[str]:
    """Logical ids of the resources a role may use `action` on."""
    found: set[str] = set()
    for statement in statements:
        if action in as_list(statement["Action"]):
            found |= refs(statement["Resource"])
    return found


def logical_id_of_type(template: Template, type_: str, **props: Any) -> str:
    matches = {
        logical_id: resource
        for logical_id, resource in resources(template, type_).items()
        if all(resource["Properties"].get(key) == value for key, value in props.items())
    }
    logical_id, _ = only(matches)
    return logical_id


def table_ids(template: Template) -> dict[tuple[str, ...], str]:
    """The saga's tables (construct `Tables`, shared.infra.tables): key attribute names (partition
    key, then sort key if any) -> table logical id. A style's own tables are its tests' to find."""
    out = {}
    for logical_id, resource in resources(template, "AWS::DynamoDB::Table").items():
        if not logical_id.startswith("Tables"):
            continue
        schema = sorted(resource["Properties"]["KeySchema"], key=lambda key: key["KeyType"] != "HASH")
        out[tuple(key["AttributeName"] for key in schema)] = logical_id
    return out


def flatten(value: Any) -> str:
    """A resource as one string: `{"Fn::GetAtt": [id, "Arn"]}` -> `<id.Arn>`, `{"Ref": id}` ->
    `<id>`, `Fn::Join` joined; any other intrinsic as its JSON (never equal to a plain name)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return delimiter.join(flatten(item) for item in items)
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{resource}.{attribute}>"
        if "Ref" in value:
            return f"<{value['Ref']}>"
    return json.dumps(value, sort_keys=True)


def grants(statements: list[dict], service: str) -> dict[str, set[str]]:
    """Flattened resource -> the actions of `service` (e.g. "dynamodb") allowed on it."""
    out: dict[str, set[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow", statement
        wanted = {a for a in as_list(statement["Action"]) if a.split(":")[0] == service}
        if not wanted:
            continue
        for resource in as_list(statement["Resource"]):
            out.setdefault(flatten(resource), set()).update(wanted)
    return out


def statements_with_action(statements: list[dict], action: str) -> list[dict]:
    return [s for s in statements if action in as_list(s["Action"])]


def state_machine_definition(template: Template) -> tuple[str, dict, dict]:
    """(logical id, Properties, parsed definition); CloudFormation tokens become their logical ids."""
    logical_id, resource = only(resources(template, "AWS::StepFunctions::StateMachine"))
    props = resource["Properties"]
    body = props["DefinitionString"]
    if isinstance(body, dict):
        parts = body["Fn::Join"][1]
        body = "".join(part if isinstance(part, str) else next(iter(refs(part))) for part in parts)
    return logical_id, props, json.loads(body)
