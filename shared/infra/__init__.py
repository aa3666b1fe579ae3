"""CDK constructs shared by the orchestration and choreography stacks.

One construct per concern: tables, one saga Lambda, the set of saga Lambdas, the orders API, the
outbox relay (orders stream -> start_saga), the reconciler (schedule -> reconcile) and the alarms.
"""

from shared.infra.alarms import SagaAlarms
from shared.infra.api import OrdersApi
from shared.infra.functions import SagaFunction
from shared.infra.lambdas import SagaLambdas
from shared.infra.outbox import OutboxRelay
from shared.infra.queues import dead_letter_queue
from shared.infra.reconciler import Reconciler
from shared.infra.tables import SagaTables

__all__ = [
    "OrdersApi",
    "OutboxRelay",
    "Reconciler",
    "SagaAlarms",
    "SagaFunction",
    "SagaLambdas",
    "SagaTables",
    "dead_letter_queue",
]
