"""Applying and undoing an editor's change to an event document: one pure pair.

`apply_change` is what the projection does when an `event_corrected` / `event_retracted`
arrives; `as_known_at` is what a reader does to see the document as it stood before the
changes recorded after a time. Each history record keeps the values its change replaced
(`previous`), so the second undoes the first exactly.
"""

from __future__ import annotations

import copy
from typing import Any

from shared.domain import read_model

_ENTRY_INPUTS = ("story_id", "event_type", "actor", "target", "occurred_at")


def apply_change(target: dict[str, Any], change: dict[str, Any], offset: int | None = None) -> dict[str, Any] | None:
    """The event document after `change`, or None when the change was applied before (its
    change id is already in the history), so a redelivered change is a no-op. `offset`: the
    change's log offset, kept as the document's `change_offset` (what changed since a position)."""
    if any(h.get("change_id") == change["event_id"] for h in target.get("history") or ()):
        return None
    d = change["details"]
    retract = change["event_type"] == "event_retracted"
    changes = {} if retract else dict(d.get("changes") or {})
    previous = {k: target.get(k) for k in changes}
    previous["status"] = target.get("status", "active")
    merged = {**target, **changes}
    previous.update(sort=target.get("sort"), entry_id=target.get("entry_id"))
    record = {
        "change_id": change["event_id"],
        "kind": "retracted" if retract else "corrected",
        "recorded_at": change["recorded_at"],
        "changes": changes,
        "previous": previous,
        "reason": d.get("reason"),
        "editor": change["actor"]["name"] if change.get("actor") else None,
    }
    if change.get("log"):  # where the change sits in the log (live updates read it)
        record["log"] = {"partition": change["log"]["partition"], "offset": change["log"]["offset"]}
    merged["status"] = "retracted" if retract else "corrected"
    merged["sort"] = read_model.sort_key(merged)
    merged["entry_id"] = read_model.entry_id_for(merged)
    merged["history"] = [*(target.get("history") or ()), record]
    if offset is not None:
        merged["change_offset"] = max(offset, target.get("change_offset", -1))
    return merged


def _set_path(doc: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        doc = doc.setdefault(key, {})
    doc[last] = value


def as_known_at(ev: dict[str, Any], as_of: str) -> dict[str, Any] | None:
    """The event as it stood at `as_of`: None when it was recorded later; otherwise the
    changes recorded after `as_of` are undone from their `previous` values, newest first."""
    if ev["recorded_at"] > as_of:
        return None
    later = [h for h in ev["history"] if h.get("recorded_at", "") > as_of]
    if not later:
        return ev
    ev = copy.deepcopy(ev)
    undone: set[str] = set()
    for change in sorted(later, key=lambda h: h.get("recorded_at", ""), reverse=True):
        for key, value in (change.get("previous") or {}).items():
            _set_path(ev, key, value)
            undone.add(key.split(".")[0])
    ev["history"] = [h for h in ev["history"] if h.get("recorded_at", "") <= as_of]
    kinds = {h.get("kind") for h in ev["history"]}
    ev["status"] = "retracted" if "retracted" in kinds else "corrected" if kinds else "active"
    # Order and grouping follow the restored values unless the change recorded them itself.
    if "sort" not in undone and undone & {"occurred_at", "published_at"}:
        ev["sort"] = read_model.sort_key(ev)
    if "entry_id" not in undone and undone & set(_ENTRY_INPUTS):
        ev["entry_id"] = read_model.entry_id_for(ev)
    return ev
