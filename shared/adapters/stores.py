"""Projection store: a pymongo-compatible Database, real (MongoDB wire) or embedded (litemongo).

Both speak the pymongo API, so the projection and the read model have one code path.
"""
from __future__ import annotations

import os
from urllib.parse import urlparse


def open_store(url: str):
    parsed = urlparse(url)
    if parsed.scheme == "mongodb":
        import pymongo

        # retryWrites=false: MongoDB-wire servers without replica sets reject retryable writes.
        client = pymongo.MongoClient(url, retryWrites=False, serverSelectionTimeoutMS=5000,
                                     tz_aware=False, appname="storyline")
        return client.get_default_database("storyline")
    if parsed.scheme == "file":
        import litemongo

        path = parsed.path
        os.makedirs(path, exist_ok=True)
        return litemongo.connect(path)["storyline"]
    raise ValueError(f"unsupported store url {url!r}")
