// What a member menu's choices do (over REST), and the invitation form of the member list.
// There is no user search: the form suggests, and takes, the people the user shares a room or
// a DM with (read from those rooms' member lists when the form is first used).
import { api, ApiError } from "./api.js";
import { $, el } from "./dom.js";
import { state, stillSignedIn } from "./state.js";
import { membershipChanged } from "./rooms.js";
import { openRoom } from "./room_view.js";
import { loadMembers, showMembers, shownMembers } from "./members.js";
import { showNotice } from "./notices.js";

const KNOWN_FROM_ROOMS = 30; // member lists read at most, for the suggestions

/**
 * Carry out `action` of a member menu on `member` of the open room. Whatever the answer, the
 * list is read again: a refusal often means it was out of date (the person left meanwhile).
 */
export async function memberAction(action, member) {
  if (action === "message") return openDm(member.user);
  const roomId = state.current;
  try {
    await moderate(action, roomId, member.user);
  } finally {
    if (state.current === roomId) loadMembers(roomId).catch(() => {});
  }
}

async function moderate(action, roomId, user) {
  const path = `/api/rooms/${roomId}`;
  const name = user.username;
  if (action === "promote" || action === "demote") {
    const role = action === "promote" ? "moderator" : "member";
    await api("POST", `${path}/members/${user.id}/role`, { role });
    showNotice(role === "moderator" ? `${name} is now a moderator.` : `${name} is now a member.`);
  } else if (action === "kick") {
    await api("POST", `${path}/kick`, { user_id: user.id });
    showNotice(`${name} was removed from the room.`);
  } else if (action === "ban") {
    await api("POST", `${path}/bans`, { user_id: user.id });
    showNotice(`${name} was banned from the room.`);
  }
}

/** The DM with `user` (made on first use, by either of the two) opens. */
export async function openDm(user) {
  const room = await api("POST", "/api/dms", { user_id: user.id });
  membershipChanged();
  const known = state.rooms.get(room.id);
  state.rooms.set(room.id, { ...known, ...room, joined: true });
  showMembers(false);
  await openRoom(room.id);
}

// ---- invitations ---------------------------------------------------------------------------

let known = new Map(); // lower-case username -> user, of the rooms read for suggestions
let knownEpoch = -1;

export function initInvite({ guarded }) {
  const input = $("invite-name");
  input.addEventListener("focus", () => suggest().catch(() => {}));
  $("invite").addEventListener("submit", (event) => {
    event.preventDefault();
    guarded("chat-error", invite);
  });
}

async function invite() {
  const roomId = state.current;
  const name = $("invite-name").value.trim();
  if (!name) return;
  await suggest();
  const user = known.get(name.toLowerCase());
  if (!user) {
    throw new ApiError("unknown person", { code: "not_known_here" });
  }
  await api("POST", `/api/rooms/${roomId}/invitations`, { user_id: user.id });
  $("invite-name").value = "";
  showNotice(`${user.username} is invited: they will find it under Invitations.`);
}

/** The people of the user's rooms and DMs, offered as the form's suggestions. */
async function suggest() {
  const epoch = state.epoch;
  if (knownEpoch !== epoch) {
    knownEpoch = epoch;
    known = new Map();
  }
  const rooms = [...state.rooms.values()].filter((room) => room.joined).slice(0, KNOWN_FROM_ROOMS);
  const lists = await Promise.all(
    rooms.map((room) => api("GET", `/api/rooms/${room.id}/members`).catch(() => ({ members: [] }))),
  );
  if (!stillSignedIn(epoch)) return;
  for (const { members } of lists) {
    for (const { user } of members) known.set(user.username.toLowerCase(), user);
  }
  known.delete(state.user.username.toLowerCase());
  const here = new Set(shownMembers().map((member) => member.user.id));
  const options = [...known.values()]
    .filter((user) => !here.has(user.id))
    .sort((a, b) => a.username.localeCompare(b.username))
    .map((user) => el("option", { attrs: { value: user.username } }));
  $("known-people").replaceChildren(...options);
}
