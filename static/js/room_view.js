// The open room: header (name, topic, members), join and leave, its history and live messages.
// Live messages can arrive before, during or after a history page: the timeline orders them by
// seq, and any hole between what is shown is read from the server.
import { api } from "./api.js";
import { $ } from "./dom.js";
import { saved } from "./store.js";
import { forgetRoom, notePosition, roomLabel, state, stillSignedIn } from "./state.js";
import { addMessages, changeMessage, loadedSeqs, resetTimeline } from "./timeline.js";
import { membershipChanged, refreshRooms, renderRooms } from "./rooms.js";
import { showComposer } from "./composer.js";
import { clearTyping } from "./typing.js";
import { markRead } from "./reading.js";
import { loadMembers, renderMembers } from "./members.js";

const PAGE = 50;

export async function openRoom(roomId) {
  const room = state.rooms.get(roomId);
  if (!room) return;
  state.current = roomId;
  saved.setRoom(roomId);
  state.unread.delete(roomId);
  holesAsked.clear();
  notMessages.clear();
  document.body.classList.remove("rooms-open");
  $("rooms-toggle").setAttribute("aria-expanded", "false");
  resetTimeline();
  clearTyping();
  renderHeader();
  renderRooms();
  showComposer();
  if (room.joined) await Promise.all([loadPage(roomId, `limit=${PAGE}`), loadMembers(roomId)]);
}

export function closeRoom() {
  state.current = null;
  saved.setRoom(null);
  resetTimeline();
  clearTyping();
  renderHeader();
  showComposer();
}

export function renderHeader() {
  const room = state.rooms.get(state.current);
  const dm = Boolean(room && room.kind === "dm");
  $("room-title").textContent = room ? roomLabel(room) : "Pick a room";
  $("room-topic").textContent = !room ? "" : dm ? "Direct message" : room.topic;
  $("join").hidden = !room || room.joined;
  $("leave").hidden = !room || !room.joined || dm; // a DM cannot be left
  renderMembers();
  $("room-hint").textContent = !room
    ? "Choose a room from the list, or create one."
    : room.joined
      ? ""
      : "You are not in this room. Join it to read and write messages.";
}

/** A message of any of the user's rooms, from the socket or from this tab's own send. */
export function receive(message, { ownSend = false } = {}) {
  notePosition(message.room_id, message.seq);
  if (message.room_id === state.current) {
    addMessages([message], { ownSend });
    markRead();
    fillHoles(message.room_id);
  } else if (message.kind === "user" && message.author.id !== state.user.id) {
    const room = state.rooms.get(message.room_id);
    if (room && room.joined) {
      state.unread.set(message.room_id, (state.unread.get(message.room_id) || 0) + 1);
      renderRooms();
    } else if (!room) {
      refreshRooms(); // a room (a new DM) this tab has not read yet: the server counts it
    }
  }
}

/** A message_edited or message_deleted frame: the resume position moves past it. */
export function changed(frame) {
  notePosition(frame.room_id, frame.seq);
  if (frame.room_id !== state.current) return;
  notMessages.add(frame.seq);
  if (frame.type === "message_edited") {
    changeMessage(frame.target_seq, { body: frame.body, edited_at: frame.edited_at });
  } else {
    changeMessage(frame.target_seq, { body: null, deleted: true });
  }
}

async function loadPage(roomId, query) {
  const epoch = state.epoch;
  const { messages } = await api("GET", `/api/rooms/${roomId}/messages?${query}`);
  if (!stillSignedIn(epoch) || state.current !== roomId) return [];
  const room = state.rooms.get(roomId);
  if (room && room.joined && !state.positions.has(roomId)) state.positions.set(roomId, 0);
  for (const message of messages) notePosition(roomId, message.seq);
  // A page holds every message of its range: the seqs missing between two of them are edits
  // and deletes, not holes to read.
  for (let i = 1; i < messages.length; i++) {
    for (let seq = messages[i - 1].seq + 1; seq < messages[i].seq; seq++) notMessages.add(seq);
  }
  addMessages(messages);
  markRead();
  await fillHoles(roomId);
  return messages;
}

export async function loadOlder() {
  const [first] = loadedSeqs();
  if (!state.current || !(first > 1)) return;
  await loadPage(state.current, `limit=${PAGE}&before_seq=${first}`);
}

const holesAsked = new Set();
const notMessages = new Set(); // seqs of the open room known to be edits or deletes

function onlyChanges(after, before) {
  for (let seq = after + 1; seq < before; seq++) if (!notMessages.has(seq)) return false;
  return true;
}

async function fillHoles(roomId) {
  const seqs = loadedSeqs();
  for (let i = 1; i < seqs.length; i++) {
    const [after, before] = [seqs[i - 1], seqs[i]];
    const key = `${roomId}:${after}:${before}`;
    if (before - after > 1 && !holesAsked.has(key) && !onlyChanges(after, before)) {
      holesAsked.add(key);
      await loadPage(roomId, `after_seq=${after}&before_seq=${before}&limit=200`);
    }
  }
}

export async function joinCurrent() {
  const roomId = state.current;
  const room = await api("POST", `/api/rooms/${roomId}/join`);
  membershipChanged();
  state.rooms.set(roomId, { ...room, joined: true });
  if (state.current === roomId) await openRoom(roomId);
}

/** Join the room of a pending invitation (joining spends it) and open it. */
export async function acceptInvitation({ room }) {
  const joined = await api("POST", `/api/rooms/${room.id}/join`);
  membershipChanged();
  state.rooms.set(room.id, { ...joined, joined: true });
  dropInvitation(room.id);
  await openRoom(room.id);
}

export async function declineInvitation({ room, user }) {
  await api("DELETE", `/api/rooms/${room.id}/invitations/${user.id}`);
  dropInvitation(room.id);
  renderRooms();
}

function dropInvitation(roomId) {
  state.invitations = state.invitations.filter((invitation) => invitation.room.id !== roomId);
}

export async function leaveCurrent() {
  const roomId = state.current;
  await api("POST", `/api/rooms/${roomId}/leave`);
  roomLeft(roomId);
}

/**
 * The user left `roomId` here or elsewhere, or was kicked or banned: it is no longer resumed
 * nor counted. A private room is out of sight from then on.
 */
export function roomLeft(roomId) {
  membershipChanged();
  const room = state.rooms.get(roomId);
  if (room && room.joined) {
    room.joined = false;
    room.member_count = Math.max(0, room.member_count - 1);
  }
  forgetRoom(roomId);
  if (room && room.private) state.rooms.delete(roomId);
  if (state.current !== roomId) renderRooms();
  else if (state.rooms.has(roomId)) openRoom(roomId);
  else {
    closeRoom();
    renderRooms();
  }
}
