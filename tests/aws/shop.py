"""A deployed stack on a real AWS account as its customers reach it: the API's URL and the
storefront's API key from the stack, customers created in its user pool and signed in (ID tokens),
and the stack's tables through the runtime's own adapters (stock, payment ledger)."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field

import requests

from shared.adapters.dynamodb import DynamoSagaStore
from shared.adapters.ledger import DynamoPaymentLedger
from shared.contract import TERMINAL_STATUSES
from tools.dev.account import Account, stack_outputs

TIMEOUT = 30  # seconds per HTTP request
SAGA_DEADLINE = 120  # seconds for an order to reach a terminal status on AWS


@dataclass(frozen=True)
class Customer:
    email: str
    sub: str  # the customer id the API takes from the token
    id_token: str


@dataclass
class Shop:
    account: Account
    style: str
    outputs: dict[str, str]
    api_key: str
    customers: list[Customer] = field(default_factory=list)  # signed in
    created: list[str] = field(default_factory=list)  # every user created (e-mail), for `close`

    @classmethod
    def of(cls, account: Account, style: str) -> Shop:
        outputs = stack_outputs(account, style)
        assert outputs is not None, f"{style}: not deployed"
        key = account.client("apigateway").get_api_key(apiKey=outputs["ApiKeyId"], includeValue=True)["value"]
        return cls(account, style, outputs, key)

    # --- customers ---------------------------------------------------------------------------

    def new_customer(self) -> Customer:
        """A customer of the stack's user pool, created and signed in as the shop would (the admin
        password flow: AWS credentials, no e-mail sent); deleted by `close`."""
        idp, pool = self.account.client("cognito-idp"), self.outputs["UserPoolId"]
        email = f"conformance-{uuid.uuid4().hex[:12]}@example.com"
        password = secrets.token_urlsafe(24) + "aA1!"  # every character class of the policy
        attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]
        idp.admin_create_user(UserPoolId=pool, Username=email, UserAttributes=attributes, MessageAction="SUPPRESS")
        self.created.append(email)  # deleted by close(), even if the sign-in fails
        idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
        signed_in = idp.admin_initiate_auth(
            UserPoolId=pool,
            ClientId=self.outputs["UserPoolClientId"],
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        found = idp.admin_get_user(UserPoolId=pool, Username=email)["UserAttributes"]
        sub = next(a["Value"] for a in found if a["Name"] == "sub")
        customer = Customer(email, sub, signed_in["AuthenticationResult"]["IdToken"])
        self.customers.append(customer)
        return customer

    def close(self) -> None:
        idp = self.account.client("cognito-idp")
        for email in self.created:
            idp.admin_delete_user(UserPoolId=self.outputs["UserPoolId"], Username=email)

    # --- the API -------------------------------------------------------------------------------

    @property
    def orders_url(self) -> str:
        return f"{self.outputs['ApiUrl'].rstrip('/')}/orders"

    def headers(self, customer: Customer | None, **extra: str) -> dict[str, str]:
        """A customer's request: the storefront's API key, the customer's ID token (None: none)."""
        found = {"x-api-key": self.api_key, **extra}
        if customer is not None:
            found["Authorization"] = customer.id_token
        return found

    def post(self, customer: Customer | None, body: dict, **headers: str) -> requests.Response:
        return requests.post(self.orders_url, json=body, headers=self.headers(customer, **headers), timeout=TIMEOUT)

    def get(self, customer: Customer | None, order_id: str) -> requests.Response:
        return requests.get(f"{self.orders_url}/{order_id}", headers=self.headers(customer), timeout=TIMEOUT)

    def wait_for_terminal(self, customer: Customer, order_id: str, timeout: float = SAGA_DEADLINE) -> dict:
        deadline, record = time.monotonic() + timeout, {}
        while time.monotonic() < deadline:
            answer = self.get(customer, order_id)
            assert answer.status_code == 200, answer.text
            record = answer.json()
            if record["status"] in TERMINAL_STATUSES:
                return record
            time.sleep(1)
        raise AssertionError(f"{self.style} order {order_id} still {record.get('status')} after {timeout:.0f} s")

    # --- the tables ------------------------------------------------------------------------------

    def store(self) -> DynamoSagaStore:
        return DynamoSagaStore(
            self.outputs["OrdersTableName"],
            self.outputs["InventoryTableName"],
            client=self.account.client("dynamodb"),
        )

    def ledger(self) -> DynamoPaymentLedger:
        return DynamoPaymentLedger(self.outputs["PaymentsTableName"], client=self.account.client("dynamodb"))

    def stocked_sku(self, units: int) -> str:
        """A new SKU holding `units`, so the run's stock checks are not disturbed by other orders."""
        sku = f"AWS-TEST-{uuid.uuid4().hex[:8].upper()}"
        self.store().set_stock(sku, units)
        return sku
