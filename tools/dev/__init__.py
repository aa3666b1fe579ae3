"""The plumbing: the embedded LocalStack, install scripts, the Lambda bundle, deploy."""
