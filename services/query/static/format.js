// Formatting and DOM helpers shared by the page's modules; no state.

export function el(tag, attrs = {}, ...children) {
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


export const label = (type) => type.replace(/_/g, " ");
const NOUNS = { allegation_made: ["allegation", "allegations"], rebuttal_given: ["rebuttal", "rebuttals"],
  complaint_filed: ["complaint", "complaints"], post_deleted: ["deleted post", "deleted posts"],
  investigation_opened: ["investigation", "investigations"], statement_made: ["statement", "statements"],
  apology_issued: ["apology", "apologies"] };
export const countOf = (type, n) => `${n} ${(NOUNS[type] || [label(type), label(type)])[n === 1 ? 0 : 1]}`;
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
  "October", "November", "December"];
const pad = (n) => String(n).padStart(2, "0");
export const clock = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;

export function humanDate(iso, precision) {
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  if (precision === "year") return String(y);
  if (precision === "month") return `${MONTHS[m - 1]} ${y}`;
  const day = `${d} ${MONTHS[m - 1]} ${y}`;
  return precision === "week" ? "week of " + day : day;
}

export function humanTime(iso) {  // an instant from the API, in UTC as the API gives it
  if (!iso) return "";
  const t = iso.length > 10 ? `, ${iso.slice(11, 16)} UTC` : "";
  return humanDate(iso, "day") + t;
}

// Where an entry sits on the day scale. The API's `placement` (date, inferred, reason) wins when
// present; without it an undated entry sits on its publication day, and says so.
export function placementOf(e) {
  if (e.placement && e.placement.date) {
    return { day: e.placement.date.slice(0, 10), inferred: Boolean(e.placement.inferred),
             reason: e.placement.reason || (e.placement.inferred ? "no date in the reports" : "") };
  }
  if (e.dated) return { day: e.occurred_at.slice(0, 10), inferred: false, reason: "" };
  return { day: e.published_at.slice(0, 10), inferred: true,
           reason: `no date in the reports; placed on the day it was published, ${humanDate(e.published_at, "day")}` };
}

export const dayNumber = (day) => Date.UTC(...day.split("-").map((n, i) => Number(n) - (i === 1 ? 1 : 0))) / 86400000;
