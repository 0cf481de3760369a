// The chat view: live messages over the WebSocket, portion markings, replies, edits with
// history, the spillage guard while typing, and the override flow.
import { getJSON, postJSON, putJSON, request } from "./api.js";
import { raiseBanner } from "./banner.js";
import { t } from "./i18n.js";

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

const labelKey = (label) => `${label.policy}|${label.marking}`;

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
      if (event.code === 4401) statusEl.textContent = event.reason;
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
    problem.replaceChildren(el("p", { text: err.message }));
    const details = err.problem || {};
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
    box.append(el("p", { class: "error", text: err.message }));
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

// The spillage guard while typing, and posting. Findings come in English and Japanese (the
// rule names from the rules file, the explanations from the server).
const japanese = document.documentElement.lang === "ja";
const ruleName = (f) => (japanese && f.rule_name_ja) || f.rule_name;
const explanation = (f) => (japanese && f.explanation_ja) || f.explanation;

function findingsList(findings) {
  const ul = el("ul", { class: "findings" });
  for (const finding of findings) {
    const minimum = el("span", { class: "muted minimum", text: `(≥ ${finding.minimum})` });
    ul.append(el("li", {},
      el("mark", { text: finding.text }), " — ",
      el("span", { text: `${ruleName(finding)}: ${explanation(finding)} ` }), minimum));
    // The minimum arrives as a marking in its own scheme; show it in the reader's.
    postJSON("/web/labels/display", { labels: [finding.minimum] })
      .then((answer) => { minimum.textContent = `(≥ ${answer.items[0].banner})`; })
      .catch((err) => console.warn("label:", err));
  }
  return ul;
}

const form = document.getElementById("composer");
if (form) {
  const text = document.getElementById("composer-text");
  const labelSelect = document.getElementById("composer-label");
  const guard = document.getElementById("guard");
  const override = document.getElementById("override");
  const errorBox = document.getElementById("composer-error");
  let checkSerial = 0;
  let timer = null;

  async function check() {
    const draft = text.value;
    const serial = ++checkSerial;
    if (!draft.trim()) { guard.hidden = true; return; }
    try {
      const answer = await postJSON("/api/v1/guard/check", {
        text: draft, label: labelSelect.value, net_id: netId,
      });
      if (serial !== checkSerial) return;
      guard.replaceChildren();
      guard.hidden = false;
      const warn = answer.findings.length > 0 && answer.refused;
      guard.className = `guard ${answer.findings.length ? "warn" : "ok"}`;
      guard.dataset.refused = String(answer.refused);
      if (answer.findings.length) {
        guard.append(el("p", { text: t("findings") }), findingsList(answer.findings));
        const view = await displayOf(answer.suggested);
        guard.append(el("p", {}, el("span", { text: `${t("suggested")} ` }), marking(view, false)));
        if (answer.above_ceiling) guard.append(el("p", { class: "no", text: t("above_ceiling") }));
      } else {
        guard.append(el("p", { text: t("no_findings") }));
      }
      if (answer.recipients_by_nation) {
        const parts = Object.entries(answer.recipients_by_nation).map(([n, c]) => `${n} ${c}`);
        guard.append(el("p", { class: "recipients", text: `${t("recipients")} ${parts.join(", ")}` }));
      }
      guard.dataset.state = warn ? "refuse" : "ok";
    } catch (err) {
      if (serial !== checkSerial) return;
      guard.hidden = false;
      guard.className = "guard warn";
      guard.replaceChildren(el("p", { text: err.message }));
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
    try {
      const posted = await postJSON(`/api/v1/nets/${netId}/messages`, body);
      text.value = "";
      override.hidden = true;
      guard.hidden = true;
      cancelReply();
      await upsert(posted.message);
    } catch (err) {
      const problem = err.problem || {};
      if (problem.code === "guard_refused") {
        override.hidden = false;
        override.dataset.overridable = String(Boolean(problem.overridable && mayOverride));
        document.getElementById("override-text").textContent =
          problem.overridable && mayOverride ? t("override_needed") : `${t("override_refused")} ${err.message}`;
        const why = document.getElementById("override-justification");
        const label = document.getElementById("override-label");
        const button = document.getElementById("override-send");
        label.textContent = t("justification");
        button.textContent = t("post_anyway");
        for (const node of [why, label, button]) node.hidden = !(problem.overridable && mayOverride);
        if (problem.overridable && mayOverride) why.focus();
      } else {
        errorBox.hidden = false;
        errorBox.textContent = err.message + (problem.reasons ? `: ${problem.reasons.join("; ")}` : "");
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
