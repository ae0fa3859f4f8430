// Editors' page: story search; a story's time axis and entries with filters; live updates.
// Plain DOM and ES modules, no build step; every text from the API goes in via textContent.
import { renderAxis } from "./axis.js";
import { entryNode } from "./entries.js";
import { clock, countOf, el, humanTime, label } from "./format.js";
import { follow } from "./live.js";

const $ = (id) => document.getElementById(id);
const state = {
  story: null, asOf: null, retracted: false, types: [], actor: "",
  storiesCursor: null, entriesCursor: null,
  etag: null, shown: new Set(), live: null,  // {stop()} of live.follow
};

function query(params) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.forEach((x) => qs.append(k, x));
    else if (v !== null && v !== undefined && v !== "") qs.set(k, v);
  }
  return qs.toString() ? "?" + qs : "";
}

// The projection's position goes to a data attribute (for scripts and support), never on screen.
function noteFreshness(position) {
  if (!position) return;
  const f = $("freshness");
  f.dataset.position = position;
  const mode = document.body.dataset.live;
  const live = mode === "stream" ? " · live" : mode === "poll" ? " · checking every few seconds" : "";
  f.textContent = "Updated " + clock(new Date()) + live;
}

async function api(path, params = {}, etag = null) {
  const headers = { Accept: "application/json" };
  if (etag) headers["If-None-Match"] = etag;
  const res = await fetch(path + query(params), { headers, cache: "no-store" });
  noteFreshness(res.headers.get("X-Storyline-Position"));
  if (res.status === 304) return null;
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? body.error.reason : res.statusText);
  body.etag = res.headers.get("ETag");
  return body;
}

// ---------------------------------------------------------------- stories

async function loadStories(append = false) {
  const params = { q: $("q").value.trim(), limit: 25, cursor: append ? state.storiesCursor : null };
  $("stories-status").textContent = "Loading…";
  try {
    const page = await api("v1/stories", params);
    if (!append) $("stories").replaceChildren();
    for (const s of page.stories) {
      const n = s.event_count, p = s.participants.length;
      const link = el("a", { href: "#story=" + encodeURIComponent(s.story_id), "data-story": s.story_id,
                             "aria-current": String(s.story_id === state.story) },
        el("span", { class: "title", text: s.title || s.story_id }),
        el("span", { class: "sub", text: ` ${n} ${n === 1 ? "event" : "events"} · ${p} ${p === 1 ? "participant" : "participants"}` }));
      $("stories").append(el("li", {}, link));
    }
    state.storiesCursor = page.next_cursor;
    $("more-stories").hidden = !page.next_cursor;
    $("stories-status").textContent = $("stories").children.length ? "" : "No stories match.";
  } catch (err) {
    $("stories-status").textContent = "Could not load stories: " + err.message;
  }
}

// ---------------------------------------------------------------- filters

function renderFilters(summary) {
  const active = document.activeElement;  // a live update re-renders the controls: keep the focus
  const had = active && active.closest("#filters") && { id: active.id, value: active.value };
  const types = Object.keys(summary.counts).sort();
  for (const t of state.types) if (!types.includes(t)) types.push(t);
  $("type-options").replaceChildren(...types.map((t) => {
    const n = summary.counts[t] || 0;
    return el("label", { class: `check kind-${t}` },
      el("input", { type: "checkbox", name: "types", value: t, checked: state.types.includes(t) ? "" : null }),
      el("span", { class: "swatch", "aria-hidden": "true" }),
      ` ${label(t)} (${n})`);
  }));
  const actors = summary.participants.filter((p) => p.roles.includes("actor")).map((p) => p.name);
  if (state.actor && !actors.includes(state.actor)) actors.push(state.actor);
  $("actor").replaceChildren(el("option", { value: "", text: "All actors" }),
    ...actors.sort().map((a) => el("option", { value: a, text: a, selected: a === state.actor ? "" : null })));
  if (had) {
    const again = had.id ? $(had.id) : document.querySelector(`#type-options input[value="${CSS.escape(had.value)}"]`);
    if (again) again.focus({ preventScroll: true });
  }
}

function readFilters() {
  state.types = [...document.querySelectorAll('#type-options input[name="types"]:checked')].map((i) => i.value);
  state.actor = $("actor").value;
}

// ---------------------------------------------------------------- a story

async function loadStory(storyId) {
  const changed = storyId !== state.story;
  state.story = storyId;
  if (changed) { state.shown = new Set(); state.etag = null; }
  $("placeholder").hidden = true;
  $("story").hidden = false;
  for (const a of document.querySelectorAll("#stories a")) a.setAttribute("aria-current", String(a.dataset.story === storyId));
  await loadSummary();
  await loadTimeline(false);
  startLive();
}

async function loadSummary() {
  const asked = ++requests.summary;
  try {
    const s = await api("v1/stories/" + encodeURIComponent(state.story));
    if (asked !== requests.summary) return;
    $("story-title").textContent = s.title || s.story_id;
    const lead = typeof s.lead === "string" ? s.lead : s.lead && s.lead.text;
    $("story-lead").hidden = !lead;
    $("story-lead").textContent = lead || "";
    const counts = Object.entries(s.counts).map(([k, n]) => countOf(k, n)).join(", ");
    const n = s.sources.length;
    const outlets = new Set(s.sources.map((a) => a.outlet || a.article_id)).size;
    $("story-meta").textContent = `Reports: ${counts}, in ${n} ${n === 1 ? "article" : "articles"} ` +
                                  `from ${outlets} ${outlets === 1 ? "outlet" : "outlets"}.`;
    renderFilters(s);
    const sub = document.querySelector(`#stories a[data-story="${CSS.escape(state.story)}"] .sub`);
    const events = Object.values(s.counts).reduce((a, b) => a + b, 0), people = s.participants.length;
    if (sub) sub.textContent = ` ${events} ${events === 1 ? "event" : "events"} · ${people} ${people === 1 ? "participant" : "participants"}`;
  } catch (err) {
    $("story-title").textContent = state.story;
    $("story-meta").textContent = "Could not load the story: " + err.message;
  }
}

function timelineParams(limit, cursor) {
  return { limit, as_of: state.asOf, include_retracted: state.retracted ? "true" : null, cursor,
           types: state.types.length ? state.types.join(",") : null, actor: state.actor || null };
}

let entries = [];  // what the list shows, in the API's order
const requests = { timeline: 0, summary: 0 };

function renderEntries(list, fresh) {
  const FOCUSABLE = "a[href], button, input, select, summary";
  const active = document.activeElement;
  const focused = active && active.closest("#timeline [data-entry]");
  const keep = focused && { id: focused.dataset.entry, self: active === focused,
                            index: [...focused.querySelectorAll(FOCUSABLE)].indexOf(active) };
  const byId = new Map(list.map((e) => [e.entry_id, e]));
  $("timeline").replaceChildren(...list.map((e) => entryNode(e, byId, fresh.has(e.entry_id))));
  renderAxis($("axis"), list);
  if (keep) {  // a live update must not throw the reader's focus away
    const node = $("entry-" + keep.id);
    const target = node && (keep.self ? node : node.querySelectorAll(FOCUSABLE)[keep.index] || node);
    if (target) target.focus({ preventScroll: true });
  }
}

async function loadTimeline(append, { refresh = false } = {}) {
  const limit = refresh ? Math.min(500, Math.max(50, entries.length)) : 50;
  if (!refresh) $("timeline-status").textContent = "Loading…";
  const asked = ++requests.timeline;  // answers can arrive out of order: only the latest request's counts
  try {
    const page = await api("v1/stories/" + encodeURIComponent(state.story) + "/timeline",
                           timelineParams(limit, append ? state.entriesCursor : null), refresh ? state.etag : null);
    if (asked !== requests.timeline) return false;
    if (page === null) return false;  // 304: nothing new
    if (!append) state.etag = page.etag;
    const fresh = new Set(refresh ? page.entries.map((e) => e.entry_id).filter((id) => !state.shown.has(id)) : []);
    entries = append ? entries.concat(page.entries) : page.entries;
    for (const e of page.entries) state.shown.add(e.entry_id);
    renderEntries(entries, fresh);
    state.entriesCursor = page.next_cursor;
    $("more-entries").hidden = !page.next_cursor;
    $("as-of-note").hidden = !page.as_of;
    $("as-of-note").textContent = page.as_of ? "As known at " + humanTime(page.as_of) + " (what had been ingested by then)" : "";
    const n = entries.length;
    $("timeline-status").textContent = !n ? "No events." :
      fresh.size ? `${fresh.size} new ${fresh.size === 1 ? "entry" : "entries"} arrived.` :
      `${n} ${n === 1 ? "entry" : "entries"}${state.types.length || state.actor ? " match the filters" : ""}.`;
    return true;
  } catch (err) {
    if (asked !== requests.timeline) return false;
    $("timeline-status").textContent = "Could not load the timeline: " + err.message;
    return false;
  }
}

// ---------------------------------------------------------------- live updates

// Re-reading the timeline (with its ETag: a 304 costs the service no read of events) is how
// every change is applied, since a new report can move other entries (causal order, merges).
function startLive() {
  stopLive();
  if (!state.story || state.asOf) return;  // a view "as known at" a time does not change
  state.live = follow("v1/stories/" + encodeURIComponent(state.story) + "/events",
    { changed: refreshSoon, poll: refresh, mode: (m) => { document.body.dataset.live = m; } });
}

function stopLive() {
  if (state.live) state.live.stop();
  state.live = null;
  document.body.dataset.live = "off";
}

let pending = null;
function refreshSoon() {  // a burst of stream events is one re-read
  if (!pending) pending = setTimeout(() => { pending = null; refresh(); }, 150);
}

async function refresh() {
  if (await loadTimeline(false, { refresh: true })) await loadSummary();
}

// ---------------------------------------------------------------- wiring

function fromHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  state.asOf = h.get("as_of");
  state.retracted = h.get("retracted") === "1";
  state.types = (h.get("types") || "").split(",").filter(Boolean);
  state.actor = h.get("actor") || "";
  $("retracted").checked = state.retracted;
  if (state.asOf) $("as-of-box").open = true;
  if (h.get("story")) loadStory(h.get("story"));
}

function toHash() {
  const h = new URLSearchParams({ story: state.story });
  if (state.asOf) h.set("as_of", state.asOf);
  if (state.retracted) h.set("retracted", "1");
  if (state.types.length) h.set("types", state.types.join(","));
  if (state.actor) h.set("actor", state.actor);
  history.replaceState(null, "", "#" + h);
}

function goTo(entryId) {
  const node = $("entry-" + entryId);
  if (!node) return;
  node.scrollIntoView({ block: "center" });
  node.focus({ preventScroll: true });
}

function filtersChanged() {
  readFilters();
  toHash();
  state.etag = null;
  loadTimeline(false);
}

$("search").addEventListener("submit", (ev) => { ev.preventDefault(); loadStories(false); });
$("more-stories").addEventListener("click", () => loadStories(true));
$("more-entries").addEventListener("click", () => loadTimeline(true));
$("stories").addEventListener("click", (ev) => {
  const a = ev.target.closest("a[data-story]");
  if (!a) return;
  ev.preventDefault();
  state.types = [];
  state.actor = "";
  loadStory(a.dataset.story);  // sets state.story before its first await
  toHash();
});
$("filters").addEventListener("change", filtersChanged);
$("filters").addEventListener("submit", (ev) => { ev.preventDefault(); filtersChanged(); });
$("filters").addEventListener("reset", (ev) => {
  // not the form's own reset: that returns to the controls' initial values, which a shared link set
  ev.preventDefault();
  for (const box of document.querySelectorAll('#type-options input[name="types"]')) box.checked = false;
  $("actor").value = "";
  filtersChanged();
});
for (const id of ["axis", "timeline"]) {
  $(id).addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-goto]");
    if (b) goTo(b.dataset.goto);
  });
}
$("controls").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const v = $("as-of").value;  // local time without a zone; the API wants one
  state.asOf = v ? new Date(v).toISOString() : null;
  state.retracted = $("retracted").checked;
  toHash();
  state.etag = null;
  loadTimeline(false).then(startLive);
});
$("now").addEventListener("click", () => {
  $("as-of").value = "";
  state.asOf = null;
  toHash();
  state.etag = null;
  loadTimeline(false).then(startLive);
});
$("retracted").addEventListener("change", () => { state.retracted = $("retracted").checked; toHash(); loadTimeline(false); });

let axisWidth = 0;
new ResizeObserver(() => {
  if (Math.abs($("axis").clientWidth - axisWidth) < 8) return;
  axisWidth = $("axis").clientWidth;
  renderAxis($("axis"), entries);
}).observe($("axis"));

loadStories(false).then(fromHash);
