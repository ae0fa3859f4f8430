"""Time to rebuild the projection from a log of N events (the issue's figure is N = 1,000,000).

Publishes N synthetic events (valid envelopes, 1 story per 50 events) to a fresh topic of
the configured log, then runs the same rebuild as `storyline rebuild`, with its progress
bar, and prints the figures. Usage: STORYLINE_LOG=... STORYLINE_STORE=... python bench/rebuild.py [N]
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid

from tqdm import tqdm

from bench.projection import template
from services.bootstrap import open_log, open_store
from services.timeline.rebuild import rebuild
from shared.config import Settings
from shared.domain import events
from shared.ports import Record


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    run = uuid.uuid4().hex[:8]
    settings = Settings.from_env(
        dict(os.environ, STORYLINE_TOPIC=f"bench.rebuild.{run}", STORYLINE_GROUP=f"bench-rebuild-{run}")
    )
    log, db = open_log(settings), open_store(settings.store_url)
    base = template()
    events.decode(events.encode(base))  # the template is a valid envelope; copies differ only in ids
    t = time.perf_counter()
    with tqdm(total=n, unit="ev", unit_scale=True, desc="publish", file=sys.stderr) as bar:
        for i in range(0, n, 5000):
            batch = []
            for j in range(i, min(n, i + 5000)):
                doc = dict(base, event_id=f"{run}{j:024d}", story_id=f"story-{j // 50}")
                batch.append(Record(doc["story_id"], json.dumps(doc).encode()))
            log.publish(batch)
            bar.update(len(batch))
    publish_s = time.perf_counter() - t
    with tqdm(unit="ev", unit_scale=True, desc="rebuild", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = rebuild(log, db, settings.group, batch_size=2000, progress=progress, drop_after_s=0)
    print(f"log={settings.log_url} store={settings.store_url}")
    print(f"published {n:,} events in {publish_s:.1f} s ({n / publish_s:,.0f} events/s)")
    print(
        f"rebuilt   {result.events:,} events in {result.seconds:.1f} s ({result.events / result.seconds:,.0f} "
        f"events/s) into generation {result.new_generation}; dead letters {result.dead_letters}"
    )
    log.close()


if __name__ == "__main__":
    main()
