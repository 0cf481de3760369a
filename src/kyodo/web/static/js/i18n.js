// The page scripts' texts, translated by the server from the one catalogue.
let messages = null;

export function t(key) {
  if (messages === null) {
    const el = document.getElementById("kyodo-messages");
    messages = el ? JSON.parse(el.textContent) : {};
  }
  return messages[key] || key;
}
