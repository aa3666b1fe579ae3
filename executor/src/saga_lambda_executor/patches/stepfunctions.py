"""Three caches in LocalStack's Step Functions.

For each Lambda task, LocalStack 2026.3.0's Step Functions assumes the state machine's role (an STS
request through its own HTTP gateway) and builds a new boto client with those credentials; every
JSONPath it evaluates (InputPath, ResultPath, ...) is parsed by a parser that first regenerates its
LALR tables; and every execution parses the state machine's definition again with ANTLR. Together
that was about a third of LocalStack's CPU in an orchestrated saga. Each result depends only on its
arguments: a client per (service, region, role), a parsed expression per path string and a parse
tree per definition are reused. LocalStack does the same for API Gateway's integrations (an
lru_cache on its assumed-role client factory); its assumed-role credentials do not expire. The
tree is only read: each execution still builds its own states from it, so no state is shared
between executions.
"""

from __future__ import annotations

import functools

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


def _cached_definition_trees(parse):
    """ExecutionWorker._get_evaluation_entrypoint, with the parse tree of each definition kept."""
    from localstack.services.stepfunctions.asl.parse.preprocessor import Preprocessor

    @functools.lru_cache(maxsize=CACHE_SIZE)
    def tree(definition: str):
        return parse(definition)[1]

    def _get_evaluation_entrypoint(self):
        return Preprocessor().visit(tree(self._evaluation_details.state_machine_details.definition))

    _get_evaluation_entrypoint.cache = tree
    return _get_evaluation_entrypoint


def apply() -> None:
    from localstack.services.stepfunctions.asl.component.common.path import result_path
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_task import lambda_eval_utils
    from localstack.services.stepfunctions.asl.parse.asl_parser import AmazonStateLanguageParser
    from localstack.services.stepfunctions.asl.utils import json_path
    from localstack.services.stepfunctions.backend.execution_worker import ExecutionWorker

    if not hasattr(lambda_eval_utils.boto_client_for, "cache"):
        lambda_eval_utils.boto_client_for = _cached_client_factory(lambda_eval_utils.boto_client_for)
    for module in (json_path, result_path):
        if not hasattr(module.parse, "cache_info"):
            module.parse = _cached_parse(module.parse)
    if not hasattr(ExecutionWorker._get_evaluation_entrypoint, "cache"):
        ExecutionWorker._get_evaluation_entrypoint = _cached_definition_trees(AmazonStateLanguageParser.parse)
