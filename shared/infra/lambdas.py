"""The saga's Lambdas for one style: the five steps, the orders API (create and get), the outbox
relay (`start_saga`) and the reconciler (`reconcile`).

`FUNCTIONS` is the one place that says, for each function, its handler, the service it belongs
to and what it may do to which table. Table access is granted here, because it is the same in
both styles, and it is exactly the DynamoDB calls the function's code makes (`shared.adapters`):
a TransactWriteItems is authorized as its parts (Put -> PutItem, Update -> UpdateItem,
ConditionCheck -> ConditionCheckItem), and the reconciler's Query names the WatchList index
itself, not `index/*`. A function gets the environment variable of each table it may touch, and
no other. Style-specific permissions (start the state machine, put events) are granted by the
stacks; stream and schedule wiring by `shared.infra.outbox` and `shared.infra.reconciler`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from shared import contract
from shared.contract import CREATE_ORDER, GET_ORDER, RECONCILE, START_SAGA
from shared.infra.functions import RECONCILER_TIMEOUT, TIMEOUT, SagaFunction
from shared.infra.tables import SagaTables

# What a function may touch: the four tables and the orders table's WatchList index.
ORDERS, INVENTORY, PAYMENTS, WATCH_LIST = "orders", "inventory", "payments", "watch-list"
IDEMPOTENCY = "idempotency"
TABLE_ENVIRONMENT = {
    ORDERS: "ORDERS_TABLE",
    INVENTORY: "INVENTORY_TABLE",
    PAYMENTS: "PAYMENTS_TABLE",
    IDEMPOTENCY: "IDEMPOTENCY_TABLE",
}

# The DynamoDB actions behind each way the code uses a table.
READ_ORDER = ("dynamodb:GetItem",)
# get, then a conditional put (PutItem, or the Put of a TransactWriteItems)
WRITE_ORDER = ("dynamodb:GetItem", "dynamodb:PutItem")
# the conditional `ADD stock` Update in the same TransactWriteItems as the order's Put
CHANGE_STOCK = ("dynamodb:UpdateItem",)
# shared.adapters.ledger: GetItem, Query, TransactWriteItems of Put + ConditionCheck
USE_LEDGER = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:ConditionCheckItem")
QUERY_INDEX = ("dynamodb:Query",)
# shared.adapters.idempotency: the record's conditional Put (in the order's TransactWriteItems),
# and a GetItem of the record that holds a key already used
CLAIM_KEY = ("dynamodb:GetItem", "dynamodb:PutItem")


@dataclass(frozen=True)
class FunctionSpec:
    service: str  # POWERTOOLS_SERVICE_NAME of the service that owns the function
    access: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    handler: str | None = None  # default: <style>.handlers.<name>.handler (SagaLambdas' handler_style)
    timeout: Duration = TIMEOUT


FUNCTIONS: dict[str, FunctionSpec] = {
    CREATE_ORDER: FunctionSpec(
        "orders", {ORDERS: WRITE_ORDER, IDEMPOTENCY: CLAIM_KEY}, handler="shared.entrypoints.create_order.handler"
    ),
    GET_ORDER: FunctionSpec("orders", {ORDERS: READ_ORDER}, handler="shared.entrypoints.get_order.handler"),
    "reserve_inventory": FunctionSpec("inventory", {ORDERS: WRITE_ORDER, INVENTORY: CHANGE_STOCK}),
    "charge_payment": FunctionSpec("payment", {ORDERS: WRITE_ORDER, PAYMENTS: USE_LEDGER}),
    "notify_shipping": FunctionSpec("shipping", {ORDERS: WRITE_ORDER}),
    "refund_payment": FunctionSpec("payment", {ORDERS: WRITE_ORDER, PAYMENTS: USE_LEDGER}),
    "release_inventory": FunctionSpec("inventory", {ORDERS: WRITE_ORDER, INVENTORY: CHANGE_STOCK}),
    # The outbox relay reads the new order from its stream record, never from a table.
    START_SAGA: FunctionSpec("orders"),
    RECONCILE: FunctionSpec("reconciler", {ORDERS: WRITE_ORDER, WATCH_LIST: QUERY_INDEX}, timeout=RECONCILER_TIMEOUT),
}


def handler_of(name: str, handler_style: str) -> str:
    """The handler a function of FUNCTIONS runs, where the style's handlers are `handler_style`'s."""
    return FUNCTIONS[name].handler or f"{handler_style}.handlers.{name}.handler"


class SagaLambdas(Construct):
    """Creates one SagaFunction per entry of FUNCTIONS, with its table grants and environment.

    `handler_style` is the style whose handlers the steps, the relay and the reconciler run (by
    default `saga_style`'s own): the hybrid runs orchestration's, under its own name and metrics."""

    def __init__(
        self,
        scope: Construct,
        construct_id_: str,
        *,
        code: lambda_.Code,
        saga_style: str,
        tables: SagaTables,
        handler_style: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id_)
        table_names = {
            ORDERS: tables.orders,
            INVENTORY: tables.inventory,
            PAYMENTS: tables.payments,
            IDEMPOTENCY: tables.idempotency,
        }
        arns = {
            ORDERS: tables.orders.table_arn,
            INVENTORY: tables.inventory.table_arn,
            PAYMENTS: tables.payments.table_arn,
            IDEMPOTENCY: tables.idempotency.table_arn,
            WATCH_LIST: tables.watch_index_arn,
        }
        self.functions: dict[str, lambda_.Function] = {}
        for name, spec in FUNCTIONS.items():
            fn = SagaFunction(
                self,
                contract.pascal(name),
                code=code,
                handler=handler_of(name, handler_style or saga_style),
                name=name,
                service=spec.service,
                saga_style=saga_style,
                environment={
                    TABLE_ENVIRONMENT[target]: table_names[target].table_name
                    for target in spec.access
                    if target in TABLE_ENVIRONMENT
                },
                timeout=spec.timeout,
            ).function
            for target, actions in spec.access.items():
                fn.add_to_role_policy(iam.PolicyStatement(actions=list(actions), resources=[arns[target]]))
            self.functions[name] = fn
        self.steps: dict[str, lambda_.Function] = {step: self.functions[step] for step in contract.STEPS}

    @property
    def create_order(self) -> lambda_.Function:
        return self.functions[CREATE_ORDER]

    @property
    def get_order(self) -> lambda_.Function:
        return self.functions[GET_ORDER]

    @property
    def start_saga(self) -> lambda_.Function:
        """The outbox relay: the stacks let it start the saga their way."""
        return self.functions[START_SAGA]

    @property
    def reconcile(self) -> lambda_.Function:
        """The reconciler: the stacks let it resume sagas their way."""
        return self.functions[RECONCILE]
