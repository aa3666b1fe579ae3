"""The hybrid style's CDK side: its stack and the notification service. Not shipped to Lambda (tools/dev/bundle.py)."""
