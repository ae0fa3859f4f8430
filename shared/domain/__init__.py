"""The domain without I/O: the event contract, entries and their order, corrections, story matching.

Nothing here opens a file, a socket or a database; adapters (shared/adapters) and services
call into it, never the other way round.
"""
