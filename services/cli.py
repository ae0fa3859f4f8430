"""The `storyline` command: extract, serve (all three on the embedded default), project."""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from marshmallow import ValidationError

from shared.config import ConfigError, Settings


def cmd_extract(args) -> int:
    from services.ingest.schemas import ArticleSchema
    from services.ingest.service import events_for

    schema = ArticleSchema()
    out, status = [], 0
    recorded_at = "1970-01-01T00:00:00.000Z" if args.stable else None
    for path in args.files:
        try:
            with open(path, encoding="utf-8") as fh:
                raw = json.load(fh)
            if isinstance(raw, dict):
                raw = {k: v for k, v in raw.items() if k in schema.fields}
            out.extend(events_for(schema.load(raw), recorded_at))
        except (OSError, ValueError) as exc:
            print(f"storyline extract: {path}: {exc}", file=sys.stderr)
            status = 2
        except ValidationError as exc:
            print(f"storyline extract: {path}: invalid article: {json.dumps(exc.messages)}", file=sys.stderr)
            status = 2
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    print()
    return status


def _projector(settings: Settings):
    from shared.bootstrap import open_log, open_store
    from services.timeline.projector import Projector

    return Projector(open_log(settings), open_store(settings.store_url), settings.group)


def cmd_project(args) -> int:
    settings = Settings.from_env()
    projector = _projector(settings)
    signal.signal(signal.SIGTERM, lambda *_: projector.stop())
    signal.signal(signal.SIGINT, lambda *_: projector.stop())
    logging.getLogger("storyline").info("projector started on %s", settings.log_url)
    projector.run()
    return 0


def cmd_serve(args) -> int:
    from werkzeug.serving import make_server

    from shared.bootstrap import open_log, open_store
    from services.ingest.app import create_app as ingest_app
    from services.query.app import create_app as query_app
    from services.timeline.projector import Projector

    settings = Settings.from_env()
    if not settings.api_keys:
        settings = settings.with_api_keys((_local_api_key(settings.data_dir),))
    log, store = open_log(settings), open_store(settings.store_url)
    projector = Projector(log, store, settings.group)
    servers = [make_server("127.0.0.1", settings.ingest_port, ingest_app(settings, log=log, store=store), threaded=True),
               make_server("127.0.0.1", settings.query_port, query_app(settings, store=store), threaded=True)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    threads.append(threading.Thread(target=projector.run, daemon=True))
    for t in threads:
        t.start()
    print(f"ingest  http://127.0.0.1:{settings.ingest_port}/v1/articles\n"
          f"query   http://127.0.0.1:{settings.query_port}/v1/stories\n"
          f"api key {settings.api_keys[0]}  (send as X-API-Key; also in {settings.data_dir}/api-key)\n"
          f"data    {settings.data_dir}  (log {settings.log_url}, store {settings.store_url})", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    for s in servers:
        s.shutdown()
    projector.stop()
    threads[-1].join(timeout=10)
    return 0


def _local_api_key(data_dir: str) -> str:
    """The embedded default generates one key and keeps it, so restarts keep it valid."""
    import os
    import secrets

    path = os.path.join(data_dir, "api-key")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    os.makedirs(data_dir, exist_ok=True)
    key = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    parser = argparse.ArgumentParser(prog="storyline", description="Storyline: articles in, story timelines out.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("extract", help="print the events of article JSON files")
    p.add_argument("files", nargs="+")
    p.add_argument("--stable", action="store_true", help="fixed recorded_at, for diffing outputs")
    p.set_defaults(func=cmd_extract)
    sub.add_parser("serve", help="run ingest, projector and query on one machine").set_defaults(func=cmd_serve)
    sub.add_parser("project", help="run the timeline projector").set_defaults(func=cmd_project)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"storyline: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
