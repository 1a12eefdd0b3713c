// The bundled chatd page: REST for accounts, rooms and history; one WebSocket for live events.
// Text is always inserted with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  tokens: JSON.parse(sessionStorage.getItem("chatd.tokens") || "null"),
  user: null,
  rooms: new Map(),      // room id -> room (with `joined`)
  lastSeq: new Map(),    // room id -> highest seq shown or known, for gap checks and resume
  current: null,         // the room id on screen
  socket: null,
  retryDelay: 500,
  typingNames: new Map(), // user name -> timer
  lastTypingSent: 0,
};

// ---- REST ---------------------------------------------------------------------------------

async function api(method, path, body, retried = false) {
  const headers = { "Content-Type": "application/json" };
  const token = state.tokens && state.tokens.access_token;
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json();
  if (response.ok) return data;
  if (response.status === 401 && data.error.code === "token_expired" && !retried) {
    await refreshTokens(token);
    return api(method, path, body, true);
  }
  const error = new Error(data.error.message);
  error.code = data.error.code;
  throw error;
}

function saveTokens(tokens) {
  state.tokens = tokens;
  if (tokens) sessionStorage.setItem("chatd.tokens", JSON.stringify(tokens));
  else sessionStorage.removeItem("chatd.tokens");
}

// A refresh token can be spent once: the server takes a second spend as theft and ends the whole
// login. So there is one refresh at a time, shared by every caller that asks while it runs, and a
// caller whose refused access token has been replaced meanwhile just goes on with the new one.
let refreshing = null;

function refreshTokens(refusedToken) {
  if (!refreshing) {
    if (state.tokens && state.tokens.access_token !== refusedToken) return Promise.resolve();
    refreshing = spendRefreshToken().finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function spendRefreshToken() {
  const response = await fetch("/api/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: state.tokens && state.tokens.refresh_token }),
  });
  if (!response.ok) { signedOut(); throw new Error("session ended, please log in again"); }
  saveTokens(await response.json());
}

// ---- accounts -----------------------------------------------------------------------------

$("auth-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const credentials = { username: form.username.value, password: form.password.value };
  $("auth-error").textContent = "";
  try {
    if (event.submitter && event.submitter.value === "register") {
      await api("POST", "/api/auth/register", credentials);
    }
    saveTokens(await api("POST", "/api/auth/login", credentials));
    await signedIn();
  } catch (error) {
    $("auth-error").textContent = error.message;
  }
});

$("logout").addEventListener("click", async () => {
  try { await api("POST", "/api/auth/logout", { refresh_token: state.tokens.refresh_token }); }
  finally { signedOut(); }
});

async function signedIn() {
  state.user = await api("GET", "/api/me");
  $("whoami").textContent = state.user.username;
  $("auth-view").hidden = true;
  $("chat-view").hidden = false;
  $("logout").hidden = false;
  await loadRooms();
  connect();
}

function signedOut() {
  saveTokens(null);
  if (state.socket) state.socket.close(1000);
  state.socket = null;
  state.user = null;
  $("auth-view").hidden = false;
  $("chat-view").hidden = true;
  $("logout").hidden = true;
  $("whoami").textContent = "";
}

// ---- rooms --------------------------------------------------------------------------------

async function loadRooms() {
  const { rooms } = await api("GET", "/api/rooms?limit=200");
  state.rooms = new Map(rooms.map((room) => [room.id, room]));
  renderRooms();
}

function renderRooms() {
  const list = $("rooms");
  list.replaceChildren();
  for (const room of state.rooms.values()) {
    const item = document.createElement("li");
    item.textContent = room.name;
    item.dataset.roomId = room.id;
    item.classList.toggle("current", room.id === state.current);
    item.classList.toggle("not-joined", !room.joined);
    item.addEventListener("click", () => openRoom(room.id));
    list.append(item);
  }
}

$("new-room").addEventListener("submit", (event) => guarded(async () => {
  event.preventDefault();
  const room = await api("POST", "/api/rooms", { name: event.target.name.value });
  event.target.reset();
  state.rooms.set(room.id, { ...room, joined: true });
  await openRoom(room.id);
}));

$("join").addEventListener("click", () => guarded(async () => {
  await api("POST", `/api/rooms/${state.current}/join`);
  state.rooms.get(state.current).joined = true;
  await openRoom(state.current);
}));

$("leave").addEventListener("click", () => guarded(async () => {
  await api("POST", `/api/rooms/${state.current}/leave`);
  state.rooms.get(state.current).joined = false;
  await openRoom(state.current);
}));

async function openRoom(roomId) {
  state.current = roomId;
  const room = state.rooms.get(roomId);
  $("room-title").textContent = room.name + (room.topic ? ` — ${room.topic}` : "");
  $("join").hidden = room.joined;
  $("leave").hidden = !room.joined;
  $("composer").hidden = !room.joined;
  $("messages").replaceChildren();
  $("older").hidden = true;
  renderRooms();
  if (!room.joined) return;
  const { messages } = await api("GET", `/api/rooms/${roomId}/messages?limit=50`);
  messages.forEach(showMessage);
  $("older").hidden = messages.length < 50;
}

$("older").addEventListener("click", () => guarded(async () => {
  const first = $("messages").firstElementChild;
  if (!first) return;
  const path = `/api/rooms/${state.current}/messages?limit=50&before_seq=${first.dataset.seq}`;
  const { messages } = await api("GET", path);
  messages.reverse().forEach((message) => $("messages").prepend(messageItem(message)));
  $("older").hidden = messages.length < 50;
}));

// ---- messages -----------------------------------------------------------------------------

function messageItem(message) {
  const item = document.createElement("li");
  item.dataset.seq = message.seq;
  item.classList.toggle("system", message.kind === "system");
  const time = document.createElement("time");
  time.textContent = new Date(message.created_at).toLocaleTimeString();
  item.append(time);
  if (message.author) {
    const author = document.createElement("span");
    author.className = "author";
    author.textContent = message.author.username;
    item.append(author);
  }
  item.append(document.createTextNode(message.body));
  return item;
}

function showMessage(message) {
  const known = state.lastSeq.get(message.room_id) || 0;
  state.lastSeq.set(message.room_id, Math.max(known, message.seq));
  if (message.room_id !== state.current) return;
  const list = $("messages");
  if (list.querySelector(`li[data-seq="${message.seq}"]`)) return; // already shown
  list.append(messageItem(message));
  list.scrollTop = list.scrollHeight;
}

$("composer").addEventListener("submit", (event) => guarded(async () => {
  event.preventDefault();
  const body = event.target.body.value;
  const frame = { type: "send_message", room_id: state.current, body, client_id: crypto.randomUUID() };
  if (!sendFrame(frame)) {
    showMessage(await api("POST", `/api/rooms/${state.current}/messages`, {
      body, client_id: frame.client_id,
    }));
  }
  event.target.reset();
}));

$("composer").body.addEventListener("input", () => {
  const now = Date.now();
  if (now - state.lastTypingSent < 2000) return;
  state.lastTypingSent = now;
  sendFrame({ type: "typing", room_id: state.current });
});

function showTyping(name) {
  clearTimeout(state.typingNames.get(name));
  state.typingNames.set(name, setTimeout(() => {
    state.typingNames.delete(name);
    renderTyping();
  }, 3000));
  renderTyping();
}

function renderTyping() {
  const names = [...state.typingNames.keys()];
  $("typing").textContent = names.length ? `${names.join(", ")} typing…` : "";
}

// ---- WebSocket ----------------------------------------------------------------------------

let nextRef = 1;

function sendFrame(frame) {
  if (!state.socket || state.socket.readyState !== WebSocket.OPEN) return false;
  state.socket.send(JSON.stringify({ ref: String(nextRef++), ...frame }));
  return true;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  state.socket = socket;
  let token = null; // the access token this socket authenticated with
  socket.addEventListener("open", () => {
    // Resume every room from the last seq seen, so a reconnect misses nothing.
    const resume = Object.fromEntries(state.lastSeq);
    token = state.tokens.access_token;
    socket.send(JSON.stringify({ type: "auth", token, resume }));
  });
  socket.addEventListener("message", (event) => onFrame(JSON.parse(event.data)));
  socket.addEventListener("close", (event) => {
    $("status").textContent = "offline";
    $("status").classList.remove("online");
    if (state.socket !== socket || !state.tokens) return; // signed out or replaced
    const delay = state.retryDelay;
    state.retryDelay = Math.min(delay * 2, 10000);
    setTimeout(async () => {
      if (event.code === 4401) {
        try { await refreshTokens(token); } catch { return; }
      }
      if (state.tokens) connect();
    }, delay);
  });
}

function onFrame(frame) {
  switch (frame.type) {
    case "ready":
      state.retryDelay = 500;
      $("status").textContent = "online";
      $("status").classList.add("online");
      break;
    case "new_message":
    case "system_message":
      showMessage(frame.message);
      break;
    case "ack":
      if (frame.message) showMessage(frame.message);
      break;
    case "join_room":
    case "leave_room":
      if (frame.user.id === state.user.id) loadRooms();
      break;
    case "typing":
      if (frame.room_id === state.current) showTyping(frame.user.username);
      break;
    case "resync_required":
      if (frame.room_id === state.current) openRoom(frame.room_id);
      break;
    case "error":
      $("chat-error").textContent = frame.message;
      break;
  }
}

async function guarded(action) {
  $("chat-error").textContent = "";
  try { await action(); } catch (error) { $("chat-error").textContent = error.message; }
}

if (state.tokens) signedIn().catch(signedOut);
