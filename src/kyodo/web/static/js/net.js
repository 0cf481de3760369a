// The chat view: live messages over the WebSocket, portion markings, replies, edits with
// history, the spillage guard while typing, and the override flow.
import { getJSON, postJSON, putJSON, request } from "./api.js";
import { raiseBanner } from "./banner.js";
import { t, tf } from "./i18n.js";
import { onSessionEnd, sessionEnded } from "./session.js";

const chat = document.getElementById("chat");
const netId = chat.dataset.net;
const me = chat.dataset.person;
const mayOverride = chat.dataset.mayOverride === "true";
const recordsOfficer = chat.dataset.records === "true";
const list = document.getElementById("messages");
const statusEl = document.getElementById("live-status");
const messages = new Map(); // seq -> message payload
const displays = new Map(); // label key -> display promise
let lastRev = Number(chat.dataset.rev || 0);
let replyTo = null;
const names = JSON.parse(document.getElementById("people-names").textContent);

// A label as the API gives it: a JSON object, or a marking string (in the guard's answers).
const labelKey = (label) => (typeof label === "string" ? `|${label}` : `${label.policy}|${label.marking}`);

function displayOf(label) {
  const key = labelKey(label);
  if (!displays.has(key)) {
    displays.set(
      key,
      postJSON("/web/labels/display", { labels: [label] }).then((answer) => answer.items[0]),
    );
  }
  return displays.get(key);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function marking(view, portion = true) {
  const span = el("span", {
    class: "marking portion",
    "data-level": view.level,
    "data-sci": view.sci || null,
    title: view.original,
    text: portion ? view.portion : view.banner,
  });
  return span;
}

function zulu(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace("T", " ")}Z`;
}

// Bidirectional controls could make a line read as something else: shown as what they are.
function visible(text) {
  return text.replace(/[\u202A-\u202E\u2066-\u2069]/g,
    (c) => `[U+${c.codePointAt(0).toString(16).toUpperCase()}]`);
}

function snippet(message) {
  const text = message && message.text ? visible(message.text) : "";
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

async function render(message) {
  const view = await displayOf(message.label);
  const mine = message.author_id === me;
  const li = el("li", {
    class: `message${mine ? " mine" : ""}${message.deleted ? " deleted" : ""}`,
    id: `m-${message.seq}`,
    "data-seq": message.seq,
    "data-rev": message.rev,
    "data-level": view.level,
    tabindex: "-1",
  });
  const head = el(
    "div",
    { class: "head" },
    el("span", { class: "author", text: names[message.author_id] || message.author, title: message.author }),
    el("time", { datetime: message.created_at, text: zulu(message.created_at) }),
    el("span", { class: "seq muted", text: `#${message.seq}` }),
    message.version > 1 && !message.deleted
      ? el("span", { class: "tag edited", text: `${t("edited")} (v${message.version})` })
      : null,
  );
  li.append(head);
  if (message.reply_to) {
    const parent = messages.get(message.reply_to);
    li.append(
      el("div", {
        class: "reply-ref",
        text: `↳ ${t("in_reply_to")} #${message.reply_to}${parent ? `: ${snippet(parent)}` : ""}`,
      }),
    );
  }
  const body = el("div", { class: "body" }, marking(view));
  if (message.deleted) {
    body.append(el("span", { text: t("deleted") }));
  } else {
    const text = el("div", { class: "text" });
    text.innerHTML = message.html || ""; // sanitised by the server (safe Markdown subset)
    body.append(text);
  }
  li.append(body);
  if (!message.deleted) {
    const actions = el(
      "div",
      { class: "actions" },
      el("button", { type: "button", class: "reply", text: t("reply"), onclick: () => startReply(message) }),
      mine ? el("button", { type: "button", class: "edit", text: t("edit"), onclick: () => startEdit(message, li) }) : null,
      mine || (recordsOfficer && message.version > 1)
        ? el("button", { type: "button", class: "history", text: t("history"), onclick: () => showHistory(message, li) })
        : null,
      mine ? el("button", { type: "button", class: "receipts", text: t("receipts"), onclick: () => showReceipts(message, li) }) : null,
      mine ? el("button", { type: "button", class: "delete", text: t("delete"), onclick: () => remove(message) }) : null,
    );
    li.append(actions);
  }
  return li;
}

async function upsert(message) {
  if (message.net_id !== netId) return;
  const known = messages.get(message.seq);
  if (known && known.rev >= message.rev) return;
  messages.set(message.seq, message);
  const li = await render(message);
  if (messages.get(message.seq) !== message) return; // a newer change arrived meanwhile
  const existing = document.getElementById(`m-${message.seq}`);
  if (existing) {
    existing.replaceWith(li);
  } else {
    const after = [...list.children].find((node) => Number(node.dataset.seq) > message.seq);
    list.insertBefore(li, after || null);
    if (!after) list.scrollTop = list.scrollHeight;
  }
  raiseBanner(message.label);
  markSeen();
}

// The read marker lives with the membership on the server, so unread counts are the same on
// every device; it is sent at most every 2 s. Administrators reading a net they are not a member
// of keep none.
let seenSent = chat.dataset.lastRead === "" ? null : Number(chat.dataset.lastRead);
let seenTimer = null;

function markSeen() {
  if (seenSent === null || seenTimer !== null) return;
  const highest = Math.max(0, ...messages.keys());
  if (highest <= seenSent) return;
  seenSent = highest;
  putJSON(`/api/v1/nets/${encodeURIComponent(netId)}/read`, { seq: highest })
    .catch((err) => console.warn("read marker:", err));
  seenTimer = setTimeout(() => {
    seenTimer = null;
    markSeen();
  }, 2000);
}

function hide(seq) {
  messages.delete(seq);
  const existing = document.getElementById(`m-${seq}`);
  if (existing) existing.remove();
}

// The live stream: replay after the last rev seen, then live events; reconnects on loss.
let backoff = 500;
function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/v1/stream`, ["kyodo.v1"]);
  socket.addEventListener("open", () => {
    socket.send(JSON.stringify({ op: "subscribe", nets: [netId], after: lastRev }));
  });
  socket.addEventListener("message", (event) => {
    const data = JSON.parse(event.data);
    if (data.rev) lastRev = Math.max(lastRev, data.rev);
    if (data.type === "subscribed") {
      backoff = 500;
      statusEl.textContent = `● ${t("connected")}`;
      chat.dataset.live = "true";
    } else if (data.type === "message") {
      upsert(data.message);
    } else if (data.type === "message.hidden" && data.net_id === netId) {
      hide(data.seq);
    } else if (data.type === "net.left" && data.net_id === netId) {
      statusEl.textContent = t("removed");
      chat.dataset.left = "true";
      socket.close();
    }
  });
  socket.addEventListener("close", (event) => {
    chat.dataset.live = "false";
    if (chat.dataset.left === "true" || event.code === 4401) {
      if (event.code === 4401) {
        statusEl.textContent = ""; // the session notice says it, with the way back in
        sessionEnded();
      }
      return;
    }
    statusEl.textContent = t("disconnected");
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
  });
}

// Replies
const replyBar = document.getElementById("reply-bar");
function startReply(message) {
  replyTo = message.seq;
  if (!replyBar) return;
  replyBar.hidden = false;
  document.getElementById("reply-text").textContent =
    `${t("replying_to")} #${message.seq}: ${snippet(message)}`;
  document.getElementById("composer-text").focus();
}
function cancelReply() {
  replyTo = null;
  if (replyBar) replyBar.hidden = true;
}

// Edits and history
function startEdit(message, li) {
  if (li.querySelector(".edit-form")) return;
  const area = el("textarea", { class: "edit-text", maxlength: "20000", "aria-label": t("edit") });
  area.value = message.text || "";
  const problem = el("div", { class: "error", role: "alert", hidden: true });
  const form = el(
    "form",
    { class: "edit-form composer" },
    area,
    el("div", { class: "row" },
      el("button", { type: "submit", class: "primary", text: t("save") }),
      el("button", { type: "button", text: t("cancel"), onclick: () => form.remove() })),
    problem,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await saveEdit(message, area.value, null, problem, form);
  });
  li.append(form);
  area.focus();
}

async function saveEdit(message, text, justification, problem, form) {
  const body = { text };
  if (justification) body.override_justification = justification;
  try {
    const edited = await putJSON(`/api/v1/messages/${message.seq}`, body);
    form.remove();
    await upsert(edited);
  } catch (err) {
    problem.hidden = false;
    const details = err.problem || {};
    const reason = details.override_reason || details.reason;
    problem.replaceChildren(el("p", { text: reason ? await reasonText(reason) : problemText(err) }));
    if (details.findings) problem.append(findingsList(details.findings));
    if (details.overridable) {
      const why = el("textarea", { "aria-label": t("justification"), maxlength: "2000" });
      problem.append(
        el("label", { text: t("justification") }), why,
        el("button", { type: "button", class: "danger", text: t("post_anyway"),
          onclick: () => saveEdit(message, text, why.value, problem, form) }),
      );
    }
  }
}

async function showHistory(message, li) {
  const open = li.querySelector(".versions");
  if (open) { open.remove(); return; }
  const box = el("div", { class: "versions" });
  li.append(box);
  try {
    const versions = await getJSON(`/api/v1/messages/${message.seq}/versions`);
    const ol = el("ol");
    for (const version of versions) {
      const view = await displayOf(version.label);
      ol.append(el("li", {},
        el("span", { class: "muted", text: `${t("version")} ${version.version} · ${zulu(version.at)} ` }),
        marking(view), " ", el("span", { text: visible(version.text) })));
    }
    box.append(ol);
  } catch (err) {
    box.append(el("p", { class: "error", text: problemText(err) }));
  }
}

// Who has received and read it: the TAK clients' receipts (b-t-f-d, b-t-f-r), for the author.
async function showReceipts(message, li) {
  const open = li.querySelector(".receipts-list");
  if (open) { open.remove(); return; }
  const box = el("div", { class: "receipts-list" });
  li.append(box);
  try {
    const receipts = await getJSON(`/api/v1/messages/${message.seq}/receipts`);
    if (!receipts.length) {
      box.append(el("p", { class: "muted", text: t("no_receipts") }));
      return;
    }
    const ul = el("ul");
    for (const receipt of receipts) {
      const kind = receipt.kind === "read" ? t("receipt_read") : t("receipt_delivered");
      ul.append(el("li", { text: `${receipt.username} · ${kind} · ${zulu(receipt.at)}` }));
    }
    box.append(ul);
  } catch (err) {
    box.append(el("p", { class: "error", text: problemText(err) }));
  }
}

async function remove(message) {
  if (!window.confirm(t("confirm_delete"))) return;
  try {
    await request("DELETE", `/api/v1/messages/${message.seq}`);
  } catch (err) {
    console.warn("delete:", err);
  }
}

// The spillage guard while typing, and posting. Every line comes from the catalogue in the
// reader's language: the reason is a code with values (labels shown in the reader's scheme),
// the findings' rule names and explanations come in English and Japanese from the rules.
const japanese = document.documentElement.lang === "ja";
const ruleName = (f) => (japanese && f.rule_name_ja) || f.rule_name;
const explanation = (f) => (japanese && f.explanation_ja) || f.explanation;

// A reason's values as the reader reads them: a label as its banner, a level as its name.
// A refused request in the reader's language: the error's summary and the policy's reasons
// from their codes (the API's English where the catalogue has none).
function problemText(err) {
  const problem = err.problem || {};
  const key = `problem.${problem.code}`;
  const summary = problem.code && t(key) !== key ? t(key) : err.message;
  const reasons = problem.reason_codes
    ? problem.reason_codes.map((r) => tf(r.code, r.params || {}))
    : problem.reasons || [];
  return [summary, ...reasons].join(" ");
}

async function reasonText(reason) {
  const values = {};
  for (const [name, value] of Object.entries(reason.params || {})) {
    if (value && typeof value === "object" && value.marking) {
      const view = await displayOf(value);
      values[name] = name === "level" ? view.classification || view.banner : view.banner;
    } else {
      values[name] = value;
    }
  }
  return tf(reason.code, values);
}

function findingsList(findings) {
  const ul = el("ul", { class: "findings" });
  for (const finding of findings) {
    const needs = el("span", { class: "muted minimum" });
    ul.append(el("li", {},
      el("mark", { text: visible(finding.text) }), " — ",
      el("span", { text: `${ruleName(finding)}: ${explanation(finding)} ` }), needs));
    // A marking found in the text is shown whole; a level rule's minimum by its level only
    // (it says how sensitive the words are, not to whom they may go).
    displayOf(finding.minimum)
      .then((view) => {
        const level = finding.marking === false ? view.classification || view.banner : view.banner;
        needs.textContent = japanese ? `（${tf("finding_needs", { level })}）` : `(${tf("finding_needs", { level })})`;
      })
      .catch((err) => console.warn("label:", err));
  }
  return ul;
}

// The chat card fills the window down to the bottom banner, so that the composer and what the
// guard says stay in view however many messages there are; the message list takes the rest.
const card = chat.querySelector("section.card");
function fitChat() {
  const bottom = document.getElementById("banner-bottom");
  const top = card.getBoundingClientRect().top + window.scrollY;
  const room = window.innerHeight - top - (bottom ? bottom.offsetHeight : 0) - 12;
  card.style.height = `${Math.max(room, 360)}px`;
}
const atEnd = () => list.scrollHeight - list.scrollTop - list.clientHeight < 24;
function keepEnd(wasAtEnd) { if (wasAtEnd) list.scrollTop = list.scrollHeight; }
fitChat();
window.addEventListener("resize", fitChat);

const form = document.getElementById("composer");
if (form) {
  const text = document.getElementById("composer-text");
  const labelSelect = document.getElementById("composer-label");
  const guard = document.getElementById("guard");
  const override = document.getElementById("override");
  const errorBox = document.getElementById("composer-error");
  let checkSerial = 0;
  let timer = null;
  let lastCheck = null; // the last check's draft and answer, for what a refused post leaves out
  // The draft is kept in this tab's sessionStorage, so a session that ends (log in again,
  // come back here) or a reload does not lose it; a post that succeeds forgets it.
  const draftKey = `kyodo-draft:${netId}`;
  const saveDraft = () => {
    try {
      if (text.value) sessionStorage.setItem(draftKey, text.value);
      else sessionStorage.removeItem(draftKey);
    } catch (err) { console.warn("draft:", err); }
  };
  try {
    const kept = sessionStorage.getItem(draftKey);
    if (kept && !text.value) text.value = kept;
  } catch (err) { console.warn("draft:", err); }
  text.addEventListener("input", saveDraft);
  onSessionEnd(saveDraft);

  // The guard's advice: the reason, the one-click raise where a label in this net covers the
  // text, and what was found. `answer` is a check's answer or a refused post's problem.
  async function showAdvice(answer, refused = false, current = () => true) {
    const wasAtEnd = atEnd();
    const parts = [];
    if (refused) parts.push(el("p", { class: "refused", text: t("override_refused") }));
    if (answer.reason) parts.push(el("p", { class: "reason", text: await reasonText(answer.reason) }));
    const suggested = answer.suggested;
    if (answer.reason && answer.reason.code === "guard.above_label" && suggested) {
      const view = await displayOf(suggested);
      parts.push(el("p", {},
        el("button", {
          type: "button", class: "primary", id: "guard-raise",
          "data-marking": typeof suggested === "string" ? suggested : suggested.marking,
          text: tf("raise_and_post", { label: view.banner }),
          onclick: () => raiseAndPost(suggested, view),
        })));
      if (answer.keeps_partners === false) parts.push(el("p", { class: "muted", text: t("partners_cut") }));
    }
    if (answer.elsewhere && answer.elsewhere.length) {
      const places = el("ul", { class: "elsewhere" });
      for (const place of answer.elsewhere) {
        const view = await displayOf(place.suggested);
        places.append(el("li", {},
          el("a", { href: `/nets/${encodeURIComponent(place.net_id)}`, text: place.name }),
          " ", marking(view, false)));
      }
      parts.push(el("p", { text: t("elsewhere") }), places);
    }
    if (answer.findings && answer.findings.length) {
      parts.push(el("p", { text: t("findings") }), findingsList(answer.findings));
    }
    if (!current()) return; // a newer check answered while the labels were being shown
    guard.replaceChildren(...parts);
    guard.hidden = false;
    keepEnd(wasAtEnd);
  }

  function raiseAndPost(suggested, view) {
    const marking = typeof suggested === "string" ? suggested : suggested.marking;
    let option = [...labelSelect.options].find((o) => o.value === marking);
    if (!option) {
      option = new Option(view.banner, marking);
      option.dataset.level = view.level;
      labelSelect.append(option);
    }
    labelSelect.value = marking;
    send(null);
  }

  async function check() {
    const draft = text.value;
    const serial = ++checkSerial;
    if (!draft.trim()) { guard.hidden = true; return; }
    try {
      const answer = await postJSON("/api/v1/guard/check", {
        text: draft, label: labelSelect.value, net_id: netId,
      });
      if (serial !== checkSerial) return;
      lastCheck = { text: draft, label: labelSelect.value, answer };
      guard.className = `guard ${answer.findings.length ? "warn" : "ok"}`;
      guard.dataset.refused = String(answer.refused);
      guard.dataset.state = answer.refused ? "refuse" : "ok";
      guard.dataset.reason = answer.reason ? answer.reason.code : "";
      if (answer.refused) {
        await showAdvice(answer, false, () => serial === checkSerial);
      } else if (answer.findings.length) {
        guard.replaceChildren(el("p", { text: t("covered") }), findingsList(answer.findings));
      } else {
        guard.replaceChildren(el("p", { text: t("no_findings") }));
      }
      if (serial !== checkSerial) return;
      if (answer.recipients_by_nation) {
        const parts = Object.entries(answer.recipients_by_nation).map(([n, c]) => `${n} ${c}`);
        guard.append(el("p", { class: "recipients", text: `${t("recipients")} ${parts.join(", ")}` }));
      }
      guard.hidden = false;
    } catch (err) {
      if (serial !== checkSerial) return;
      guard.hidden = false;
      guard.className = "guard warn";
      guard.replaceChildren(el("p", { text: problemText(err) }));
    }
  }
  const scheduleCheck = () => { clearTimeout(timer); timer = setTimeout(check, 350); };
  text.addEventListener("input", scheduleCheck);
  labelSelect.addEventListener("change", scheduleCheck);

  async function send(justification) {
    const body = { text: text.value, label: labelSelect.value };
    if (replyTo) body.reply_to = replyTo;
    if (justification) body.override_justification = justification;
    errorBox.hidden = true;
    clearTimeout(timer);
    try {
      const posted = await postJSON(`/api/v1/nets/${netId}/messages`, body);
      checkSerial += 1; // a check still on its way is about the text just posted
      text.value = "";
      saveDraft();
      override.hidden = true;
      guard.hidden = true;
      cancelReply();
      await upsert(posted.message);
    } catch (err) {
      const problem = err.problem || {};
      if (problem.code === "guard_refused") {
        checkSerial += 1;
        const allowed = Boolean(problem.overridable && mayOverride);
        guard.className = "guard warn";
        guard.dataset.refused = "true";
        guard.dataset.state = "refuse";
        guard.dataset.reason = problem.reason ? problem.reason.code : "";
        // The nets that can carry it come with the preview of the same draft (a post's
        // refusal does not look for them).
        const same = lastCheck && lastCheck.text === body.text && lastCheck.label === body.label;
        await showAdvice({ ...problem, elsewhere: same ? lastCheck.answer.elsewhere : null }, true);
        // The override, for those who may, or why a justification did not override.
        override.hidden = !(allowed || problem.override_reason);
        override.dataset.overridable = String(allowed);
        const why = document.getElementById("override-justification");
        const label = document.getElementById("override-label");
        const button = document.getElementById("override-send");
        // A justification that did not override says why (too short, not allowed).
        document.getElementById("override-text").textContent = problem.override_reason
          ? await reasonText(problem.override_reason)
          : t("override_needed");
        label.textContent = t("justification");
        button.textContent = t("post_anyway");
        for (const node of [why, label, button]) node.hidden = !allowed;
        if (allowed) why.focus();
      } else {
        errorBox.hidden = false;
        errorBox.textContent = problemText(err);
      }
    }
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); send(null); });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(null); }
  });
  document.getElementById("override-send").addEventListener("click", () => {
    send(document.getElementById("override-justification").value);
  });
  const cancel = document.getElementById("reply-cancel");
  if (cancel) cancel.addEventListener("click", cancelReply);
}

// Start: the messages rendered with the page, then the live stream from their last rev.
async function start() {
  const initial = JSON.parse(document.getElementById("initial-messages").textContent);
  for (const message of initial) {
    if (message.display) displays.set(labelKey(message.label), Promise.resolve(message.display));
    messages.set(message.seq, message);
  }
  for (const message of initial) list.append(await render(message));
  list.scrollTop = list.scrollHeight;
  markSeen();
  connect();
}
start();
