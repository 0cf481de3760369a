// Home page: unread counts per net (messages after the last one this person saw there, a
// marker the server keeps with the membership, so it is the same on every device).
import { getJSON } from "./api.js";
import { t } from "./i18n.js";

const list = document.getElementById("home-nets");
if (list) {
  const person = list.dataset.person;
  for (const item of list.querySelectorAll("li[data-net]")) {
    const net = item.dataset.net;
    const seen = Number(item.dataset.seen || 0);
    getJSON(`/api/v1/nets/${encodeURIComponent(net)}/messages?after=${seen}&limit=500`)
      .then((page) => {
        const count = page.items.filter((m) => !m.deleted && m.author_id !== person).length;
        const badge = item.querySelector(".unread");
        if (count > 0) {
          badge.textContent = `${count >= 500 ? "500+" : count} ${t("unread")}`;
          badge.hidden = false;
        }
      })
      .catch((err) => console.warn("unread:", err));
  }
}
