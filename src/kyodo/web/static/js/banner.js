// The classification banners: raiseBanner(label) raises #banner-top and #banner-bottom to the
// join of what they show and `label` (the API's JSON label), in the reader's scheme.
import { postJSON } from "./api.js";

const ORDER = ["unclassified", "restricted", "confidential", "secret", "top-secret"];
let current = null;
let pending = Promise.resolve();

function banners() {
  return ["banner-top", "banner-bottom"].map((id) => document.getElementById(id)).filter(Boolean);
}

function currentLabel() {
  if (current === null) {
    const el = banners()[0];
    current = el && el.dataset.label ? JSON.parse(el.dataset.label) : null;
  }
  return current;
}

// Whether label `a` dominates `b` (level, compartments, releasability), as the server decides.
export function dominates(a, b) {
  if (!a || !b) return false;
  if (a.level < b.level) return false;
  const restrictive = new Set(a.restrictive || []);
  if (!(b.restrictive || []).every((c) => restrictive.has(c))) return false;
  if (a.releasable_to === null) return b.releasable_to === null;
  if (b.releasable_to === null) return true;
  const rel = new Set(b.releasable_to);
  return a.releasable_to.every((n) => rel.has(n));
}

export function levelWord(view) {
  return view.level;
}

function show(view) {
  current = view.label;
  for (const el of banners()) {
    el.textContent = view.banner;
    el.dataset.level = view.level;
    el.dataset.label = JSON.stringify(view.label);
    el.title = view.original;
    if (view.sci) el.dataset.sci = ""; else delete el.dataset.sci;
    el.setAttribute("aria-label", el.getAttribute("aria-label").split(":")[0] + ": " + view.banner);
  }
  const title = document.title.split(" · ");
  title[0] = view.banner;
  document.title = title.join(" · ");
  document.dispatchEvent(new CustomEvent("kyodo:banner", { detail: view }));
}

// Raise both banners to cover `label`; resolves once they show it. Never lowers them.
export function raiseBanner(label) {
  pending = pending.then(async () => {
    const shown = currentLabel();
    if (!label || (shown && dominates(shown, label))) return;
    const view = await postJSON("/web/labels/join", { labels: shown ? [shown, label] : [label] });
    show(view);
  }).catch((err) => console.warn("banner:", err));
  return pending;
}

export { ORDER };
