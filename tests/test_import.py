"""`storyline import` as a subprocess against a running system: progress, summary, rejects
with the service's reasons, SIGINT halfway and a rerun that accepts each article once and
leaves each event in the timeline once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
import requests
from conftest import API_KEY

FIRST = ("Mara", "Otto", "Inka", "Piet", "Lena", "Ruud", "Saskia", "Tomasz")
LAST = ("Quillfeather", "Venhaus", "Starling", "Morland", "Ashgrove", "Tellamy", "Brandvik", "Oakhurst")


def archive(n_good: int) -> tuple[list[str], list[str]]:
    """JSON Lines: n_good articles over four stories, then malformed lines mixed in."""
    lines = []
    for i in range(n_good):
        actor = f"{FIRST[i % 8]} {LAST[(i // 8) % 8]}"
        chair = f"{FIRST[(i + 3) % 8]} {LAST[(i + 5) % 8]}"
        lines.append(
            json.dumps(
                {
                    "id": f"imp-{i:03d}",
                    "url": f"https://news.example.test/import/{i}",
                    "outlet": "Import Test Wire",
                    "title": f"Harbour board row, part {i}",
                    "story_id": f"import-story-{i % 4}",
                    "published_at": f"2025-06-{1 + i % 28:02d}T08:00:00Z",
                    "body": f"{actor} has claimed that the harbour board hid survey number {i}. "
                    f"The board chair, {chair}, denied the claim on Tuesday.",
                }
            )
        )
    bad = [
        '{"id": "imp-bad-json", "url": ',  # not JSON
        json.dumps(
            {
                "id": "imp-no-title",
                "url": "https://news.example.test/x",
                "outlet": "W",
                "published_at": "2025-06-01T08:00:00Z",
                "body": "Nothing.",
            }
        ),  # title missing
        json.dumps(
            {
                "id": "imp-bad-date",
                "url": "https://news.example.test/y",
                "outlet": "W",
                "title": "T",
                "published_at": "last Tuesday",
                "body": "Nothing.",
            }
        ),  # bad date
        json.dumps(["not", "an", "object"]),  # not an object
        json.dumps(
            {
                "id": "imp-bad-url",
                "url": "no address",
                "outlet": "W",
                "title": "T",
                "published_at": "2025-06-01T08:00:00Z",
                "body": "Nothing.",
            }
        ),
    ]  # bad url
    for k, line in enumerate(bad):  # spread through the file
        lines.insert((k + 1) * len(lines) // (len(bad) + 1), line)
    return lines, bad


def run_import(system, tmp_path, *extra, wait=True):
    env = {**os.environ, "STORYLINE_API_KEYS": API_KEY, "STORYLINE_DATA_DIR": str(tmp_path / "cli-data")}
    argv = [
        sys.executable,
        "-m",
        "services.cli",
        "import",
        str(tmp_path / "archive.jsonl"),
        "--ingest",
        system.ingest_url,
        "--state",
        str(tmp_path / "state.jsonl"),
        "--rejects",
        str(tmp_path / "rejects.jsonl"),
        "--concurrency",
        "2",
        *extra,
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if wait:
        out, err = proc.communicate(timeout=600)
        return proc.returncode, out, err
    return proc


def state_lines(tmp_path) -> int:
    try:
        return sum(1 for _ in open(tmp_path / "state.jsonl"))
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize("system", ["embedded"], indirect=True)
def test_import_interrupted_and_rerun_accepts_each_article_once(system, tmp_path):
    lines, bad = archive(60)
    n_bad, n_good = len(bad), len(lines) - len(bad)
    (tmp_path / "archive.jsonl").write_text("\n".join(lines) + "\n")

    proc = run_import(system, tmp_path, wait=False)
    deadline = time.monotonic() + 300
    while state_lines(tmp_path) < 12 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    first = json.loads(out)
    assert first["interrupted"] is True and 12 <= first["accepted"] < n_good
    assert "art/s" in err and "accepted=" in err  # the progress bar with its counts
    assert state_lines(tmp_path) == first["accepted"]

    code, out, err = run_import(system, tmp_path)
    second = json.loads(out)
    assert code == 1 and "rejected" in err  # rejects without --allow-rejects: non-zero
    assert second["skipped_already_accepted"] == first["accepted"]
    assert second["accepted"] == n_good - first["accepted"]
    assert second["rejected"] == n_bad and second["interrupted"] is False
    assert second["articles_per_s"] > 0
    rejects = [json.loads(line) for line in open(tmp_path / "rejects.jsonl")]
    assert len(rejects) == n_bad and {r["line"] for r in rejects} == set(bad)
    by_status = Counter(r["status"] for r in rejects)
    assert by_status == {400: 2, 422: 3}, rejects
    fields = {f for r in rejects for f in r["fields"]}
    assert {"title", "published_at", "url"} <= fields and all(r["reason"] for r in rejects)

    code, out, _ = run_import(system, tmp_path, "--allow-rejects", "--quiet")
    third = json.loads(out)
    assert code == 0 and third["accepted"] == 0 and third["skipped_already_accepted"] == n_good

    # every accepted article's events are in the timeline exactly once
    expected_events = first["events"] + second["events"]
    deadline = time.monotonic() + 120
    while True:
        seen: Counter = Counter()
        articles: set[str] = set()
        for s in range(4):
            body = requests.get(
                f"{system.query_url}/v1/stories/import-story-{s}/timeline",
                timeout=30,
                params={"limit": 500, "include_retracted": "true"},
            ).json()
            for entry in body.get("entries", []):
                for p in entry["provenance"]:
                    seen[p["event_id"]] += 1
                    articles.add(p["article_id"])
        if sum(seen.values()) >= expected_events or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert articles == {f"imp-{i:03d}" for i in range(60)}
    assert sum(seen.values()) == len(seen) == expected_events  # none doubled, none lost
    stories = requests.get(f"{system.query_url}/v1/stories", params={"q": "import-story"}, timeout=10).json()["stories"]
    assert sum(s["event_count"] for s in stories) == expected_events


def test_import_refuses_unreadable_sources_and_missing_key(tmp_path):
    env = {**os.environ, "STORYLINE_API_KEYS": API_KEY, "STORYLINE_DATA_DIR": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, "-m", "services.cli", "import", str(tmp_path / "missing.jsonl")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 2 and "missing.jsonl" in r.stderr
    (tmp_path / "a.json").write_text("[{]")
    r = subprocess.run(
        [sys.executable, "-m", "services.cli", "import", str(tmp_path / "a.json")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 2 and "not a JSON array" in r.stderr
    env.pop("STORYLINE_API_KEYS")
    r = subprocess.run(
        [sys.executable, "-m", "services.cli", "import", "-"],
        input="",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 2 and "API key" in r.stderr


def test_sources_json_lines_array_folder_and_stdin(tmp_path):
    import io

    from services.importer import read_sources

    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps([{"id": "x1"}, {"id": "x2"}]))
    (folder / "b.jsonl").write_text('{"id": "x3"}\n\n{"id": "x4"}\n')
    (folder / "c.json").write_text(json.dumps({"id": "x5"}, indent=2))
    (folder / "notes.txt").write_text("ignored")
    items = read_sources([str(folder)])
    assert [json.loads(i.text)["id"] for i in items] == ["x1", "x2", "x3", "x4", "x5"]
    assert items[2].source.endswith("b.jsonl:1") and items[3].source.endswith("b.jsonl:3")
    piped = read_sources(["-"], stdin=io.StringIO('{"id": "x6"}\nnot json\n'))
    assert [i.text for i in piped] == ['{"id": "x6"}', "not json"]
    # the key does not depend on formatting, so a reformatted archive still resumes
    assert read_sources(["-"], stdin=io.StringIO('{"id":"x1"}'))[0].key == items[0].key
