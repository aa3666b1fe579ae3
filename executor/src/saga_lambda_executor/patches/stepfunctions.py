"""Three caches in LocalStack's Step Functions.

For each Lambda task and each service integration (the hybrid's events:putEvents), LocalStack
2026.3.0's Step Functions assumes the state machine's role (an STS request through its own HTTP
gateway) and builds a new boto client with those credentials; every JSONPath it evaluates
(InputPath, ResultPath, ...) is parsed by a parser that first regenerates its LALR tables; and
every execution parses the state machine's definition again with ANTLR and builds its states from
the tree. Together that was about a third of LocalStack's CPU in an orchestrated saga. Each result
depends only on its arguments: a client per (service, region, role), a parsed expression per path
string and a program per definition are reused. LocalStack does the same for API Gateway's
integrations (an lru_cache on its assumed-role client factory); its assumed-role credentials do
not expire.

A program is shared by the executions of its definition only when its states keep nothing of an
execution on themselves: Task, Pass, Choice, Wait, Succeed and Fail states keep it all in the
execution's environment (attempt counts under each state's heap key), as LocalStack's Map state
relies on when it runs one program for many iterations at once. Map and Parallel states keep their
workers on the state object, so a definition with either gets its own states per execution, built
from the cached parse tree.
"""

from __future__ import annotations

import functools
import json

from . import direct_invoke

CACHE_SIZE = 256
SHAREABLE_STATES = frozenset({"Task", "Pass", "Choice", "Wait", "Succeed", "Fail"})


def _cached_client_factory(original):
    @functools.lru_cache(maxsize=CACHE_SIZE)
    def client(service: str, region: str, role_arn: str):
        made = original(service=service, region=region, state_credentials=_Credentials(role_arn))
        return direct_invoke.direct(made) if service == "lambda" else made  # Invoke in-process

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


def _cached_definition_programs(parse):
    """ExecutionWorker._get_evaluation_entrypoint, with the parse tree of each definition kept and,
    when its states allow, the program built from it."""
    from localstack.services.stepfunctions.asl.parse.preprocessor import Preprocessor

    @functools.lru_cache(maxsize=CACHE_SIZE)
    def tree(definition: str):
        return parse(definition)[1]

    @functools.lru_cache(maxsize=CACHE_SIZE)
    def shared_program(definition: str):
        program = Preprocessor().visit(tree(definition))
        _fix_heap_keys(program)
        return program

    def _get_evaluation_entrypoint(self):
        definition = self._evaluation_details.state_machine_details.definition
        if _shareable(definition):
            return shared_program(definition)
        return Preprocessor().visit(tree(definition))

    _get_evaluation_entrypoint.cache = tree
    return _get_evaluation_entrypoint


def _shareable(definition: str) -> bool:
    try:
        states = json.loads(definition)["States"]
    except (ValueError, KeyError, TypeError):
        return False
    return all(isinstance(state, dict) and state.get("Type") in SHAREABLE_STATES for state in states.values())


def _fix_heap_keys(program) -> None:
    """Give every component its heap key now: a component draws it on first use, and two
    executions drawing at once could each keep their attempt counts under a different key."""
    from localstack.services.stepfunctions.asl.component.eval_component import EvalComponent

    seen, waiting = set(), [program]
    while waiting:
        item = waiting.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, EvalComponent):
            _ = item.heap_key
            waiting += getattr(item, "__dict__", {}).values()
        elif isinstance(item, list | tuple | set | frozenset):
            waiting += item
        elif isinstance(item, dict):
            waiting += item.values()


def apply() -> None:
    from localstack.services.stepfunctions.asl.component.common.path import result_path
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_task import lambda_eval_utils
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_task.service import (
        state_task_service_events,
    )
    from localstack.services.stepfunctions.asl.parse.asl_parser import AmazonStateLanguageParser
    from localstack.services.stepfunctions.asl.utils import json_path
    from localstack.services.stepfunctions.backend.execution_worker import ExecutionWorker

    if not hasattr(lambda_eval_utils.boto_client_for, "cache"):
        lambda_eval_utils.boto_client_for = _cached_client_factory(lambda_eval_utils.boto_client_for)
    # Service integrations (the hybrid's events:putEvents) get their clients from the same cache.
    state_task_service_events.boto_client_for = lambda_eval_utils.boto_client_for
    for module in (json_path, result_path):
        if not hasattr(module.parse, "cache_info"):
            module.parse = _cached_parse(module.parse)
    if not hasattr(ExecutionWorker._get_evaluation_entrypoint, "cache"):
        ExecutionWorker._get_evaluation_entrypoint = _cached_definition_programs(AmazonStateLanguageParser.parse)
