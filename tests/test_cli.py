"""The `storyline` command, run as a user would."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

STORYLINE = str(pathlib.Path(sys.executable).with_name("storyline"))


def run(*args, env=None, **kw):
    return subprocess.run(
        [STORYLINE, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}, **kw
    )


def test_extract_prints_the_same_events_as_the_api_contract(tmp_path, seed):
    path = tmp_path / "seed.json"
    path.write_text(json.dumps({k: v for k, v in seed.items() if k != "story"}))
    out = run("extract", str(path), "--stable")
    assert out.returncode == 0, out.stderr
    evs = json.loads(out.stdout)
    assert sorted(e["event_type"] for e in evs) == [
        "allegation_made",
        "complaint_filed",
        "post_deleted",
        "rebuttal_given",
        "rebuttal_given",
    ]
    again = json.loads(run("extract", str(path), "--stable").stdout)
    assert [e["event_id"] for e in evs] == [e["event_id"] for e in again]
    for e in evs:
        assert e["schema_version"] == 2 and e["extractor"]["version"] and 0 < e["extractor"]["confidence"] <= 1
        assert seed["body"][e["source"]["char_start"] : e["source"]["char_end"]].strip() == e["source"]["sentence"]


def test_extract_rejects_bad_files_with_a_message(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"title": "x"}')
    out = run("extract", str(bad), str(tmp_path / "missing.json"))
    assert out.returncode == 2
    assert "invalid article" in out.stderr and "body" in out.stderr
    assert "missing.json" in out.stderr


def test_bad_configuration_names_the_variable(tmp_path):
    out = run("project", env={"STORYLINE_PARTITIONS": "many", "STORYLINE_DATA_DIR": str(tmp_path)})
    assert out.returncode == 2
    assert "STORYLINE_PARTITIONS" in out.stderr
    out = run("serve", env={"STORYLINE_STORE": "redis://x", "STORYLINE_DATA_DIR": str(tmp_path)})
    assert out.returncode == 2 and "STORYLINE_STORE" in out.stderr
