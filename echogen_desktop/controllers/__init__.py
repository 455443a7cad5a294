"""Turn view intents into service calls through the TaskRunner."""
