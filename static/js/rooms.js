// The sidebar: the user's rooms (unread counts, the open one marked), the others to join, and
// the form that creates a room. The list is read again every few seconds while the tab is
// visible, on reconnect and when the tab comes back, so that rooms made by others show up.
import { api } from "./api.js";
import { $, charCount, el, showCount } from "./dom.js";
import { state, stillSignedIn } from "./state.js";

export const NAME_LIMIT = 100;
const COUNT_NAME_FROM = NAME_LIMIT - 20;
export const ROOM_LIST_EVERY_MS = 10000;

let onOpen = () => {};
let poller = null;
let membershipVersion = 0; // a list read across a join or leave of this tab is read again

export function initRooms({ open }) {
  onOpen = open;
  $("new-room-name").addEventListener("input", updateNameCounter);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && state.user) refreshRooms();
  });
}

export function membershipChanged() {
  membershipVersion += 1;
}

export async function loadRooms() {
  const [epoch, version] = [state.epoch, membershipVersion];
  const { rooms } = await api("GET", "/api/rooms?limit=200");
  if (!stillSignedIn(epoch)) return;
  if (version !== membershipVersion) return loadRooms();
  const previous = state.rooms;
  state.rooms = new Map(rooms.map((room) => [room.id, room]));
  // Beyond the newest 200: keep what this tab already knew of its own rooms.
  for (const [id, room] of previous) {
    if (!state.rooms.has(id) && room.joined) state.rooms.set(id, room);
  }
  renderRooms();
}

/** loadRooms for the background: a failure is not the user's business (the next one retries). */
export function refreshRooms() {
  return loadRooms().catch(() => {});
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
  const mine = rooms.filter((room) => room.joined);
  const others = rooms.filter((room) => !room.joined);
  $("my-rooms").replaceChildren(...mine.map(roomItem));
  $("other-rooms").replaceChildren(...others.map(roomItem));
  $("no-rooms").hidden = mine.length > 0;
  $("other-rooms-title").hidden = others.length === 0;
}

function roomItem(room) {
  const attrs = { type: "button", "data-room-id": room.id };
  const button = el("button", { className: "room", attrs }, [
    el("span", { className: "name", text: room.name }),
  ]);
  button.title = room.name;
  const unread = state.unread.get(room.id) || 0;
  if (unread) {
    const label = unread === 1 ? "1 unread message" : `${unread} unread messages`;
    const badge = el("span", { className: "unread", text: String(unread) });
    badge.setAttribute("aria-label", label);
    button.append(badge);
  }
  if (room.id === state.current) button.setAttribute("aria-current", "true");
  button.addEventListener("click", () => onOpen(room.id));
  return el("li", {}, [button]);
}

export async function createRoom() {
  const input = $("new-room-name");
  const room = await api("POST", "/api/rooms", { name: input.value });
  input.value = "";
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
