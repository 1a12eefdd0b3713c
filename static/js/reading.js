// Read markers: when the open room's newest message is on screen (the list scrolled to its end,
// the tab visible), the page moves the user's marker there with a `read {room_id, seq}` frame
// (REST when the socket is down). The server tells every connection of the user (`read`), so
// the unread badge clears in the user's other tabs and devices too, and `GET /api/me/rooms`
// counts what is unread after a reload.
import { api } from "./api.js";
import { state } from "./state.js";
import { atBottom } from "./timeline.js";
import { renderRooms, refreshRooms } from "./rooms.js";

let live = null;

export function initReading(connection) {
  live = connection;
  document.addEventListener("visibilitychange", markRead);
}

/** Move the marker of the open room to its newest position, if it is on screen and unread. */
export function markRead() {
  const roomId = state.current;
  const room = state.rooms.get(roomId);
  if (!room || !room.joined || document.visibilityState !== "visible" || !atBottom()) return;
  const seq = state.positions.get(roomId) ?? 0;
  if (seq <= (state.readSeq.get(roomId) ?? 0)) return;
  state.readSeq.set(roomId, seq);
  clearUnread(roomId);
  if (live.send({ type: "read", room_id: roomId, seq, ref: "read" })) return;
  api("POST", `/api/rooms/${roomId}/read`, { seq }).catch(() => {
    state.readSeq.delete(roomId); // tried again on the next message or scroll
  });
}

/** `read {room_id, seq}`: the marker moved (here, in another tab, on another device). */
export function readElsewhere({ room_id: roomId, seq }) {
  state.readSeq.set(roomId, Math.max(state.readSeq.get(roomId) ?? 0, seq));
  if (!state.unread.get(roomId)) return;
  // Everything this tab has seen of the room is read: no badge. Else the server counts.
  if (seq >= (state.positions.get(roomId) ?? Infinity)) clearUnread(roomId);
  else refreshRooms();
}

function clearUnread(roomId) {
  if (!state.unread.has(roomId)) return;
  state.unread.delete(roomId);
  renderRooms();
}
