// "alice is typing…" for the open room: shown on a `typing` frame, gone after a few seconds or
// when that person's message arrives.
import { $ } from "./dom.js";

const SHOWN_MS = 4000;
const typists = new Map(); // username -> timer

export function someoneTyping(username) {
  clearTimeout(typists.get(username));
  typists.set(username, setTimeout(() => stoppedTyping(username), SHOWN_MS));
  render();
}

export function stoppedTyping(username) {
  if (!typists.has(username)) return;
  clearTimeout(typists.get(username));
  typists.delete(username);
  render();
}

export function clearTyping() {
  for (const timer of typists.values()) clearTimeout(timer);
  typists.clear();
  render();
}

function render() {
  const names = [...typists.keys()];
  let text = "";
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = "Several people are typing…";
  $("typing").textContent = text;
}
