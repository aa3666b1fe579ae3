"""The saga's message schema: one pydantic model per event, used by both styles.

Choreography puts these on the bus as the `detail` of an event whose `detail-type` is the class
name; orchestration passes them between Step Functions states as step input and output. Every
model carries the orderId, which is the correlation id across services.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, StringConstraints

# Every string of every model is bounded and printable: no control characters (NUL, newlines,
# tabs...), never blank. Ids are short; reasons are short phrases ("card declined"), or a caught
# error's message after a prefix, which `fit_reason` makes fit before it goes into an event.
MAX_ID_LENGTH = 64
MAX_REASON_LENGTH = 256
# The saga makes order ids itself (uuid4), so any other is refused,
# also as the API's `{orderId}` path parameter (shared.entrypoints.get_order).
ORDER_ID_PATTERN = rf"^[A-Za-z0-9-]{{1,{MAX_ID_LENGTH}}}$"


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must not contain control characters")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Identifier = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH), AfterValidator(_printable)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REASON_LENGTH), AfterValidator(_printable)]
OrderId = Annotated[str, StringConstraints(pattern=ORDER_ID_PATTERN)]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{0,31}$")]
CustomerId = Identifier
Quantity = Annotated[int, Field(ge=1, le=1000)]


def fit_reason(text: str) -> str:
    """Free text (a caught error's message) as a Reason: each run of whitespace or unprintable
    characters becomes one space, and it is cut to MAX_REASON_LENGTH ("..." marks the cut). Blank
    text stays blank: the caller knows the fallback."""
    fitted = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    if len(fitted) <= MAX_REASON_LENGTH:
        return fitted
    return fitted[: MAX_REASON_LENGTH - 3].rstrip() + "..."


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
    reservation_id: Identifier = Field(alias="reservationId")


class InventoryFailed(OrderCreated):
    source: ClassVar[str] = "saga.inventory"
    reason: Reason


class PaymentCharged(InventoryReserved):
    source: ClassVar[str] = "saga.payment"
    payment_id: Identifier = Field(alias="paymentId")


class PaymentFailed(InventoryReserved):
    source: ClassVar[str] = "saga.payment"
    reason: Reason


class ShippingScheduled(PaymentCharged):
    source: ClassVar[str] = "saga.shipping"
    tracking_number: Identifier = Field(alias="trackingNumber")


class ShippingFailed(PaymentCharged):
    """Shipping refused the order for good (e.g. an undeliverable address): refund, then release."""

    source: ClassVar[str] = "saga.shipping"
    reason: Reason


class PaymentRefunded(PaymentCharged):
    source: ClassVar[str] = "saga.payment"
    refund_id: Identifier = Field(alias="refundId")
    reason: Reason


class InventoryReleased(PaymentFailed):
    """Compensation done: the reserved stock is back (after a refund, if there was a charge).
    Nobody reacts to it; it closes the trace."""

    source: ClassVar[str] = "saga.inventory"
    payment_id: Identifier | None = Field(default=None, alias="paymentId")
    refund_id: Identifier | None = Field(default=None, alias="refundId")


class StepFailed(Message):
    """Not on the bus: how the orchestrator's Catch hands a compensation the order and why the
    step it caught failed (a domain answer or retries exhausted)."""

    order_id: OrderId = Field(alias="orderId")
    reason: Reason


class SagaEnded(Message):
    """Hybrid: the orchestrated saga reached one of its ends, published on the bus by the state
    machine for whoever follows (the notification service). The saga itself never reacts to it."""

    order_id: OrderId = Field(alias="orderId")
    customer_id: CustomerId = Field(alias="customerId")
    end: Identifier  # the state machine's end state: OrderCompleted, OutOfStock, PaymentFailed...
    status: str  # the order's terminal status there: each outcome says which it may be


class OrderCompleted(SagaEnded):
    """The order shipped: shipping is scheduled."""

    status: Literal["SHIPPING_SCHEDULED"]


class OrderFailed(SagaEnded):
    """The order ended without shipping, compensated where something was done; `status` is its
    terminal status."""

    status: Literal["INVENTORY_FAILED", "INVENTORY_RELEASED"]


# What the hybrid's state machine publishes at its ends (not the saga's own events: none of its
# steps reacts to them).
OUTCOMES: tuple[type[SagaEnded], ...] = (OrderCompleted, OrderFailed)
OUTCOMES_BY_NAME: dict[str, type[SagaEnded]] = {event.detail_type(): event for event in OUTCOMES}


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
