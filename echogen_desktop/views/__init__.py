"""Widgets. Views show models and emit intents; they never touch the network."""
