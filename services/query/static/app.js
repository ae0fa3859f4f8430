// Editors' page: story search; a story's time axis and entries with filters; live updates.
// Plain DOM, no build step; every text from the API goes in via textContent.
"use strict";

const $ = (id) => document.getElementById(id);
const POLL_MS = 2000;
const state = {
  story: null, asOf: null, retracted: false, types: [], actor: "",
  storiesCursor: null, entriesCursor: null,
  etag: null, shown: new Set(), live: null,  // live: {stop()} of the EventSource or the poll loop
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

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
  const live = state.live ? ` · ${state.live.kind === "stream" ? "live" : "checking every few seconds"}` : "";
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

const label = (type) => type.replace(/_/g, " ");
const NOUNS = { allegation_made: ["allegation", "allegations"], rebuttal_given: ["rebuttal", "rebuttals"],
  complaint_filed: ["complaint", "complaints"], post_deleted: ["deleted post", "deleted posts"],
  investigation_opened: ["investigation", "investigations"], statement_made: ["statement", "statements"],
  apology_issued: ["apology", "apologies"] };
const countOf = (type, n) => `${n} ${(NOUNS[type] || [label(type), label(type)])[n === 1 ? 0 : 1]}`;
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
  "October", "November", "December"];
const pad = (n) => String(n).padStart(2, "0");
const clock = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;

function humanDate(iso, precision) {
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  if (precision === "year") return String(y);
  if (precision === "month") return `${MONTHS[m - 1]} ${y}`;
  const day = `${d} ${MONTHS[m - 1]} ${y}`;
  return precision === "week" ? "week of " + day : day;
}

function humanTime(iso) {  // an instant from the API, in UTC as the API gives it
  if (!iso) return "";
  const t = iso.length > 10 ? `, ${iso.slice(11, 16)} UTC` : "";
  return humanDate(iso, "day") + t;
}

// Where an entry sits on the day scale. The API's `placement` (date, inferred, reason) wins when
// present; without it an undated entry sits on its publication day, and says so.
function placementOf(e) {
  if (e.placement && e.placement.date) {
    return { day: e.placement.date.slice(0, 10), inferred: Boolean(e.placement.inferred),
             reason: e.placement.reason || (e.placement.inferred ? "no date in the reports" : "") };
  }
  if (e.dated) return { day: e.occurred_at.slice(0, 10), inferred: false, reason: "" };
  return { day: e.published_at.slice(0, 10), inferred: true,
           reason: `no date in the reports; placed on the day it was published, ${humanDate(e.published_at, "day")}` };
}

const dayNumber = (day) => Date.UTC(...day.split("-").map((n, i) => Number(n) - (i === 1 ? 1 : 0))) / 86400000;

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

function entryHeading(e, where) {
  const when = where.inferred ? `${humanDate(where.day, "day")} (inferred)`
             : e.dated ? humanDate(e.occurred_at, e.occurred_precision) : humanDate(where.day, "day");
  return el("h3", { class: "head", id: "h-" + e.entry_id },
    el("span", { class: "when", text: when }),
    el("span", { class: "kind", text: label(e.event_type) }));
}

function corrections(e) {
  const rows = [];
  for (const p of e.provenance) for (const c of p.corrections || []) rows.push({ ...c, outlet: p.outlet || p.article_id });
  rows.sort((a, b) => (a.recorded_at || "").localeCompare(b.recorded_at || ""));
  if (!rows.length) return null;
  const describe = (c) => {
    if (c.kind === "retracted") return "Retracted";
    const fields = Object.entries(c.changes || {}).map(([k, v]) => {
      const was = c.previous && c.previous[k];
      const show = (x) => {
        const text = x && typeof x === "object" ? x.name || JSON.stringify(x) : String(x);
        return text.length > 90 ? `“${text.slice(0, 88)}…”` : `“${text}”`;
      };
      return `${label(k)} ${was != null ? `from ${show(was)} ` : ""}to ${show(v)}`;
    });
    return "Corrected: " + (fields.join("; ") || "details");
  };
  return el("div", { class: "history" }, el("h4", { text: "Correction history" }),
    el("ol", {}, ...rows.map((c) => el("li", {},
      el("span", { text: describe(c) }),
      el("span", { class: "meta", text: ` (${c.outlet}'s report), ${humanTime(c.recorded_at)}` +
                                         (c.editor ? ` by ${c.editor}` : "") }),
      c.reason ? el("span", { class: "reason", text: ` Reason: ${c.reason}` } ) : null))));
}

function sourcesList(e) {
  const list = el("ul", { class: "sources" });
  for (const p of e.provenance) {
    const name = p.outlet || p.article_id;
    const safe = p.url && /^https?:\/\//i.test(p.url);
    const link = safe ? el("a", { href: p.url, rel: "noopener", target: "_blank", text: name })
                      : el("span", { class: "outlet", text: name });
    list.append(el("li", { title: p.sentence },
      link,
      el("span", { class: "meta", text: `, published ${humanTime(p.published_at)} · confidence ${Math.round(p.confidence * 100)}%` +
                                          (p.status === "retracted" ? " · retracted" : "") }),
      // why a further report was merged into this entry (the API's `joined`), when there are several
      e.provenance.length > 1 && p.joined ? el("span", { class: "joined", text: ` (${p.joined})` }) : null));
  }
  return el("div", { class: "sources-box" },
    el("h4", { text: e.provenance.length === 1 ? "Source" : `Sources (${e.provenance.length} reports)` }), list);
}

const FIELD_LABELS = { actor: "actor", target: "target", when: "date", quote: "quotation", body: "where" };

// Where reports disagree, the entry shows the best-supported value; the others, and who gives them.
function alternativesNode(e) {
  const fields = Object.entries(e.alternatives || {}).filter(([, alts]) => alts && alts.length);
  if (!fields.length) return null;
  const outletOf = new Map(e.provenance.map((p) => [p.event_id, p.outlet || p.article_id]));
  const show = (field, v) => {
    if (field === "when" && Array.isArray(v)) return humanDate(v[0], v[1]);
    const text = v && typeof v === "object" ? v.name || JSON.stringify(v) : String(v);
    return text.length > 90 ? text.slice(0, 88) + "…" : text;
  };
  return el("div", { class: "alternatives" }, el("h4", { text: "Other reports say" }),
    el("ul", {}, ...fields.flatMap(([field, alts]) => alts.map((a) => el("li", {},
      `${FIELD_LABELS[field] || label(field)}: “${show(field, a.value)}”`,
      el("span", { class: "meta", text: ` (${[...new Set(a.event_ids.map((id) => outletOf.get(id) || "another report"))].join(", ")})` }))))));
}

function entryNode(e, byId, isNew) {
  const where = placementOf(e);
  const classes = ["entry", "kind-" + e.event_type, e.dated ? "dated" : "undated", where.inferred ? "inferred" : "",
                   e.status, isNew ? "new" : ""].filter(Boolean);
  const badges = el("p", { class: "badges" },
    where.inferred ? el("span", { class: "badge inferred", text: "inferred position", title: where.reason }) : null,
    e.status === "retracted" ? el("span", { class: "badge retracted", text: "retracted" }) : null,
    e.status === "corrected" ? el("span", { class: "badge corrected", text: "corrected" }) : null,
    isNew ? el("span", { class: "badge new", text: "new" }) : null);
  const who = el("p", { class: "who" }, el("strong", { text: e.actor.name }),
    e.target ? ` → ${e.target.name}` : null);
  const responds = (e.responds_to || []).filter((id) => byId.has(id));
  const answers = responds.length ? el("p", { class: "responds" }, "In response to ",
    ...responds.flatMap((id, i) => {
      const r = byId.get(id);
      const byRule = (e.responds_to_inferred || []).includes(id);
      return [i ? ", " : null, el("button", { type: "button", class: "link", "data-goto": id,
        text: `${label(r.event_type)} by ${r.actor.name} (${humanDate(placementOf(r).day, "day")})` }),
        byRule ? el("span", { class: "meta", text: " (link inferred: the latest earlier allegation against the same target)" }) : null];
    })) : null;
  return el("li", { class: classes.join(" "), id: "entry-" + e.entry_id, "data-entry": e.entry_id,
                    "data-kind": e.event_type, "data-day": where.day, tabindex: "-1", "aria-labelledby": "h-" + e.entry_id },
    entryHeading(e, where), badges,
    where.inferred ? el("p", { class: "placement-note", text: "Position inferred: " + where.reason }) : null,
    who, el("p", { class: "summary", text: e.summary }),
    e.quote ? el("blockquote", { class: "quote" }, el("p", { text: `“${e.quote}”` })) : null,
    answers,
    el("p", { class: "confidence", text: `Confidence ${Math.round(e.confidence * 100)}%` }),
    sourcesList(e), alternativesNode(e), corrections(e));
}

// The day scale: one band per day from the first to the last shown day; an entry's mark sits in
// its day's band, the entries of one day side by side in their order (in rows when the band is narrow).
const MARK_PX = 24;  // the spacing of marks, a touch target's size
function renderAxis(list) {
  const axis = $("axis");
  if (!list.length) { axis.replaceChildren(); axis.style.height = ""; return; }
  const places = list.map(placementOf);
  const days = places.map((p) => dayNumber(p.day));
  const first = Math.min(...days), last = Math.max(...days), n = last - first + 1;
  const band = 100 / n, bandPx = Math.max(axis.clientWidth, 200) / n;
  const perDay = new Map();
  days.forEach((d) => perDay.set(d, (perDay.get(d) || 0) + 1));
  const seen = new Map();
  let rows = 1;
  const marks = list.map((e, i) => {
    const d = days[i], k = perDay.get(d), j = seen.get(d) || 0;
    seen.set(d, j + 1);
    const across = Math.max(1, Math.min(k, Math.floor((bandPx * 0.9) / MARK_PX)));
    const row = Math.floor(j / across), col = j % across, inRow = Math.min(across, k - row * across);
    rows = Math.max(rows, row + 1);
    const spread = Math.min(band * 0.9, (inRow * MARK_PX * band) / bandPx);  // the row's width in %
    const left = (d - first) * band + band / 2 - spread / 2 + ((col + 0.5) / inRow) * spread;
    const name = `${humanDate(places[i].day, "day")}: ${label(e.event_type)} by ${e.actor.name}` +
                 (places[i].inferred ? `, position inferred (${places[i].reason})` : "");
    return el("button", { type: "button", class: `mark kind-${e.event_type}${places[i].inferred ? " inferred" : ""}`,
                          style: `left: ${left}%; bottom: ${1.1 + row * 1.25}rem`, "data-day": places[i].day,
                          "data-goto": e.entry_id, "aria-label": name, title: name });
  });
  const step = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(axis.clientWidth / 110))));
  const ticks = [];
  for (let d = first; d <= last; d += step) ticks.push(d);
  if (ticks[ticks.length - 1] !== last) ticks.push(last);
  const iso = (d) => new Date(d * 86400000).toISOString().slice(0, 10);
  const sameYear = iso(first).slice(0, 4) === iso(last).slice(0, 4);
  const tickText = (d, end) => {
    const text = humanDate(iso(d), "day");
    return end || !sameYear ? text : text.replace(/ \d{4}$/, "");
  };
  axis.style.height = 2.6 + rows * 1.25 + "rem";
  axis.replaceChildren(el("div", { class: "rule", "aria-hidden": "true" }),
    ...ticks.flatMap((d, i) => {
      const end = i === 0 || i === ticks.length - 1, left = `left: ${(d - first) * band + band / 2}%`;
      return [el("span", { class: "tick-line", style: left, "aria-hidden": "true" }),
              el("span", { class: "tick" + (end ? " end" : ""), style: left, "aria-hidden": "true", text: tickText(d, end) })];
    }),
    ...marks);
  const box = axis.getBoundingClientRect();  // keep the end labels inside the axis's box
  for (const t of axis.querySelectorAll(".tick")) {
    const r = t.getBoundingClientRect();
    const shift = Math.max(0, box.left - 8 - r.left) - Math.max(0, r.right - box.right - 8);
    if (shift) t.style.marginLeft = shift + "px";
  }
}

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
  renderAxis(list);
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

// Server-Sent Events when the service has them (GET /v1/stories/<id>/events); otherwise, or when
// the stream fails, polling with the timeline's ETag (a 304 costs the service no read of events).
function startLive() {
  stopLive();
  if (!state.story || state.asOf) return;  // a view "as known at" a time does not change
  if ("EventSource" in window) {
    const source = new EventSource("v1/stories/" + encodeURIComponent(state.story) + "/events");
    let opened = false;
    const onChange = () => refreshSoon();
    document.body.dataset.live = "connecting";
    source.onopen = () => { opened = true; document.body.dataset.live = "stream"; };
    // `ready` opens every stream: re-read once, so a change between our read and the stream's start
    // is not missed (a 304 when there was none); then each change event triggers a re-read of the
    // timeline, since a new report can move other entries (causal order, merged entries).
    source.addEventListener("ready", onChange);
    for (const name of ["entry_added", "entry_corrected", "entry_retracted"]) source.addEventListener(name, onChange);
    source.onmessage = onChange;
    source.onerror = () => {
      if (opened && source.readyState !== EventSource.CLOSED) return;  // the browser reconnects by itself
      source.close();
      if (state.live && state.live.source === source) startPolling();
    };
    state.live = { kind: "stream", source, stop: () => source.close() };
  } else {
    startPolling();
  }
}

function startPolling() {
  let timer = null, stopped = false;
  const tick = async () => {
    if (stopped) return;
    if (!document.hidden) await refresh();
    if (!stopped) timer = setTimeout(tick, POLL_MS);
  };
  state.live = { kind: "poll", stop: () => { stopped = true; clearTimeout(timer); } };
  document.body.dataset.live = "poll";
  timer = setTimeout(tick, POLL_MS);
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
$("filters").addEventListener("reset", () => setTimeout(filtersChanged));  // after the form has reset its controls
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
  renderAxis(entries);
}).observe($("axis"));

loadStories(false).then(fromHash);
