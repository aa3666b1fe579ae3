"""Shipping: a tracking number per shipped order."""

import secrets

TRACKING_PREFIX = "TRK-"


def new_tracking_number() -> str:
    return TRACKING_PREFIX + secrets.token_hex(4).upper()
