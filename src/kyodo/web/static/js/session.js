// The session ended (expired, logged out elsewhere): say so plainly, with a link to the login
// page that returns here. Pages keep their drafts in sessionStorage (see net.js).
import { t } from "./i18n.js";

const listeners = [];

// `onSessionEnd(fn)`: called once when the session is found to have ended (save drafts).
export function onSessionEnd(fn) { listeners.push(fn); }

export function loginLink() {
  return `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
}

export function sessionEnded() {
  if (document.getElementById("session-ended")) return;
  for (const fn of listeners) {
    try { fn(); } catch (err) { console.warn("session end:", err); }
  }
  const box = document.createElement("div");
  box.id = "session-ended";
  box.className = "session-ended";
  box.setAttribute("role", "alert");
  const text = document.createElement("span");
  text.textContent = `${t("session_ended")} `;
  const link = document.createElement("a");
  link.id = "session-login";
  link.href = loginLink();
  link.textContent = t("log_in_again");
  box.append(text, link);
  const main = document.getElementById("main") || document.body;
  main.prepend(box);
  link.focus();
}
