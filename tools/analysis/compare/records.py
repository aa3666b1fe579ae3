"""Do two styles' final records of the same scenario agree? Field by field, where ids and
timestamps generated per order only need to be present on both sides."""

from __future__ import annotations

# Generated per order: they differ between styles by nature, so they are compared by presence.
GENERATED = ("orderId", "reservationId", "paymentId", "refundId", "trackingNumber", "createdAt", "updatedAt")


def _view(record: dict, keys: set[str]) -> dict:
    return {k: (k in record) if k in GENERATED else record.get(k) for k in keys}


def differences(a: dict, b: dict) -> list[str]:
    """The fields on which the records disagree, sorted."""
    keys = a.keys() | b.keys()
    left, right = _view(a, keys), _view(b, keys)
    return sorted(k for k in keys if left[k] != right[k])


def same_outcome(a: dict, b: dict) -> bool:
    return not differences(a, b)
