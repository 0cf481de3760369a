// The page scripts' texts, translated by the server from the one catalogue.
let messages = null;

export function t(key) {
  if (messages === null) {
    const el = document.getElementById("kyodo-messages");
    messages = el ? JSON.parse(el.textContent) : {};
  }
  return messages[key] || key;
}

// A text with {name} placeholders filled from `values` (already in the reader's language).
export function tf(key, values = {}) {
  return t(key).replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}
