"""Ingest service: articles in over HTTP, events out to the log. Events are born here."""
