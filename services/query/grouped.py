"""The grouped, ordered stories a query process keeps while the projection stands still.

Grouping a story's reports into entries and ordering them needs the whole story, so a
timeline page would otherwise group the story again for every page. The key includes the
projection's position (what the ETag is made of), so any newly projected event makes a new
key and the old one simply ages out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

from shared.domain.timeline import Entry

KEPT = 16  # stories per process


class GroupedStories:
    def __init__(self, kept: int = KEPT):
        self._kept = kept
        self._stories: OrderedDict[tuple, list[Entry]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, build: Callable[[], list[Entry]]) -> list[Entry]:
        """The entries for `key`, built once (two threads asking at once may both build; same result)."""
        with self._lock:
            if key in self._stories:
                self._stories.move_to_end(key)
                return self._stories[key]
        entries = build()
        with self._lock:
            self._stories[key] = entries
            while len(self._stories) > self._kept:
                self._stories.popitem(last=False)
        return entries
