"""The three-node cluster of tools/servers.sh, as the cluster fault rows drive it, and the
steady article traffic they run under."""

from __future__ import annotations

import itertools
import os
import threading
import time

import requests
from conftest import API_KEY
from kafka import KafkaAdminClient

from faults.harness import TcpProxy, servers

NODES = (1, 2, 3)


class Cluster:
    """Node N listens on CLUSTER_PORT+2(N-1) on 127.0.0.1, and on the same port on the IPv6
    loopback for clients that must come through a proxy on 127.0.0.3 (servers.sh, PROXIED)."""

    def __init__(self, base_port: int):
        self.base_port = base_port
        self.env = {**os.environ, "CLUSTER_PORT": str(base_port)}
        self.ports = {n: base_port + 2 * (n - 1) for n in NODES}
        self.bootstrap = ",".join(f"127.0.0.1:{p}" for p in self.ports.values())
        self.proxied_bootstrap = ",".join(f"127.0.0.3:{p}" for p in self.ports.values())

    def kill(self, *nodes: int) -> None:
        servers("kill-node", *map(str, nodes), env=self.env)

    def stop(self, *nodes: int) -> None:
        servers("stop-node", *map(str, nodes), env=self.env)

    def start(self, *nodes: int) -> None:
        servers("start-node", *map(str, nodes or NODES), env=self.env)

    def _describe(self, topic: str) -> list[dict]:
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10000)
        try:
            return admin.describe_topics([topic])[0]["partitions"]
        finally:
            admin.close()

    def leaders(self, topic: str) -> dict[int, int]:
        return {p["partition"]: p["leader"] for p in self._describe(topic)}

    def fully_replicated(self, topic: str) -> bool:
        """Every partition has all three copies in sync (a rolling restart waits for this)."""
        try:
            return all(len(p["isr"]) == len(NODES) for p in self._describe(topic))
        except Exception:
            return False

    def proxies(self) -> list[TcpProxy]:
        return [TcpProxy(("::1", p), listen=("127.0.0.3", p)) for p in self.ports.values()]


class Traffic(threading.Thread):
    """Posts articles at a steady pace until stopped; keeps every accepted event in arrival
    order. Anything but 202 is kept as a failure: ingest must accept whatever the cluster does."""

    def __init__(self, url: str, articles, per_second: float = 5.0):
        super().__init__(daemon=True)
        self.url, self.articles, self.interval = url, iter(articles), 1.0 / per_second
        self.posted: list[dict] = []
        self.deliveries: list[str] = []
        self.failures: list[str] = []
        self.accepted = 0
        self._lock = threading.Lock()
        self._halt = threading.Event()

    def run(self) -> None:
        next_at = time.monotonic()
        for article in self.articles:
            if self._halt.is_set():
                return
            try:
                r = requests.post(f"{self.url}/v1/articles", json=article, headers={"X-API-Key": API_KEY}, timeout=30)
                if r.status_code == 202:
                    with self._lock:
                        self.posted += r.json()["events"]
                        self.deliveries.append(r.json()["delivery"])
                        self.accepted += 1
                else:
                    self.failures.append(f"{r.status_code}: {r.text[:200]}")
            except requests.RequestException as exc:
                self.failures.append(repr(exc))
            next_at += self.interval
            self._halt.wait(max(next_at - time.monotonic(), 0))

    def event_ids(self) -> list[str]:
        with self._lock:
            return [e["event_id"] for e in self.posted]

    def wait_accepted(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.accepted < n:
            assert time.monotonic() < deadline, f"only {self.accepted} articles accepted: {self.failures[:3]}"
            time.sleep(0.1)

    def finish(self) -> None:
        self._halt.set()
        self.join(60)


def endless_articles(corpus: dict, tag: str, stories: int = 9):
    base = corpus["articles"]
    for i in itertools.count():
        a = base[i % len(base)]
        yield {
            "id": f"{tag}-{i:05d}",
            "url": f"https://faults.example.test/{tag}/{i}",
            "title": a["title"],
            "body": a["body"],
            "published_at": a["published_at"],
            "outlet": a["outlet"],
            "story_id": f"fault-{tag}-{i % stories}",
        }
