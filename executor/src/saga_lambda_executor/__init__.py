"""Docker-free Lambda runtime executor for LocalStack: runs functions as local processes.

Select it with LAMBDA_RUNTIME_EXECUTOR=local-process. Only the plugin module is imported
by LocalStack at start-up; the executor itself loads on first use."""

PLUGIN_NAME = "local-process"
