// Editors' page: story search, a story's timeline, and the "as known at" control.
// Plain DOM, no build step; every text from the API goes in via textContent.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { story: null, asOf: null, retracted: false, storiesCursor: null, entriesCursor: null };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

async function api(path, params = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") qs.set(k, v);
  const url = path + (qs.toString() ? "?" + qs : "");
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? body.error.reason : res.statusText);
  if (body.freshness) $("freshness").textContent = "log read to " + body.freshness.position;
  return body;
}

const label = (type) => type.replace(/_/g, " ");
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
  "October", "November", "December"];

function humanDate(iso, precision) {
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  if (precision === "year") return String(y);
  if (precision === "month") return `${MONTHS[m - 1]} ${y}`;
  const day = `${d} ${MONTHS[m - 1]} ${y}`;
  return precision === "week" ? "week of " + day : day;
}

// ---------------------------------------------------------------- stories

async function loadStories(append = false) {
  const params = { q: $("q").value.trim(), limit: 25, cursor: append ? state.storiesCursor : null };
  $("stories-status").textContent = "Loading…";
  try {
    const page = await api("v1/stories", params);
    if (!append) $("stories").replaceChildren();
    for (const s of page.stories) {
      const link = el("a", { href: "#story=" + encodeURIComponent(s.story_id), "data-story": s.story_id },
        el("span", { class: "title", text: s.title || s.story_id }),
        el("span", { class: "sub", text: ` ${s.event_count} events · ${s.participants.length} participants` }));
      $("stories").append(el("li", {}, link));
    }
    state.storiesCursor = page.next_cursor;
    $("more-stories").hidden = !page.next_cursor;
    $("stories-status").textContent = $("stories").children.length ? "" : "No stories match.";
  } catch (err) {
    $("stories-status").textContent = "Could not load stories: " + err.message;
  }
}

// ---------------------------------------------------------------- a story

function entryNode(e) {
  const classes = ["entry", "kind-" + e.event_type, e.dated ? "dated" : "undated", e.status];
  const when = e.dated ? humanDate(e.occurred_at, e.occurred_precision)
                       : "reported " + humanDate(e.published_at, "day");
  const head = el("div", { class: "head" },
    el("span", { class: "when", text: when }),
    el("span", { class: "kind", text: label(e.event_type) }),
    e.dated ? null : el("span", { class: "badge undated", text: "undated", title: "no event time found; placed by publication day" }),
    e.status === "retracted" ? el("span", { class: "badge retracted", text: "retracted" }) : null,
    e.status === "corrected" ? el("span", { class: "badge corrected", text: "corrected" }) : null);
  const who = el("div", { class: "who" }, el("strong", { text: e.actor.name }),
    e.target ? " → " + e.target.name : null);
  const sources = el("div", { class: "sources" }, "Sources: ");
  e.provenance.forEach((p, i) => {
    if (i) sources.append(", ");
    const name = p.outlet || p.article_id;
    const safe = p.url && /^https?:\/\//i.test(p.url);
    sources.append(safe ? el("a", { href: p.url, title: p.sentence, rel: "noopener", target: "_blank", text: name })
                        : el("span", { title: p.sentence, text: name }));
    sources.append(el("span", { class: "meta", text: ` (confidence ${p.confidence.toFixed(2)}, extractor ${p.extractor_version})` }));
  });
  return el("li", { class: classes.join(" "), "data-entry": e.entry_id, "data-kind": e.event_type },
    head, who, el("p", { class: "summary", text: e.summary }),
    e.quote ? el("blockquote", { text: e.quote }) : null, sources);
}

async function loadStory(storyId) {
  state.story = storyId;
  $("placeholder").hidden = true;
  $("story").hidden = false;
  for (const a of document.querySelectorAll("#stories a")) a.setAttribute("aria-current", String(a.dataset.story === storyId));
  try {
    const s = await api("v1/stories/" + encodeURIComponent(storyId));
    $("story-title").textContent = s.title || s.story_id;
    const counts = Object.entries(s.counts).map(([k, n]) => `${n} ${label(k)}`).join(", ");
    const people = s.participants.map((p) => `${p.name} (${p.roles.join("/")})`).join(", ");
    $("story-meta").textContent = `${counts}. Participants: ${people}. Sources: ${s.sources.length} articles.`;
  } catch (err) {
    $("story-title").textContent = storyId;
    $("story-meta").textContent = "Could not load the story: " + err.message;
  }
  await loadTimeline(false);
}

async function loadTimeline(append) {
  const params = { limit: 50, as_of: state.asOf, include_retracted: state.retracted ? "true" : null,
                   cursor: append ? state.entriesCursor : null };
  $("timeline-status").textContent = "Loading…";
  try {
    const page = await api("v1/stories/" + encodeURIComponent(state.story) + "/timeline", params);
    if (!append) $("timeline").replaceChildren();
    for (const e of page.entries) $("timeline").append(entryNode(e));
    state.entriesCursor = page.next_cursor;
    $("more-entries").hidden = !page.next_cursor;
    $("as-of-note").hidden = !page.as_of;
    $("as-of-note").textContent = page.as_of ? "As known at " + page.as_of + " (what had been ingested by then)" : "";
    $("timeline-status").textContent = $("timeline").children.length ? "" : "No events.";
  } catch (err) {
    $("timeline-status").textContent = "Could not load the timeline: " + err.message;
  }
}

// ---------------------------------------------------------------- wiring

function fromHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  state.asOf = h.get("as_of");
  state.retracted = h.get("retracted") === "1";
  $("retracted").checked = state.retracted;
  if (h.get("story")) loadStory(h.get("story"));
}

function toHash() {
  const h = new URLSearchParams({ story: state.story });
  if (state.asOf) h.set("as_of", state.asOf);
  if (state.retracted) h.set("retracted", "1");
  history.replaceState(null, "", "#" + h);
}

$("search").addEventListener("submit", (ev) => { ev.preventDefault(); loadStories(false); });
$("more-stories").addEventListener("click", () => loadStories(true));
$("more-entries").addEventListener("click", () => loadTimeline(true));
$("stories").addEventListener("click", (ev) => {
  const a = ev.target.closest("a[data-story]");
  if (!a) return;
  ev.preventDefault();
  state.story = a.dataset.story;
  toHash();
  loadStory(a.dataset.story);
});
$("controls").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const v = $("as-of").value;  // local time without a zone; the API wants one
  state.asOf = v ? new Date(v).toISOString() : null;
  state.retracted = $("retracted").checked;
  toHash();
  loadTimeline(false);
});
$("now").addEventListener("click", () => { $("as-of").value = ""; state.asOf = null; toHash(); loadTimeline(false); });
$("retracted").addEventListener("change", () => { state.retracted = $("retracted").checked; toHash(); loadTimeline(false); });

loadStories(false).then(fromHash);
