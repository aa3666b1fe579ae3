"""The EventBridge style's CDK side: its stack. Not shipped to Lambda (tools/dev/bundle.py)."""
