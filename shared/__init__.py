"""Code the Storyline services share: the event contract, ports, adapters and configuration."""
