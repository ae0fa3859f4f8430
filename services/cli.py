"""The `storyline` command: extract, serve (all three on the embedded default), project, and the
timeline's tools: rebuild, dlq, replay; import loads an archive through the ingest API."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from marshmallow import ValidationError

from shared.adapters.stores import LegacyStore
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


def cmd_project(args) -> int:
    from services.timeline.process import run_projector

    return run_projector(Settings.from_env())


def cmd_lag(args) -> int:
    from services.bootstrap import open_log

    settings = Settings.from_env()
    group = args.group or settings.group
    logging.getLogger("kafka").setLevel(logging.WARNING)  # the table, not the client's connection chatter
    log = open_log(settings)
    try:
        lags = log.lag(group)
    except Exception as exc:
        print(
            f"storyline lag: cannot read offsets from {settings.log_url}: {type(exc).__name__}: {exc}", file=sys.stderr
        )
        return 1
    finally:
        log.close()
    rows = [
        {"topic": t, "partition": p, "end": v.end, "committed": v.committed, "lag": v.lag}
        for (t, p), v in sorted(lags.items())
    ]
    if args.json:
        json.dump(
            {"group": group, "topic": settings.topic, "partitions": rows, "total_lag": sum(r["lag"] for r in rows)},
            sys.stdout,
            indent=1,
        )
        print()
        return 0
    print(f"group {group}, topic {settings.topic}")
    print(f"{'partition':>9} {'end':>10} {'committed':>10} {'lag':>10}")
    for r in rows:
        committed = "-" if r["committed"] is None else r["committed"]
        print(f"{r['partition']:>9} {r['end']:>10} {committed:>10} {r['lag']:>10}")
    print(f"{'total':>9} {'':>10} {'':>10} {sum(r['lag'] for r in rows):>10}")
    return 0


def cmd_serve(args) -> int:
    from werkzeug.serving import make_server

    from services import bootstrap
    from shared.logs import configure_logging

    settings = Settings.from_env()
    configure_logging("storyline", settings.log_level)
    if not settings.api_keys:
        settings = settings.with_api_keys((_local_api_key(settings.data_dir),))
    parts = bootstrap.build(settings)
    servers = [
        make_server("127.0.0.1", settings.ingest_port, parts.ingest_app(), threaded=True),
        make_server("127.0.0.1", settings.query_port, parts.query_app(), threaded=True),
    ]
    parts.start(monitor_host="127.0.0.1")
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    print(
        f"ingest  http://127.0.0.1:{settings.ingest_port}/v1/articles\n"
        f"query   http://127.0.0.1:{settings.query_port}/v1/stories\n"
        f"metrics /metrics on both, projector http://127.0.0.1:{parts.projector_port}/metrics\n"
        f"api key {settings.api_keys[0]}  (send as X-API-Key; also in {settings.data_dir}/api-key)\n"
        f"data    {settings.data_dir}  (log {settings.log_url}, store {settings.store_url})",
        flush=True,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    for s in servers:
        s.shutdown()
    parts.stop(drain_s=5.0)
    return 0


def cmd_rebuild(args) -> int:
    from tqdm import tqdm

    from services.bootstrap import open_log, open_store
    from services.timeline.rebuild import rebuild
    from shared.adapters.stores import retire_legacy_data

    settings = Settings.from_env()
    log, db = open_log(settings), open_store(settings.store_url, allow_legacy=True)
    with tqdm(unit="ev", unit_scale=True, desc="rebuild", file=sys.stderr, disable=args.quiet) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = rebuild(
            log, db, settings.group, batch_size=args.batch, progress=progress, drop_after_s=args.drop_after
        )
    print(
        json.dumps(
            {
                "old_generation": result.old_generation,
                "generation": result.new_generation,
                "events": result.events,
                "dead_letters": result.dead_letters,
                "seconds": round(result.seconds, 2),
                "events_per_s": round(result.events / result.seconds, 1) if result.seconds else None,
            }
        )
    )
    if (moved := retire_legacy_data(settings.store_url)) is not None:
        print(f"storyline rebuild: the old litemongo store is no longer read; kept at {moved}", file=sys.stderr)
    log.close()
    db.close()
    return 0


def cmd_reextract(args) -> int:
    from tqdm import tqdm

    from services.bootstrap import open_article_log, open_log
    from services.ingest import extractor_variant
    from services.ingest.reextract import Selection, reextract
    from services.timeline.replay import to_epoch_ms

    settings = Settings.from_env()
    extractor_variant.variant()  # a bad test-only setting stops here, with its name
    try:
        since = None if args.start == "beginning" else to_epoch_ms(args.start)
    except ValueError as exc:
        print(f"storyline reextract: --from: {exc}", file=sys.stderr)
        return 2
    article_log, event_log = open_article_log(settings), open_log(settings)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())  # finish the batch in hand, keep the checkpoint
    on_diff = (lambda d: print(json.dumps(d, ensure_ascii=False), flush=True)) if args.dry_run else None
    try:
        with tqdm(unit="art", desc="reextract", file=sys.stderr, disable=args.quiet) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            summary = reextract(
                article_log,
                event_log,
                settings.data_dir,
                Selection(story=args.story, article=args.article, since_ms=since),
                dry_run=args.dry_run,
                restart=args.restart,
                progress=progress,
                on_diff=on_diff,
                batch=args.batch,
                stop=stopping.is_set,
            )
    finally:
        article_log.close()
        event_log.close()
    print(json.dumps(summary.as_json()), flush=True)
    if summary.stopped:
        print("storyline reextract: stopped; run it again with the same options to resume", file=sys.stderr)
        return 1
    return 0


def cmd_dlq(args) -> int:
    from services.bootstrap import open_dead_letter_log, open_log
    from services.timeline import dead_letters

    settings = Settings.from_env()
    dlq = open_dead_letter_log(settings)
    if args.action == "list":
        letters = dead_letters.list_letters(dlq)
        for lt in letters:
            print(json.dumps(lt.as_json(), ensure_ascii=False))
        print(f"{len(letters)} dead letter(s) on {dlq.topic}", file=sys.stderr)
        return 0
    sent = dead_letters.replay(dlq, open_log(settings), settings.group, dry_run=args.dry_run)
    for lt in sent:
        print(json.dumps({"replayed" if not args.dry_run else "would_replay": lt.origin, "reason": lt.reason}))
    print(
        f"{len(sent)} dead letter(s) {'would be ' if args.dry_run else ''}sent back to {settings.topic}",
        file=sys.stderr,
    )
    return 0


def cmd_import(args) -> int:
    from services import importer

    return importer.main(args)


def cmd_replay(args) -> int:
    from services.bootstrap import open_log, open_store
    from services.timeline import replay

    settings = Settings.from_env()
    try:
        start = replay.parse_start(args.start)
        until = replay.to_epoch_ms(args.until) if args.until else None
    except ValueError as exc:
        print(f"storyline replay: {exc}", file=sys.stderr)
        return 2
    filters = replay.Filters(story=args.story, types=frozenset(args.type or ()), actor=args.actor, until_ms=until)
    pairs = replay.selected(open_log(settings).read(start), filters)
    if args.into:
        if args.into == settings.store_url:
            print("storyline replay: --into must name a scratch store, not the live one", file=sys.stderr)
            return 2
        n = replay.into_projection(pairs, open_store(args.into))
        print(f"{n} event(s) projected into {args.into}", file=sys.stderr)
        return 0
    try:
        out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    except OSError as exc:
        print(f"storyline replay: --out {args.out}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        n = replay.to_json_lines(pairs, out)
    finally:
        if args.out:
            out.close()
    print(f"{n} event(s) written", file=sys.stderr)
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
    p = sub.add_parser("lag", help="print the consumer group's lag per partition")
    p.add_argument("--group", help="consumer group (default: STORYLINE_GROUP)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_lag)
    p = sub.add_parser("rebuild", help="project the whole log into a fresh generation, then switch readers to it")
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument(
        "--drop-after",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds to keep the old generation after the switch (default 5)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_rebuild)
    p = sub.add_parser(
        "reextract",
        help="derive the stored articles' events again with the current extractor and "
        "publish a new reading where they changed",
    )
    p.add_argument(
        "--from",
        dest="start",
        default="beginning",
        help="'beginning' (default) or an ISO-8601 time: articles received from then on",
    )
    p.add_argument("--story", help="only this story's articles")
    p.add_argument("--article", help="only this article (its article_id)")
    p.add_argument("--dry-run", action="store_true", help="print each article's diff (JSON lines); publish nothing")
    p.add_argument("--restart", action="store_true", help="ignore the checkpoint of a stopped run")
    p.add_argument("--batch", type=int, default=32, help="articles parsed per batch (default 32)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_reextract)
    p = sub.add_parser("dlq", help="dead letters: list them, or send them back to the log after a fix")
    p.add_argument("action", choices=("list", "replay"))
    p.add_argument("--dry-run", action="store_true", help="replay: show what would be sent")
    p.set_defaults(func=cmd_dlq)
    p = sub.add_parser("replay", help="read events back from the log, filtered, as JSON Lines or into a scratch store")
    p.add_argument(
        "--from",
        dest="start",
        default="beginning",
        help="'beginning' (default), an ISO-8601 time, or offsets per partition like 0:120,1:98",
    )
    p.add_argument("--until", help="ISO-8601 time: only what the log held then ('what did we know at T')")
    p.add_argument("--story")
    p.add_argument("--type", action="append", help="event type; repeat for several")
    p.add_argument("--actor", help="actor name, case-insensitive")
    p.add_argument("--out", help="file for the JSON Lines (default stdout)")
    p.add_argument(
        "--into", metavar="STORE_URL", help="project into this scratch store (mongodb://…/db or file:///dir)"
    )
    p.set_defaults(func=cmd_replay)
    p = sub.add_parser(
        "import", help="post an archive of articles (JSON Lines, JSON array, folder, -) to ingest, resumably"
    )
    p.add_argument("sources", nargs="+", metavar="FILE|DIR|-")
    p.add_argument("--ingest", metavar="URL", help="ingest service (default http://127.0.0.1:$STORYLINE_INGEST_PORT)")
    p.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    p.add_argument("--state", default="import-state.jsonl", help="accepted articles, skipped on a rerun")
    p.add_argument("--rejects", default="import-rejects.jsonl", help="each refused line with the service's reason")
    p.add_argument("--allow-rejects", action="store_true", help="exit 0 even when articles were rejected")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_import)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"storyline: configuration error: {exc}", file=sys.stderr)
        return 2
    except LegacyStore as exc:
        print(f"storyline: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
