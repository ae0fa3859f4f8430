// The time axis: a day scale with one mark (a button) per entry.

import { el, dayNumber, humanDate, label, placementOf } from "./format.js";

const MARK_PX = 24;  // the spacing of marks, a touch target's size
export function renderAxis(axis, list) {
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
