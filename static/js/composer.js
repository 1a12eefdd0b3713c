// The message box: Enter sends, Shift+Enter breaks the line, a counter near the limit. The text
// stays until the server has stored it: a refused message keeps its draft.
import { api } from "./api.js";
import { $, charCount, newClientId, showCount } from "./dom.js";
import { state } from "./state.js";
import { clearError, showError } from "./notices.js";

export const BODY_LIMIT = 4000;
const COUNT_FROM = BODY_LIMIT - 500;
const TYPING_EVERY_MS = 2500; // the server passes one per 2 s: a margin for the network

let live = null;
let sending = false;
let lastTypingSent = 0;
let onSent = () => {};

const box = () => $("body");

export function initComposer(connection, { sent }) {
  live = connection;
  onSent = sent;
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  box().addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    event.preventDefault();
    submit();
  });
  box().addEventListener("input", () => {
    if (state.current) state.drafts.set(state.current, box().value);
    updateCounter();
    announceTyping();
  });
}

/** Show the box for the open room when it can be used there, with that room's draft. */
export function showComposer() {
  const room = state.rooms.get(state.current);
  $("composer").hidden = !room || !room.joined;
  box().value = (room && state.drafts.get(room.id)) || "";
  updateCounter();
}

export function focusComposer() {
  if (!$("composer").hidden) box().focus();
}

export function updateCounter() {
  const count = charCount(box().value);
  const over = showCount($("body-counter"), count, BODY_LIMIT, COUNT_FROM);
  $("send").disabled = sending || count === 0 || over;
}

async function submit() {
  const body = box().value;
  const count = charCount(body);
  if (sending || count === 0 || count > BODY_LIMIT || !state.current) return;
  const roomId = state.current;
  const epoch = state.epoch;
  sending = true;
  updateCounter();
  try {
    const message = await deliver(roomId, body, newClientId());
    if (state.epoch !== epoch) return;
    if (state.drafts.get(roomId) === body) state.drafts.delete(roomId);
    if (state.current === roomId && box().value === body) box().value = "";
    clearError("chat-error");
    onSent(message);
  } catch (error) {
    if (state.epoch === epoch) showError("chat-error", error);
  } finally {
    sending = false;
    updateCounter();
    focusComposer();
  }
}

/** Over the socket; over REST when it is down (the same client_id: never stored twice). */
async function deliver(roomId, body, clientId) {
  const frame = { type: "send_message", room_id: roomId, body, client_id: clientId };
  try {
    return (await live.request(frame)).message;
  } catch (error) {
    if (error.code !== "not_connected") throw error;
  }
  const path = `/api/rooms/${roomId}/messages`;
  return api("POST", path, { body, client_id: clientId });
}

// Others see "… is typing" from a `typing` frame: one every 2.5 s at most while the box has text
// (the server drops extra ones), the last one sent when the throttle allows.
let typingTimer = null;

function announceTyping() {
  if (typingTimer || !state.current || !box().value.trim()) return;
  const wait = lastTypingSent + TYPING_EVERY_MS - Date.now();
  if (wait > 0) {
    typingTimer = setTimeout(() => {
      typingTimer = null;
      announceTyping();
    }, wait);
    return;
  }
  const frame = { type: "typing", room_id: state.current, ref: "typing" };
  if (live.send(frame)) lastTypingSent = Date.now();
}
