"""An embedded store left by the litemongo era does not silently vanish: the services refuse
to start on it with a message naming `storyline rebuild`, which fills the native store from
the log (it holds every event) and keeps the old directory aside."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

import pytest
from test_hot_path import VALID

from services import bootstrap
from shared.adapters.stores import LegacyStore, open_store
from shared.config import Settings
from shared.domain import events
from shared.ports import EventQuery, Record

STORYLINE = pathlib.Path(__file__).resolve().parents[1] / ".venv" / "bin" / "storyline"


def test_a_litemongo_store_asks_for_a_rebuild_which_keeps_every_event(tmp_path):
    env = {"STORYLINE_DATA_DIR": str(tmp_path), "STORYLINE_PARTITIONS": "2"}
    settings = Settings.from_env(env)
    log = bootstrap.open_log(settings)
    sent = [dict(VALID, event_id=f"legacy-{i:08d}", story_id=f"legacy-{i % 2}") for i in range(6)]
    log.publish([Record(e["story_id"], events.encode(e)) for e in sent])
    log.close()
    old = tmp_path / "store" / "storyline"
    old.mkdir(parents=True)
    (old / "timeline_events_g1").write_text("litemongo's files")

    with pytest.raises(LegacyStore, match="storyline rebuild"):
        bootstrap.build(settings)
    served = subprocess.run(
        [str(STORYLINE), "project"],
        env={**os.environ, **env, "STORYLINE_PROJECTOR_PORT": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert served.returncode == 2 and "storyline rebuild" in served.stderr and "Traceback" not in served.stderr

    done = subprocess.run(
        [str(STORYLINE), "rebuild", "--quiet", "--drop-after", "0"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["events"] == len(sent)
    assert not old.exists() and (tmp_path / "store" / "storyline.litemongo-old" / "timeline_events_g1").exists()
    with open_store(settings.store_url).view() as view:
        got = view.events("legacy-0", EventQuery()) + view.events("legacy-1", EventQuery())
    assert sorted(e["event_id"] for e in got) == sorted(e["event_id"] for e in sent)
