"""plux plugin that makes the executor selectable via LAMBDA_RUNTIME_EXECUTOR."""

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin

from . import PLUGIN_NAME


class LocalProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = PLUGIN_NAME

    def load(self, *args, **kwargs):
        # Imported lazily, like LocalStack's docker plugin, to keep start-up light.
        from .executor import LocalProcessRuntimeExecutor

        return LocalProcessRuntimeExecutor
