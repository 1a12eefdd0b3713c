// The messages of the open room, in seq order whatever order they arrive in: grouped by author
// and day, system messages apart, own messages marked. Someone reading older messages is never
// scrolled away from them; "New messages below" says that more arrived.
import { $, el } from "./dom.js";
import { state } from "./state.js";
import { bodyOf, changedElsewhere, focusEditor, resetTools, toolsOf } from "./message_tools.js";

const GROUP_WITHIN_MS = 5 * 60 * 1000;
const NEAR_BOTTOM_PX = 48;

let messages = []; // of the open room, ascending by seq, no duplicates

const list = () => $("messages");

export function resetTimeline() {
  messages = [];
  resetTools();
  list().replaceChildren();
  $("older").hidden = true;
  $("jump").hidden = true;
}

export const loadedSeqs = () => messages.map((message) => message.seq);
export const hasOlder = () => messages.length > 0 && messages[0].seq > 1;

/** Show `incoming` (of the open room); `ownSend` scrolls to the bottom whatever the position. */
export function addMessages(incoming, { ownSend = false } = {}) {
  const known = new Set(loadedSeqs());
  const fresh = incoming.filter((message) => !known.has(message.seq));
  if (!fresh.length) return;
  fresh.sort((a, b) => a.seq - b.seq);
  const wasEmpty = messages.length === 0;
  const stick = wasEmpty || ownSend || nearBottom();
  const appending = wasEmpty || fresh[0].seq > messages[messages.length - 1].seq;
  if (appending) {
    for (const message of fresh) {
      list().append(...itemsFor(message, messages[messages.length - 1]));
      messages.push(message);
    }
  } else {
    messages = [...messages, ...fresh].sort((a, b) => a.seq - b.seq);
    rerender();
  }
  $("older").hidden = !hasOlder();
  if (stick) scrollToBottom();
  else if (appending) $("jump").hidden = false;
}

/** An edit or delete of a message on screen (one not loaded yet comes from history as it is). */
export function changeMessage(seq, patch) {
  const index = messages.findIndex((message) => message.seq === seq);
  if (index < 0) return;
  messages[index] = { ...messages[index], ...patch };
  changedElsewhere(seq, { deleted: Boolean(patch.deleted) });
  rerender();
}

/** Draw every message again, keeping the scroll position and an editor's focus. */
export function rerender() {
  const fromBottom = list().scrollHeight - list().scrollTop;
  const editingHere = document.activeElement?.classList.contains("edit-box");
  const items = [];
  messages.forEach((message, index) => items.push(...itemsFor(message, messages[index - 1])));
  list().replaceChildren(...items);
  list().scrollTop = list().scrollHeight - fromBottom;
  if (editingHere) focusEditor();
}

export const atBottom = () => nearBottom();

function nearBottom() {
  const box = list();
  return box.scrollHeight - box.scrollTop - box.clientHeight < NEAR_BOTTOM_PX;
}

export function scrollToBottom() {
  list().scrollTop = list().scrollHeight;
  $("jump").hidden = true;
}

/** `bottom()` runs whenever the list is scrolled to its end. */
export function watchScrolling({ bottom }) {
  list().addEventListener("scroll", () => {
    if (!nearBottom()) return;
    $("jump").hidden = true;
    bottom();
  });
  $("jump").addEventListener("click", scrollToBottom);
}

// ---- one message ---------------------------------------------------------------------------

const dayKey = (date) => date.toDateString();

function dayLabel(date) {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(date) === dayKey(today)) return "Today";
  if (dayKey(date) === dayKey(yesterday)) return "Yesterday";
  return date.toLocaleDateString(undefined, { weekday: "long", month: "long", day: "numeric" });
}

const clock = (date) => date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });

function continues(message, previous) {
  return (
    previous &&
    message.kind === "user" &&
    previous.kind === "user" &&
    previous.author.id === message.author.id &&
    new Date(message.created_at) - new Date(previous.created_at) < GROUP_WITHIN_MS
  );
}

function itemsFor(message, previous) {
  const date = new Date(message.created_at);
  const items = [];
  if (!previous || dayKey(new Date(previous.created_at)) !== dayKey(date)) {
    items.push(el("li", { className: "day", text: dayLabel(date), attrs: { role: "separator" } }));
    previous = null;
  }
  items.push(messageItem(message, date, continues(message, previous)));
  return items;
}

function messageItem(message, date, continued) {
  const time = el("time", { text: clock(date), attrs: { datetime: message.created_at } });
  time.title = date.toLocaleString();
  const item = el("li", { className: "msg", attrs: { "data-seq": message.seq } });
  item.classList.toggle("deleted", Boolean(message.deleted));
  if (message.kind === "system") {
    item.classList.add("system");
    item.append(el("div", { className: "body", text: message.body }), time);
    return item;
  }
  const own = state.user && message.author.id === state.user.id;
  item.classList.toggle("own", Boolean(own));
  item.classList.toggle("continued", Boolean(continued));
  item.dataset.author = message.author.username;
  if (!continued) {
    const author = el("span", { className: "author", text: message.author.username });
    item.append(el("div", { className: "meta" }, [author, time]));
  } else {
    item.append(time);
  }
  item.append(bodyOf(message), ...toolsOf(message));
  return item;
}
