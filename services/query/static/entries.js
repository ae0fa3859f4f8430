// One timeline entry as a list item: date, kind, who, summary, quotation, links, sources,
// what other reports say, corrections. Every API text goes in via textContent.

import { el, humanDate, humanTime, label, placementOf } from "./format.js";

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

export function entryNode(e, byId, isNew) {
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
