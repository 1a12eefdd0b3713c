// Errors in words that clear themselves, and the quiet connection state in the header.
import { $ } from "./dom.js";

const CLEAR_AFTER_MS = 8000;
const NOTICE_MS = 12000;
const timers = new Map();

const WORDS = {
  network: "Can't reach the server. Check your connection and try again.",
  unavailable: "The server is having trouble right now. Try again in a moment.",
  invalid_credentials: "Wrong username or password.",
  username_taken: "That username is taken. Try another one.",
  session_ended: "Your session has ended. Please sign in again.",
  not_a_member: "You are not a member of this room.",
  room_not_found: "This room does not exist any more.",
  empty_body: "Write something first.",
  body_too_long: "That message is longer than 4000 characters.",
  invalid_room_name: "A room name needs 1 to 100 characters.",
  bad_text: "That text contains characters that cannot be stored.",
  not_connected: "Not connected. Your text is kept; try again in a moment.",
  banned: "You are banned from this room.",
  not_a_moderator: "Only the room's owner and moderators may do that.",
  not_the_owner: "Only the room's owner may change roles.",
  outranked: "You cannot do that to someone of your rank or above.",
  cannot_moderate_self: "You cannot do that to yourself.",
  direct_message_room: "A direct message has no moderation and cannot be left.",
  member_not_found: "That person is no longer in this room.",
  user_not_found: "That person does not exist any more.",
  already_a_member: "That person is already in this room.",
  user_banned: "That person is banned from this room: unban them first.",
  invitation_not_found: "That invitation is gone.",
  dm_with_self: "A direct message needs someone else.",
  not_your_message: "That is someone else's message.",
  system_message_immutable: "A notice of the room cannot be changed.",
  edit_window_closed: "That message is too old to edit now.",
  message_deleted: "That message has been deleted.",
  message_not_found: "That message is not there any more.",
  not_known_here:
    "Invite someone you share a room or a direct message with (pick from the suggestions): " +
    "there is no user search.",
};

export function inWords(error) {
  if (error.code === "rate_limited") {
    const wait = error.retryAfter ? `${error.retryAfter} s` : "a moment";
    return `You are sending too fast. Your text is kept; try again in ${wait}.`;
  }
  const words = WORDS[error.code];
  if (words) return words;
  const text = String(error.message || "Something went wrong.");
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}

/** Show `error` in words at `where`; it clears itself after a while unless `keep` is set. */
export function showError(where, error, { keep = false } = {}) {
  const target = $(where);
  target.textContent = inWords(error);
  clearTimeout(timers.get(where));
  if (!keep) timers.set(where, setTimeout(() => clearError(where), CLEAR_AFTER_MS));
}

/** A quiet line of information (not an error) under the messages; it clears itself. */
export function showNotice(text) {
  const target = $("chat-notice");
  target.textContent = text;
  clearTimeout(timers.get("chat-notice"));
  timers.set("chat-notice", setTimeout(() => clearError("chat-notice"), NOTICE_MS));
}

export function clearError(where) {
  clearTimeout(timers.get(where));
  timers.delete(where);
  $(where).textContent = "";
}

const STATUS_TEXT = {
  connecting: "connecting…",
  connected: "connected",
  reconnecting: "reconnecting…",
  offline: "offline",
};

export function showStatus(name) {
  const status = $("status");
  status.dataset.state = name;
  status.textContent = STATUS_TEXT[name];
}
