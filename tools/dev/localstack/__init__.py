"""Embedded LocalStack tooling: `python -m tools.dev.localstack up|down|status|logs-path|prepare`.

Stdlib only, so it runs under any Python 3.10+; LocalStack itself runs from .venv-localstack."""
