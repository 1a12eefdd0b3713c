// The bundled chatd page: REST for accounts, rooms and history; one WebSocket for live events.
import {
  accessToken, api, refreshToken, refreshTokens, renewalTime, setTokens, whenSessionEnds,
} from "./api.js";
import { $ } from "./dom.js";
import { saved } from "./store.js";
import { resetState, state, stillSignedIn } from "./state.js";
import { LiveConnection } from "./live.js";
import { clearError, showError, showStatus } from "./notices.js";
import { createRoom, initRooms, loadRooms, pollRooms, refreshRooms, renderRooms } from "./rooms.js";
import { focusComposer, initComposer, showComposer } from "./composer.js";
import { changeMessage, rerender, resetTimeline, watchScrolling } from "./timeline.js";
import { initMessageTools } from "./message_tools.js";
import { clearTyping } from "./typing.js";
import { onFrame } from "./frames.js";
import {
  acceptInvitation, closeRoom, declineInvitation, joinCurrent, leaveCurrent, loadOlder, openRoom,
  receive,
} from "./room_view.js";
import { forgetMembers, initMembers } from "./members.js";
import { initInvite, memberAction } from "./member_actions.js";
import { initReading, markRead } from "./reading.js";

const live = new LiveConnection({
  token: accessToken,
  renewalTime,
  positions: () => Object.fromEntries(state.positions),
  renew: refreshTokens,
  onFrame: (frame) => onFrame(frame, { refreshRooms }),
  onStatus: showStatus,
});

/** Run a user action; its failure is shown in words (and clears itself). */
async function guarded(where, action) {
  try {
    await action();
    clearError(where);
  } catch (error) {
    if (error.code !== "session_ended") showError(where, error);
  }
}

// ---- signing in and out --------------------------------------------------------------------

const form = $("auth-form");

function setAuthMode(mode) {
  const register = mode === "register";
  form.dataset.mode = mode;
  $("auth-title").textContent = register ? "Create an account" : "Sign in";
  $("auth-submit").textContent = register ? "Create account" : "Sign in";
  $("auth-switch-text").textContent = register ? "Already have an account?" : "New here?";
  $("auth-switch").textContent = register ? "Sign in instead" : "Create an account";
  form.password.autocomplete = register ? "new-password" : "current-password";
  clearError("auth-error");
}

$("auth-switch").addEventListener("click", () => {
  setAuthMode(form.dataset.mode === "register" ? "login" : "register");
  form.username.focus();
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  guarded("auth-error", async () => {
    const credentials = { username: form.username.value.trim(), password: form.password.value };
    if (form.dataset.mode === "register") await api("POST", "/api/auth/register", credentials);
    setTokens(await api("POST", "/api/auth/login", credentials));
    form.password.value = "";
    await signIn();
  });
});

async function signIn() {
  const epoch = state.epoch;
  const user = await api("GET", "/api/me");
  if (state.epoch !== epoch) return;
  state.user = user;
  $("whoami").textContent = user.username;
  $("auth-view").hidden = true;
  for (const id of ["chat-view", "logout", "status", "rooms-toggle"]) $(id).hidden = false;
  live.start();
  pollRooms(true);
  await guarded("chat-error", async () => {
    await loadRooms();
    const roomId = saved.room();
    if (stillSignedIn(epoch) && roomId && state.rooms.has(roomId)) await openRoom(roomId);
    else if (stillSignedIn(epoch)) closeRoom();
  });
}

/** Forget everything of the signed-in user: tokens, rooms, positions, drafts, the screen. */
function clearSession() {
  live.stop();
  pollRooms(false);
  resetState();
  setTokens(null);
  saved.clear();
  resetTimeline();
  clearTyping();
  renderRooms();
  closeRoom();
  forgetMembers();
  $("new-room-name").value = "";
  $("new-room-private").checked = false;
  $("invite-name").value = "";
  for (const id of ["chat-error", "chat-notice", "auth-error"]) clearError(id);
  $("whoami").textContent = "";
  for (const id of ["chat-view", "logout", "status", "rooms-toggle"]) $(id).hidden = true;
  $("auth-view").hidden = false;
  document.body.classList.remove("rooms-open");
  form.reset();
  setAuthMode("login");
}

$("logout").addEventListener("click", async () => {
  const token = refreshToken();
  clearSession();
  form.username.focus();
  try {
    await api("POST", "/api/auth/logout", { refresh_token: token });
  } catch {
    // The tab has forgotten the tokens either way.
  }
});

// The login ended elsewhere (logout, a replayed refresh token) or the refresh token expired:
// the sign-in form says so until the person acts, for whoever comes back to the tab later.
whenSessionEnds(() => {
  clearSession();
  showError("auth-error", { code: "session_ended" }, { keep: true });
});

// ---- rooms and messages --------------------------------------------------------------------

initRooms({
  open: (roomId) => guarded("chat-error", () => openRoom(roomId)),
  accept: (invitation) => guarded("chat-error", () => acceptInvitation(invitation)),
  decline: (invitation) => guarded("chat-error", () => declineInvitation(invitation)),
});
initComposer(live, { sent: (message) => receive(message, { ownSend: true }) });
watchScrolling({ bottom: markRead });
initMessageTools(live, { change: changeMessage, redraw: rerender });
initReading(live);

$("new-room").addEventListener("submit", (event) => {
  event.preventDefault();
  guarded("chat-error", async () => {
    const room = await createRoom();
    await openRoom(room.id);
    focusComposer();
  });
});

$("join").addEventListener("click", () =>
  guarded("chat-error", async () => {
    await joinCurrent();
    focusComposer();
  }),
);
$("leave").addEventListener("click", () => guarded("chat-error", leaveCurrent));
$("older").addEventListener("click", () => guarded("chat-error", loadOlder));
initMembers({
  act: (action, member) => guarded("chat-error", () => memberAction(action, member)),
  roleChanged: rerender,
});
initInvite({ guarded });

$("rooms-toggle").addEventListener("click", () => {
  const open = document.body.classList.toggle("rooms-open");
  $("rooms-toggle").setAttribute("aria-expanded", String(open));
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || !document.body.classList.contains("rooms-open")) return;
  document.body.classList.remove("rooms-open");
  $("rooms-toggle").setAttribute("aria-expanded", "false");
});

// ---- start ---------------------------------------------------------------------------------

if (accessToken()) {
  $("auth-view").hidden = true;
  signIn().catch((error) => {
    if (error.status === 401) clearSession();
    else $("auth-view").hidden = false;
    showError("auth-error", error);
  });
}
showComposer();
