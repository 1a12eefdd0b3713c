// Small DOM helpers. User text goes in with textContent only, never as HTML.

export const $ = (id) => document.getElementById(id);

export function el(tag, { className, text, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

/** Characters as the server counts them: code points, after trimming surrounding space. */
export function charCount(text) {
  return [...text.trim()].length;
}

/** Shows the characters left near a limit, or how far over it the text is; true when over. */
export function showCount(counter, count, limit, from) {
  const over = count > limit;
  counter.textContent = over
    ? `${count - limit} over the limit`
    : count >= from ? `${limit - count} left` : "";
  counter.classList.toggle("over", over);
  return over;
}

/** A random id for a message's client_id (crypto.randomUUID needs a secure context). */
export function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
