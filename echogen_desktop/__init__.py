"""EchoGen Desktop: review and run EchoGen.ai podcasts over Supabase."""

__version__ = "0.1.0"
APP_NAME = "EchoGen Desktop"
ORG_NAME = "EchoGen"
