"""Two caches in LocalStack's Step Functions, applied at LocalStack's start (an on_infra_start hook,
registered in executor/pyproject.toml) and only on the version they were written and measured
against (PINNED): on any other version nothing is patched and LocalStack's log says so.

Why (docs/profile.md has the profile): for each Lambda task, LocalStack 2026.3.0's Step Functions
assumes the state machine's role (an STS request through its own HTTP gateway) and builds a new
boto client with those credentials, and every JSONPath it evaluates (InputPath, ResultPath, ...)
is parsed by a parser that first regenerates its LALR tables. Together that was about a fifth of
LocalStack's CPU in an orchestrated saga. Both results depend only on their arguments: a client
per (service, region, role) and a parsed expression per path string are reused. LocalStack does
the same for API Gateway's integrations (an lru_cache on its assumed-role client factory); its
assumed-role credentials do not expire.
"""

from __future__ import annotations

import functools
import logging
from importlib import metadata

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)

PINNED = "2026.3.0"
CACHE_SIZE = 256


def _cached_client_factory(original):
    @functools.lru_cache(maxsize=CACHE_SIZE)
    def client(service: str, region: str, role_arn: str):
        return original(service=service, region=region, state_credentials=_Credentials(role_arn))

    def boto_client_for(service: str, region: str, state_credentials):
        return client(service, region, state_credentials.role_arn)

    boto_client_for.cache = client
    return boto_client_for


class _Credentials:
    """What boto_client_for reads of StateCredentials: the role to assume."""

    def __init__(self, role_arn: str) -> None:
        self.role_arn = role_arn


def _cached_parse(original):
    cached = functools.lru_cache(maxsize=CACHE_SIZE)(original)
    functools.update_wrapper(cached, original)
    return cached


def apply(version: str | None = None) -> bool:
    """Patch the running LocalStack; returns whether it did (only on the pinned version)."""
    version = version or metadata.version("localstack-core")
    if version != PINNED:
        LOG.warning(
            "saga executor: Step Functions caches not applied (written for localstack-core %s, found %s)",
            PINNED,
            version,
        )
        return False
    from localstack.services.stepfunctions.asl.component.common.path import result_path
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_task import lambda_eval_utils
    from localstack.services.stepfunctions.asl.utils import json_path

    if not hasattr(lambda_eval_utils.boto_client_for, "cache"):
        lambda_eval_utils.boto_client_for = _cached_client_factory(lambda_eval_utils.boto_client_for)
    for module in (json_path, result_path):
        if not hasattr(module.parse, "cache_info"):
            module.parse = _cached_parse(module.parse)
    LOG.info("saga executor: Step Functions caches applied (localstack-core %s)", version)
    return True


@hooks.on_infra_start()
def _cache_step_functions_clients_and_paths() -> None:
    apply()
