// What the page does with each server frame of the live connection.
import { advancePosition, roomLabel, state } from "./state.js";
import { showError, showNotice } from "./notices.js";
import { membershipChanged, renderRooms } from "./rooms.js";
import { changed, openRoom, receive, renderHeader, roomLeft } from "./room_view.js";
import { loadMembers, presenceChanged } from "./members.js";
import { someoneTyping, stoppedTyping } from "./typing.js";
import { readElsewhere } from "./reading.js";

export function onFrame(frame, { refreshRooms }) {
  switch (frame.type) {
    case "ready":
      return ready(frame, refreshRooms);
    case "new_message":
      if (frame.message.author) stoppedTyping(frame.message.author.username);
      return receive(frame.message);
    case "system_message":
      systemMessage(frame.message);
      return receive(frame.message);
    case "message_edited":
    case "message_deleted":
      // An edit or a delete is a position of the room's stream of its own (seq), about the
      // message at target_seq.
      return changed(frame);
    case "join_room":
      if (frame.user.id !== state.user.id) return membersChanged(frame.room_id, +1);
      return joinedElsewhere(frame.room_id, refreshRooms);
    case "leave_room":
      if (frame.user.id !== state.user.id) return membersChanged(frame.room_id, -1);
      return removed(frame.room_id);
    case "presence":
      return presenceChanged(frame);
    case "typing":
      if (frame.room_id !== state.current || frame.user.id === state.user.id) return;
      return someoneTyping(frame.user.username);
    case "resync_required":
      // More was missed than a resume replays: read the room again if it is on screen.
      state.positions.delete(frame.room_id);
      if (frame.room_id === state.current) openRoom(frame.room_id).catch(() => {});
      return;
    case "error":
      // Not for the person: a resume naming a room left meanwhile (`ready` puts that right), a
      // typing notice or a read marker that raced a leave.
      if (!["auth", "typing", "read"].includes(frame.ref)) showError("chat-error", frame);
      return;
    case "read": // the user's read marker moved: its seq is not a position of the stream
      return readElsewhere(frame);
    case "ack": // of a frame sent without waiting for its reply (a read marker, typing)
      return;
    default:
      // A frame this page does not know yet is ignored, but when it is a position of a room's
      // stream it moves the resume position past it, if it is the next one: a resume then
      // neither replays it nor skips a message before it.
      if (Number.isInteger(frame.room_id) && Number.isInteger(frame.seq)) {
        advancePosition(frame.room_id, frame.seq);
      }
  }
}

// A kick or a ban posts "<username> was kicked" / "… was banned" (docs/API.md) just before
// its `leave_room`: the page tells the person which it was.
const removals = new Map(); // room id -> "kicked" | "banned", for the user's own removal

/** A role change, kick or ban in the open room changes its member list (system messages). */
function systemMessage(message) {
  const removal = /^(\S+) was (kicked|banned)$/.exec(message.body);
  if (removal && removal[1] === state.user.username) {
    removals.set(message.room_id, removal[2]);
    return; // the list is not the user's to read any more
  }
  if (/^\S+ (joined|left)$/.test(message.body)) return; // join_room / leave_room read the list
  const room = state.rooms.get(message.room_id);
  if (message.room_id === state.current && room && room.joined) {
    loadMembers(message.room_id).catch(() => {});
  }
}

/** The user's own `leave_room`: left in another tab, or kicked or banned (said quietly). */
function removed(roomId) {
  const how = removals.get(roomId);
  removals.delete(roomId);
  const room = state.rooms.get(roomId);
  if (!room || !room.joined) return;
  roomLeft(roomId);
  const what = how === "banned" ? "banned" : "removed";
  if (how) showNotice(`You were ${what} from ${roomLabel(room)}.`);
}

/** The rooms of `ready` are the truth: joins and leaves made while the socket was down. */
function ready(frame, refreshRooms) {
  const member = new Set(frame.rooms);
  for (const roomId of [...state.positions.keys()]) {
    if (!member.has(roomId)) state.positions.delete(roomId);
  }
  for (const [roomId, room] of state.rooms) {
    if (room.joined && !member.has(roomId)) roomLeft(roomId);
    else if (!room.joined && member.has(roomId)) joinedElsewhere(roomId, refreshRooms);
  }
  refreshRooms(); // and rooms made by others meanwhile
  // Presence changed while the socket was down went unheard: read the open room's list again.
  const room = state.rooms.get(state.current);
  if (room && room.joined) loadMembers(state.current).catch(() => {});
}

async function joinedElsewhere(roomId, refreshRooms) {
  membershipChanged();
  const room = state.rooms.get(roomId);
  if (room && room.joined) return;
  if (room) room.joined = true;
  else await refreshRooms();
  if (roomId === state.current) openRoom(roomId).catch(() => {});
  else renderRooms();
}

function membersChanged(roomId, delta) {
  const room = state.rooms.get(roomId);
  if (!room) return;
  room.member_count = Math.max(0, room.member_count + delta);
  if (roomId !== state.current) return;
  renderHeader();
  if (room.joined) loadMembers(roomId).catch(() => {});
}
