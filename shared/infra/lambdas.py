"""The saga's Lambdas for one style: the five steps plus `GET /orders/{orderId}`.

Handlers live at `<style>.handlers.<step>.handler`; table access is granted here because it is
the same in both styles. Style-specific permissions (start the state machine, put events) are
granted by the stacks.
"""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from shared.infra.functions import SagaFunction
from shared.infra.tables import SagaTables

# Step name -> POWERTOOLS_SERVICE_NAME of the service that owns it.
STEP_SERVICES: dict[str, str] = {
    "create_order": "orders",
    "reserve_inventory": "inventory",
    "charge_payment": "payment",
    "notify_shipping": "shipping",
    "release_inventory": "inventory",
}
# Only these steps touch the inventory table.
INVENTORY_STEPS: frozenset[str] = frozenset({"reserve_inventory", "release_inventory"})
GET_ORDER_HANDLER = "shared.entrypoints.get_order.handler"


def construct_id(step: str) -> str:
    """`reserve_inventory` -> `ReserveInventory`."""
    return "".join(part.capitalize() for part in step.split("_"))


class SagaLambdas(Construct):
    """Creates one SagaFunction per step and the get-order function, with their table grants."""

    def __init__(
        self, scope: Construct, construct_id_: str, *, code: lambda_.Code, saga_style: str, tables: SagaTables
    ) -> None:
        super().__init__(scope, construct_id_)
        self.steps: dict[str, lambda_.Function] = {}
        for step, service in STEP_SERVICES.items():
            environment = {"ORDERS_TABLE": tables.orders.table_name}
            if step in INVENTORY_STEPS:
                environment["INVENTORY_TABLE"] = tables.inventory.table_name
            fn = SagaFunction(
                self,
                construct_id(step),
                code=code,
                handler=f"{saga_style}.handlers.{step}.handler",
                name=step.replace("_", "-"),
                service=service,
                saga_style=saga_style,
                environment=environment,
            ).function
            tables.orders.grant_read_write_data(fn)
            if step in INVENTORY_STEPS:
                tables.inventory.grant_read_write_data(fn)
            self.steps[step] = fn

        self.get_order = SagaFunction(
            self,
            "GetOrder",
            code=code,
            handler=GET_ORDER_HANDLER,
            name="get-order",
            service="orders",
            saga_style=saga_style,
            environment={"ORDERS_TABLE": tables.orders.table_name},
        ).function
        tables.orders.grant_read_data(self.get_order)

    @property
    def create_order(self) -> lambda_.Function:
        return self.steps["create_order"]
