"""Live updates (SSE) and the Atom feed, through HTTP against the whole system.

A client opens a story's event stream, two articles and a correction are posted, and the
stream must deliver exactly those changes in log order; reconnecting with Last-Event-ID
must deliver exactly what came after that id. The feed must parse with feedparser and
satisfy the Atom rules it reports.
"""

from __future__ import annotations

import http.client
import json
import queue
import socket
import threading
import time
from urllib.parse import urlsplit

import feedparser
import pytest
import requests
from conftest import API_KEY

from services.query import changes
from services.timeline.rebuild import rebuild

STORY = "harbour-dredging-row"


def article(n: int, actor: str, chair: str) -> dict:
    return {
        "id": f"live-{n}",
        "url": f"https://news.example.test/live/{n}",
        "outlet": "Live Test Wire",
        "title": "Harbour board row over dredging survey",
        "story_id": STORY,
        "published_at": f"2025-05-0{n + 1}T09:00:00Z",
        "body": f"{actor} has claimed that the harbour board hid the dredging survey. "
        f"The board chair, {chair}, denied the claim on Tuesday.",
    }


class Stream:
    """An SSE client: parses the text/event-stream of one GET into (id, event, data) tuples.
    (http.client rather than requests: closing must cut the socket at once, mid-stream.)"""

    def __init__(self, url: str, last_event_id: str | None = None):
        parts = urlsplit(url)
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers)
        self.sock = self.conn.sock  # the response takes it over (no Content-Length: read to the end)
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, self.resp.read()
        assert self.resp.getheader("Content-Type").startswith("text/event-stream")
        self.events: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        current: dict = {}
        try:
            while line := self.resp.readline():
                raw = line.decode().rstrip("\r\n")
                if raw == "":
                    if "event" in current:
                        self.events.put((current.get("id"), current["event"], current.get("data")))
                    current = {}
                elif not raw.startswith(":"):
                    key, _, value = raw.partition(":")
                    current[key] = value[1:] if value.startswith(" ") else value
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # closed by the test

    def next(self, timeout: float = 30.0):
        return self.events.get(timeout=timeout)

    def changes(self, n: int, timeout: float = 60.0) -> list[tuple[str, str, dict]]:
        out, deadline = [], time.monotonic() + timeout
        while len(out) < n:
            ident, event, data = self.next(max(0.1, deadline - time.monotonic()))
            out.append((ident, event, json.loads(data)))
        return out

    def quiet_for(self, seconds: float) -> list:
        extra, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                extra.append(self.next(left))
            except queue.Empty:
                break
        return extra

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()


def correct(system, event_id: str) -> requests.Response:
    return requests.post(
        f"{system.ingest_url}/v1/corrections",
        timeout=30,
        headers={"X-API-Key": API_KEY},
        json={
            "story_id": STORY,
            "event_id": event_id,
            "action": "correct",
            "changes": {"summary": "the chair denied it at the Tuesday meeting"},
            "reason": "fuller wording",
            "editor": "Night desk",
        },
    )


def test_story_stream_delivers_each_change_once_in_order_and_resumes(system):
    stream = Stream(f"{system.query_url}/v1/stories/{STORY}/events")
    ident, event, data = stream.next()
    assert event == "ready" and json.loads(data)["position"] == ident
    posted = []
    for n, (actor, chair) in enumerate([("Mara Quillfeather", "Otto Venhaus"), ("Inka Starling", "Piet Morland")]):
        r = system.post(article(n, actor, chair))
        assert r.status_code == 202, r.text
        posted += [ev["event_id"] for ev in r.json()["events"]]
    assert len(posted) >= 2
    corrected = posted[0]
    r = correct(system, corrected)
    assert r.status_code == 202, r.text

    got = stream.changes(len(posted) + 1)
    assert [(d["change"], d["event_id"]) for _, _, d in got] == [("added", e) for e in posted] + [
        ("corrected", corrected)
    ]
    assert [e for _, e, _ in got] == ["entry_added"] * len(posted) + ["entry_corrected"]
    # the payload is the timeline's entry, with the correction applied
    last = got[-1][2]["entry"]
    assert last["status"] == "corrected" and corrected in [p["event_id"] for p in last["provenance"]]
    assert last["summary"] == "the chair denied it at the Tuesday meeting"
    offsets = [d["log"]["offset"] for _, _, d in got]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    assert stream.quiet_for(1.5) == []  # nothing more, nothing twice
    stream.close()

    # Reconnect after the second change: exactly the rest, in order
    resumed = Stream(f"{system.query_url}/v1/stories/{STORY}/events", last_event_id=got[1][0])
    assert resumed.next()[1] == "ready"
    rest = resumed.changes(len(got) - 2)
    assert [(d["change"], d["event_id"]) for _, _, d in rest] == [(d["change"], d["event_id"]) for _, _, d in got[2:]]
    assert [i for i, _, _ in rest] == [i for i, _, _ in got[2:]]
    assert resumed.quiet_for(1.0) == []
    resumed.close()

    # Reconnect with the last id: nothing again
    caught_up = Stream(f"{system.query_url}/v1/stories/{STORY}/events", last_event_id=got[-1][0])
    assert caught_up.next()[1] == "ready"
    assert caught_up.quiet_for(1.5) == []
    caught_up.close()

    # The all-stories stream with a story filter, from the first id: the same changes after it
    everything = Stream(f"{system.query_url}/v1/events?story={STORY}", last_event_id=got[0][0])
    assert everything.next()[1] == "ready"
    assert [d["event_id"] for _, _, d in everything.changes(len(got) - 1)] == [d["event_id"] for _, _, d in got[1:]]
    everything.close()

    # After a rebuild (a new generation from the same log) the ids mean the same
    rebuild(system.log, system.store, system.settings.group, drop_after_s=0)
    rebuilt = Stream(f"{system.query_url}/v1/stories/{STORY}/events", last_event_id=got[1][0])
    assert rebuilt.next()[1] == "ready"
    assert [(i, d["event_id"]) for i, _, d in rebuilt.changes(len(got) - 2)] == [
        (i, d["event_id"]) for i, _, d in got[2:]
    ]
    assert rebuilt.quiet_for(1.0) == []
    rebuilt.close()

    # The Atom feed of the same story, read by a real feed client
    feed = requests.get(f"{system.query_url}/v1/stories/{STORY}/feed.atom", timeout=30)
    assert feed.status_code == 200 and feed.headers["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(feed.content)
    assert parsed.bozo == 0, parsed.bozo_exception
    assert parsed.version == "atom10"
    assert parsed.feed.title and parsed.feed.id and parsed.feed.updated
    assert len(parsed.entries) == len({d["entry_id"] for _, _, d in got})
    for entry in parsed.entries:
        assert entry.id and entry.title and entry.updated_parsed and entry.link, entry
    updated = [e.updated for e in parsed.entries]
    assert updated == sorted(updated, reverse=True)  # newest first
    # the correction bumped its entry: newest, updated at the correction's time
    top = parsed.entries[0]
    assert (
        top.updated
        == last["provenance"][[p["event_id"] for p in last["provenance"]].index(corrected)]["corrections"][0][
            "recorded_at"
        ]
    )
    assert "the chair denied it" in top.summary
    assert {link.href for link in top.links if link.rel == "related"} == {p["url"] for p in last["provenance"]}
    ids_before = {e.id for e in parsed.entries}
    again = feedparser.parse(requests.get(f"{system.query_url}/v1/stories/{STORY}/feed.atom", timeout=30).content)
    assert {e.id for e in again.entries} == ids_before  # stable ids


# ---------------------------------------------------------------- fast tier: the pure part


def _doc(p, o, story="s", entry="e1", history=()):
    return {
        "story_id": story,
        "event_id": f"ev{o}",
        "entry_id": entry,
        "recorded_at": f"2025-01-01T00:00:{o:02d}Z",
        "log": {"partition": p, "offset": o},
        "history": list(history),
    }


def test_changes_between_positions_in_log_order():
    docs = [
        _doc(0, 5),
        _doc(
            0,
            3,
            history=[
                {
                    "kind": "corrected",
                    "recorded_at": "2025-01-01T00:00:09Z",
                    "log": {"partition": 0, "offset": 9},
                    "previous": {"entry_id": "old"},
                }
            ],
        ),
        _doc(1, 4),
    ]
    found = changes.changes_of(docs, {0: 4}, {0: 10, 1: 5})
    assert [(c.partition, c.offset, c.kind) for c in found] == [(1, 4, "added"), (0, 5, "added"), (0, 9, "corrected")]
    assert found[-1].previous_entry_id == "old"
    assert changes.changes_of(docs, {0: 10, 1: 5}, {0: 10, 1: 5}) == []


def test_positions_round_trip_and_refuse_garbage():
    assert changes.parse_position("0:13,2:7") == {0: 13, 2: 7}
    assert changes.format_position({2: 7, 0: 13}) == "0:13,2:7"
    for bad in ("", "0:", "a:1", "0:1;1:2", "0:1,"):
        with pytest.raises(changes.BadPosition):
            changes.parse_position(bad)


def test_query_gunicorn_config_streams_on_threads_with_a_limit(monkeypatch):
    import pathlib
    import runpy

    monkeypatch.delenv("STORYLINE_SSE_MAX_CLIENTS", raising=False)
    monkeypatch.setenv("STORYLINE_QUERY_THREADS", "64")
    conf = runpy.run_path(str(pathlib.Path(__file__).resolve().parents[1] / "deploy/gunicorn/query.conf.py"))
    assert conf["worker_class"] == "gthread" and conf["threads"] == 64
    # streams can never take every thread: plain requests keep some
    assert 0 < conf["sse_max_clients"] < conf["threads"]
    assert conf["raw_env"] == [f"STORYLINE_SSE_MAX_CLIENTS={conf['sse_max_clients']}"]
