"""Integrations with agent frameworks (each imports its framework lazily;
install the framework to use it)."""
