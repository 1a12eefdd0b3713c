// The signed-in user's state in this tab. Logging out resets every field (and bumps `epoch`,
// so that work started for the previous user is dropped when it completes).

function fresh(epoch) {
  return {
    epoch,
    user: null,
    rooms: new Map(),     // room id -> room, with `joined` (DMs have kind "dm")
    invitations: [],      // pending invitations to the user: [{room, user, invited_by, created_at}]
    positions: new Map(), // joined room id -> highest seq seen: what a reconnect resumes from
    unread: new Map(),    // room id -> unread messages from others (GET /api/me/rooms, then live)
    readSeq: new Map(),   // room id -> the user's read marker, as far as this tab knows
    drafts: new Map(),    // room id -> unsent text
    current: null,        // the room on screen
  };
}

export const state = fresh(0);

export function resetState() {
  Object.assign(state, fresh(state.epoch + 1));
}

/** A guard for async work: false once the user has changed since `epoch` was read. */
export function stillSignedIn(epoch) {
  return state.epoch === epoch && state.user !== null;
}

export function notePosition(roomId, seq) {
  const room = state.rooms.get(roomId);
  if (!room || !room.joined) return;
  state.positions.set(roomId, Math.max(state.positions.get(roomId) ?? 0, seq));
}

/** A stream position that is not a message: taken only when it is the next one after `seq - 1`. */
export function advancePosition(roomId, seq) {
  const room = state.rooms.get(roomId);
  if (room && room.joined && state.positions.get(roomId) === seq - 1) {
    state.positions.set(roomId, seq);
  }
}

export function forgetRoom(roomId) {
  state.positions.delete(roomId);
  state.unread.delete(roomId);
  state.readSeq.delete(roomId);
}

/** A DM is called by the other person's name ("alice & bob" for bob is "alice"). */
export function roomLabel(room) {
  if (room.kind !== "dm") return room.name;
  const names = room.name.split(" & ");
  const me = state.user ? state.user.username.toLowerCase() : "";
  return names.find((name) => name.toLowerCase() !== me) ?? room.name;
}
