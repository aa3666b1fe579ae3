"""CDK constructs shared by the orchestration and choreography stacks.

One construct per concern: tables, one saga Lambda, the set of saga Lambdas, the orders API.
"""

from shared.infra.api import OrdersApi
from shared.infra.functions import SagaFunction
from shared.infra.lambdas import SagaLambdas
from shared.infra.tables import SagaTables

__all__ = ["OrdersApi", "SagaFunction", "SagaLambdas", "SagaTables"]
