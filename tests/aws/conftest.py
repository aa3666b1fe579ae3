"""The conformance tier: the stacks deployed on a real AWS account (`make test-aws`, which runs it
through tools.dev.conformance). Opt-in: without that run's opt-in every test here skips itself,
so a bare `pytest` never reaches an account. One `Shop` per deployed style, with two customers,
for the whole run; their users are deleted at the end."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.aws.shop import Customer, Shop
from tools.dev.account import ambient_account
from tools.dev.conformance import OPT_IN_VARIABLE, STYLES_VARIABLE


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get(OPT_IN_VARIABLE) == "1":
        return
    skip = pytest.mark.skip(reason="runs against a real AWS account only: `make test-aws`")
    for item in items:
        item.add_marker(skip)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "style" in metafunc.fixturenames:
        styles = [s for s in os.environ.get(STYLES_VARIABLE, "").split(",") if s] or ["(none deployed)"]
        metafunc.parametrize("style", styles)


@pytest.fixture(scope="session")
def shops() -> Iterator[Callable[[str], Shop]]:
    account = ambient_account()
    opened: dict[str, Shop] = {}

    def shop(style: str) -> Shop:
        if style not in opened:
            opened[style] = Shop.of(account, style)
        return opened[style]

    yield shop
    for shop_ in opened.values():
        shop_.close()


@pytest.fixture
def shop(shops: Callable[[str], Shop], style: str) -> Shop:
    return shops(style)


@pytest.fixture
def alice(shop: Shop) -> Customer:
    return shop.customers[0] if shop.customers else shop.new_customer()


@pytest.fixture
def bob(shop: Shop, alice: Customer) -> Customer:
    return shop.customers[1] if len(shop.customers) > 1 else shop.new_customer()
