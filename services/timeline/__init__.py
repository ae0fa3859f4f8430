"""Timeline service: consumes events from the log and projects them into the store."""
