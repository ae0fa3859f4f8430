"""Adapters behind the ports: an embedded one and a real one for each."""
