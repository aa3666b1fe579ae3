"""The saga's message schema: one pydantic model per event, used by both styles.

Choreography puts these on the bus as the `detail` of an event whose `detail-type` is the class
name; orchestration passes them between Step Functions states as step input and output. Every
model carries the orderId, which is the correlation id across services.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, StringConstraints

OrderId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{0,31}$")]
CustomerId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Quantity = Annotated[int, Field(ge=1, le=1000)]


def _number_to_decimal(value: object) -> object:
    # Money travels as a JSON number but is handled as Decimal (DynamoDB stores it exactly).
    # Strings and booleans are refused: "12" is not an amount.
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError("must be a number")
    return value if isinstance(value, Decimal) else Decimal(str(value))


Amount = Annotated[
    Decimal,
    BeforeValidator(_number_to_decimal),
    Field(gt=0, le=Decimal("1000000"), max_digits=12, decimal_places=2),
    PlainSerializer(float, return_type=float, when_used="json"),
]


class Message(BaseModel):
    """Strict base: unknown fields and wrong types are errors, never silently coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True, frozen=True)

    # EventBridge `source` of the service that publishes this event.
    source: ClassVar[str] = "saga.orders"

    @classmethod
    def detail_type(cls) -> str:
        return cls.__name__

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class OrderRequest(Message):
    """Body of `POST /orders`."""

    customer_id: CustomerId = Field(alias="customerId")
    sku: Sku
    quantity: Quantity
    amount: Amount


class OrderCreated(OrderRequest):
    order_id: OrderId = Field(alias="orderId")


class InventoryReserved(OrderCreated):
    source: ClassVar[str] = "saga.inventory"
    reservation_id: str = Field(alias="reservationId")


class InventoryFailed(OrderCreated):
    source: ClassVar[str] = "saga.inventory"
    reason: str


class PaymentCharged(InventoryReserved):
    source: ClassVar[str] = "saga.payment"
    payment_id: str = Field(alias="paymentId")


class PaymentFailed(InventoryReserved):
    source: ClassVar[str] = "saga.payment"
    reason: str


class ShippingScheduled(PaymentCharged):
    source: ClassVar[str] = "saga.shipping"
    tracking_number: str = Field(alias="trackingNumber")


class ShippingFailed(PaymentCharged):
    """Shipping refused the order for good (e.g. an undeliverable address): refund, then release."""

    source: ClassVar[str] = "saga.shipping"
    reason: str


class PaymentRefunded(PaymentCharged):
    source: ClassVar[str] = "saga.payment"
    refund_id: str = Field(alias="refundId")
    reason: str


class InventoryReleased(PaymentFailed):
    """Compensation done: the reserved stock is back (after a refund, if there was a charge).
    Nobody reacts to it; it closes the trace."""

    source: ClassVar[str] = "saga.inventory"
    payment_id: str | None = Field(default=None, alias="paymentId")
    refund_id: str | None = Field(default=None, alias="refundId")


class StepFailed(Message):
    """Not on the bus: how the orchestrator's Catch hands a compensation the order and why the
    step it caught failed (a domain answer or retries exhausted)."""

    order_id: OrderId = Field(alias="orderId")
    reason: str


EVENTS: tuple[type[Message], ...] = (
    OrderCreated,
    InventoryReserved,
    InventoryFailed,
    PaymentCharged,
    PaymentFailed,
    ShippingScheduled,
    ShippingFailed,
    PaymentRefunded,
    InventoryReleased,
)
EVENTS_BY_NAME: dict[str, type[Message]] = {event.detail_type(): event for event in EVENTS}

# Which events start which step, in both styles: choreography's rules are built from it, and
# each orchestration task takes the first as its input. Compensations are listed in the order
# they run: refund, then release.
ROUTES: dict[str, tuple[type[Message], ...]] = {
    "reserve_inventory": (OrderCreated,),
    "charge_payment": (InventoryReserved,),
    "notify_shipping": (PaymentCharged,),
    "refund_payment": (ShippingFailed,),
    "release_inventory": (PaymentFailed, PaymentRefunded),
}
