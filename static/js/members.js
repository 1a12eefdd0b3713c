// The open room's members in its header: a button with the counts ("3 members", "● 2 online")
// that opens the list, one line each with an online dot and the role when it is not "member".
// Kept live by `presence` frames; joins, leaves and system messages (role changes, kicks, bans)
// read the list again. Each other member has a menu: "Message" (their DM), and for the owner
// and moderators the moderation they may do on that member; a ban asks to be confirmed.
import { api } from "./api.js";
import { $, el } from "./dom.js";
import { state, stillSignedIn } from "./state.js";

const RANK = { member: 0, moderator: 1, owner: 2 };

let shownRoom = null; // the room whose members are on screen
let members = []; // [{user, role, joined_at, online}] of `shownRoom`, in joining order
let loads = 0; // member lists on their way from the server
let asked = 0; // the latest list asked for: an older answer arriving later is dropped
const heard = new Map(); // user id -> online, from presence frames that came while loads > 0
let menu = { userId: null, confirm: false }; // whose actions are unfolded; a ban to confirm
let onAction = () => {};
let onRoleChanged = () => {};

export async function loadMembers(roomId) {
  const [epoch, mine] = [state.epoch, ++asked];
  if (loads++ === 0) heard.clear();
  let answer;
  try {
    answer = await api("GET", `/api/rooms/${roomId}/members`);
  } finally {
    loads -= 1;
  }
  if (!stillSignedIn(epoch) || state.current !== roomId || mine !== asked) return;
  // A presence frame that came while the list was on its way may be newer than the list.
  members = answer.members.map((member) =>
    heard.has(member.user.id) ? { ...member, online: heard.get(member.user.id) } : member,
  );
  if (shownRoom !== roomId) menu = { userId: null, confirm: false };
  const roleBefore = myRole();
  shownRoom = roomId;
  const room = state.rooms.get(roomId);
  if (room) room.member_count = members.length;
  renderMembers();
  if (myRole() !== roleBefore) onRoleChanged();
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

/** The signed-in user's role in the open room ("member" until the list says otherwise). */
export function myRole() {
  if (shownRoom !== state.current || !state.user) return "member";
  const me = members.find((member) => member.user.id === state.user.id);
  return me ? me.role : "member";
}

/** The members of the open room as last read (for the invitation form's suggestions). */
export const shownMembers = () => (shownRoom === state.current ? members : []);

/** The toggle's counts and the list, for the open room (empty when it is not joined). */
export function renderMembers() {
  const room = state.rooms.get(state.current);
  const joined = Boolean(room && room.joined);
  const list = joined && shownRoom === state.current ? members : [];
  const toggle = $("members-toggle");
  toggle.hidden = !joined;
  if (!joined) showMembers(false);
  $("member-list").replaceChildren(...list.map((member) => memberItem(member, room)));
  const moderator = RANK[myRole()] >= RANK.moderator;
  $("invite").hidden = !joined || room.kind === "dm" || !moderator;
  if (!room) return;
  const total = room.member_count;
  const online = list.filter((member) => member.online).length;
  const label = `${total} member${total === 1 ? "" : "s"}`;
  const counts = [el("span", { className: "members-count", text: label })];
  if (list.length) counts.push(el("span", { className: "online-count", text: `${online} online` }));
  toggle.replaceChildren(...counts);
  toggle.setAttribute("aria-label", list.length ? `${label}, ${online} online` : label);
}

function memberItem(member, room) {
  const status = member.online ? "online" : "offline";
  const dot = el("span", { className: "dot", attrs: { role: "img", "aria-label": status } });
  dot.title = status;
  const attrs = { "data-user-id": member.user.id, "data-online": member.online };
  const name = el("span", { className: "name", text: member.user.username });
  name.title = member.user.username;
  const item = el("li", { attrs }, [dot, name]);
  if (member.role !== "member") item.append(el("span", { className: "role", text: member.role }));
  const actions = room.kind === "dm" ? [] : actionsOn(member);
  if (!actions.length) return item;
  const open = menu.userId === member.user.id;
  const more = button("…", "more", `Actions for ${member.user.username}`, "more");
  more.setAttribute("aria-expanded", String(open));
  more.addEventListener("click", () => {
    menu = { userId: open ? null : member.user.id, confirm: false };
    renderMembers();
  });
  item.append(more);
  if (open) item.append(menuFor(member, actions));
  return item;
}

/** What the signed-in user may do to `member`: [[action, label]…]. */
function actionsOn(member) {
  if (!state.user || member.user.id === state.user.id) return [];
  const actions = [["message", "Message"]];
  const [mine, theirs] = [RANK[myRole()], RANK[member.role]];
  if (mine === RANK.owner && member.role === "member") actions.push(["promote", "Make moderator"]);
  if (mine === RANK.owner && member.role === "moderator") actions.push(["demote", "Make member"]);
  if (mine >= RANK.moderator && mine > theirs) {
    actions.push(["kick", "Kick"], ["ban", "Ban…"]);
  }
  return actions;
}

function menuFor(member, actions) {
  const box = el("div", { className: "member-menu" });
  if (menu.confirm) {
    const name = member.user.username;
    const question = `Ban ${name} from this room? They cannot come back until unbanned.`;
    const yes = button("Ban", "confirm-ban", null, "danger");
    const no = button("Cancel", "cancel");
    yes.addEventListener("click", () => act("ban", member));
    no.addEventListener("click", () => {
      menu = { userId: member.user.id, confirm: false };
      renderMembers();
    });
    box.append(el("p", { className: "question", text: question }), yes, no);
    return box;
  }
  for (const [action, label] of actions) {
    const item = button(label, action, null, action === "ban" || action === "kick" ? "danger" : "");
    item.addEventListener("click", () => {
      if (action !== "ban") return act(action, member);
      menu = { userId: member.user.id, confirm: true };
      renderMembers();
    });
    box.append(item);
  }
  return box;
}

function button(text, action, label = null, className = "") {
  const node = el("button", { className, text, attrs: { type: "button", "data-action": action } });
  if (label) node.setAttribute("aria-label", label);
  return node;
}

function act(action, member) {
  menu = { userId: null, confirm: false };
  renderMembers();
  onAction(action, member);
}

export function showMembers(open) {
  $("members").hidden = !open;
  $("members-toggle").setAttribute("aria-expanded", String(open));
  if (!open && menu.userId !== null) {
    menu = { userId: null, confirm: false };
    renderMembers();
  }
}

/**
 * act(action, member) carries out a menu's choice; roleChanged() runs when the user's own role
 * in the open room is read different (what they may do to messages changes). The list folds
 * away on Escape and on a click anywhere else (the path of the click is read as it was: a
 * menu's button is gone from the page once the list is drawn again).
 */
export function initMembers({ act: given, roleChanged }) {
  onAction = given;
  onRoleChanged = roleChanged;
  $("members-toggle").addEventListener("click", () => showMembers($("members").hidden));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("members").hidden) showMembers(false);
  });
  document.addEventListener("click", (event) => {
    if ($("members").hidden) return;
    const path = event.composedPath();
    if (!path.some((node) => ["members", "members-toggle"].includes(node.id))) showMembers(false);
  });
}

export function forgetMembers() {
  shownRoom = null;
  members = [];
  menu = { userId: null, confirm: false };
  heard.clear();
  renderMembers();
}
