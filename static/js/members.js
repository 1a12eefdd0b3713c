// The open room's members in its header: a button with the counts ("3 members", "● 2 online")
// that opens the list, one line each with an online dot and the role when it is not "member".
// Kept live by `presence` frames; joins and leaves read the list again.
import { api } from "./api.js";
import { $, el } from "./dom.js";
import { state, stillSignedIn } from "./state.js";

let shownRoom = null; // the room whose members are on screen
let members = []; // [{user, role, joined_at, online}] of `shownRoom`, in joining order
let loads = 0; // member lists on their way from the server
const heard = new Map(); // user id -> online, from presence frames that came while loads > 0

export async function loadMembers(roomId) {
  const epoch = state.epoch;
  if (loads++ === 0) heard.clear();
  let answer;
  try {
    answer = await api("GET", `/api/rooms/${roomId}/members`);
  } finally {
    loads -= 1;
  }
  if (!stillSignedIn(epoch) || state.current !== roomId) return;
  // A presence frame that came while the list was on its way may be newer than the list.
  members = answer.members.map((member) =>
    heard.has(member.user.id) ? { ...member, online: heard.get(member.user.id) } : member,
  );
  shownRoom = roomId;
  const room = state.rooms.get(roomId);
  if (room) room.member_count = members.length;
  renderMembers();
}

/**
 * `presence {room_id, user, online}`: someone's first connection opened or last one closed.
 * Presence is the user's, whichever room the frame came through.
 */
export function presenceChanged({ user, online }) {
  if (loads > 0) heard.set(user.id, online);
  const member = members.find((one) => one.user.id === user.id);
  if (!member || member.online === online) return;
  member.online = online;
  renderMembers();
}

/** The toggle's counts and the list, for the open room (empty when it is not joined). */
export function renderMembers() {
  const room = state.rooms.get(state.current);
  const joined = Boolean(room && room.joined);
  const list = joined && shownRoom === state.current ? members : [];
  const toggle = $("members-toggle");
  toggle.hidden = !joined;
  if (!joined) showMembers(false);
  $("members").replaceChildren(...list.map(memberItem));
  if (!room) return;
  const total = room.member_count;
  const online = list.filter((member) => member.online).length;
  const label = `${total} member${total === 1 ? "" : "s"}`;
  const counts = [el("span", { className: "members-count", text: label })];
  if (list.length) counts.push(el("span", { className: "online-count", text: `${online} online` }));
  toggle.replaceChildren(...counts);
  toggle.setAttribute("aria-label", list.length ? `${label}, ${online} online` : label);
}

function memberItem(member) {
  const status = member.online ? "online" : "offline";
  const dot = el("span", { className: "dot", attrs: { role: "img", "aria-label": status } });
  dot.title = status;
  const attrs = { "data-user-id": member.user.id, "data-online": member.online };
  const name = el("span", { className: "name", text: member.user.username });
  name.title = member.user.username;
  const item = el("li", { attrs }, [dot, name]);
  if (member.role !== "member") item.append(el("span", { className: "role", text: member.role }));
  return item;
}

export function showMembers(open) {
  $("members").hidden = !open;
  $("members-toggle").setAttribute("aria-expanded", String(open));
}

/** The list folds away on Escape and on a click anywhere else. */
export function initMembers() {
  $("members-toggle").addEventListener("click", () => showMembers($("members").hidden));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("members").hidden) showMembers(false);
  });
  document.addEventListener("click", (event) => {
    if ($("members").hidden) return;
    if (!event.target.closest("#members, #members-toggle")) showMembers(false);
  });
}

export function forgetMembers() {
  shownRoom = null;
  members = [];
  heard.clear();
  renderMembers();
}
