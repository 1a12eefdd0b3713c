// The sidebar: the user's rooms and DMs (unread counts, the open one marked), pending
// invitations, the others to join, and the form that creates a room. The lists are read again
// every few seconds while the tab is visible, on reconnect and when the tab comes back, so that
// rooms made by others and invitations show up.
import { api } from "./api.js";
import { $, charCount, el, showCount } from "./dom.js";
import { roomLabel, state, stillSignedIn } from "./state.js";

export const NAME_LIMIT = 100;
const COUNT_NAME_FROM = NAME_LIMIT - 20;
export const ROOM_LIST_EVERY_MS = 10000;

let handlers = { open: () => {}, accept: () => {}, decline: () => {} };
let poller = null;
let membershipVersion = 0; // a list read across a join or leave of this tab is read again

/** open(roomId); accept(invitation) and decline(invitation) for the invitations. */
export function initRooms(given) {
  handlers = given;
  $("new-room-name").addEventListener("input", updateNameCounter);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && state.user) refreshRooms();
  });
}

export function membershipChanged() {
  membershipVersion += 1;
}

/**
 * The user's rooms and DMs with their unread counts (GET /api/me/rooms), the rooms to see and
 * join (GET /api/rooms) and the pending invitations, read together.
 */
export async function loadRooms() {
  const [epoch, version] = [state.epoch, membershipVersion];
  const [listed, mine, { invitations }] = await Promise.all([
    api("GET", "/api/rooms?limit=200"),
    api("GET", "/api/me/rooms"),
    api("GET", "/api/me/invitations"),
  ]);
  if (!stillSignedIn(epoch)) return;
  if (version !== membershipVersion) return loadRooms();
  state.rooms = new Map(listed.rooms.map((room) => [room.id, { ...room, joined: false }]));
  for (const room of mine.rooms) {
    const { unread, last_read_seq: lastRead, ...shape } = room;
    state.rooms.set(room.id, { ...shape, joined: true });
    const readHere = state.readSeq.get(room.id) ?? 0;
    state.readSeq.set(room.id, Math.max(readHere, lastRead));
    // A count made before this tab's latest read reached the server: the tab's own stands.
    if (readHere > lastRead) continue;
    // The open room is being read: its count is not shown (reading clears it on the server).
    if (unread > 0 && room.id !== state.current) state.unread.set(room.id, unread);
    else state.unread.delete(room.id);
  }
  state.invitations = invitations;
  renderRooms();
}

let refreshing = null; // the background read on its way
let again = false; // asked for while one was on its way: one more read after it

/**
 * loadRooms for the background: a failure is not the user's business (the next one retries).
 * Asks made while one read is on its way (a burst of messages of a new DM) make one more read.
 */
export function refreshRooms() {
  if (!state.user) return Promise.resolve(); // signed out meanwhile
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = loadRooms()
    .catch(() => {})
    .finally(() => {
      refreshing = null;
      if (again) {
        again = false;
        refreshRooms();
      }
    });
  return refreshing;
}

export function pollRooms(on) {
  clearInterval(poller);
  poller = null;
  if (!on) return;
  poller = setInterval(() => {
    if (document.visibilityState === "visible") refreshRooms();
  }, ROOM_LIST_EVERY_MS);
}

export function renderRooms() {
  const rooms = [...state.rooms.values()];
  const mine = rooms.filter((room) => room.joined && room.kind !== "dm");
  const dms = rooms.filter((room) => room.joined && room.kind === "dm");
  // A room the user is invited to shows under Invitations, not twice.
  const invited = new Set(state.invitations.map((invitation) => invitation.room.id));
  const others = rooms.filter(
    (room) => !room.joined && room.kind !== "dm" && !invited.has(room.id),
  );
  dms.sort((a, b) => roomLabel(a).localeCompare(roomLabel(b)));
  $("my-rooms").replaceChildren(...mine.map(roomItem));
  $("dm-rooms").replaceChildren(...dms.map(roomItem));
  $("other-rooms").replaceChildren(...others.map(roomItem));
  $("invitations").replaceChildren(...state.invitations.map(invitationItem));
  $("no-rooms").hidden = mine.length > 0;
  $("no-dms").hidden = dms.length > 0;
  $("other-rooms-title").hidden = others.length === 0;
  $("invitations-title").hidden = state.invitations.length === 0;
}

function roomItem(room) {
  const label = roomLabel(room);
  const attrs = { type: "button", "data-room-id": room.id };
  const kind = room.kind === "dm" ? "room dm" : "room";
  const button = el("button", { className: kind, attrs }, [
    el("span", { className: "name", text: label }),
  ]);
  button.title = label;
  if (room.private && room.kind !== "dm") {
    button.append(el("span", { className: "tag", text: "private" }));
  }
  const unread = state.unread.get(room.id) || 0;
  if (unread) {
    const words = unread === 1 ? "1 unread message" : `${unread} unread messages`;
    const badge = el("span", { className: "unread", text: String(unread) });
    badge.setAttribute("aria-label", words);
    button.append(badge);
  }
  if (room.id === state.current) button.setAttribute("aria-current", "true");
  button.addEventListener("click", () => handlers.open(room.id));
  return el("li", {}, [button]);
}

function invitationItem(invitation) {
  const { room, invited_by: by } = invitation;
  const join = el("button", { className: "primary", text: "Join", attrs: { type: "button" } });
  const decline = el("button", { text: "Decline", attrs: { type: "button" } });
  join.setAttribute("aria-label", `Join ${room.name}`);
  decline.setAttribute("aria-label", `Decline the invitation to ${room.name}`);
  join.addEventListener("click", () => handlers.accept(invitation));
  decline.addEventListener("click", () => handlers.decline(invitation));
  const name = el("span", { className: "name", text: room.name });
  name.title = room.name;
  const from = el("span", { className: "from", text: `from ${by.username}` });
  return el("li", { className: "invitation", attrs: { "data-room-id": room.id } }, [
    el("div", { className: "what" }, [name, from]),
    el("div", { className: "row" }, [join, decline]),
  ]);
}

export async function createRoom() {
  const input = $("new-room-name");
  const privately = $("new-room-private");
  const room = await api("POST", "/api/rooms", { name: input.value, private: privately.checked });
  input.value = "";
  privately.checked = false;
  updateNameCounter();
  state.rooms.set(room.id, { ...room, joined: true });
  state.positions.set(room.id, 0); // a new room has no message yet
  return room;
}

export function updateNameCounter() {
  const count = charCount($("new-room-name").value);
  const over = showCount($("room-name-counter"), count, NAME_LIMIT, COUNT_NAME_FROM);
  $("new-room").querySelector("button").disabled = count === 0 || over;
}
