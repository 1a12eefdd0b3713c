// The one WebSocket of the tab: `auth` with `resume`, replies matched by `ref`, reconnection with
// backoff (immediately when the browser comes back online), and the access token renewed on the
// open socket before it expires (an `auth` frame with a fresh token), so it is never reconnected
// for that.
import { ApiError } from "./api.js";

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10000;
const UNAUTHENTICATED = 4401;
const RENEW_RETRY_MS = 2000;

export class LiveConnection {
  /**
   * token(): the access token; renewalTime(): when to renew it (ms since the epoch);
   * positions(): {room_id: last_seq} to resume; renew(refusedToken): fresh tokens (one refresh
   * shared with every caller; none if `refusedToken` was replaced already); onFrame(frame);
   * onStatus(name).
   */
  constructor({ token, renewalTime, positions, renew, onFrame, onStatus }) {
    Object.assign(this, { token, renewalTime, positions, renew, onFrame, onStatus });
    this.socket = null;
    this.ready = false;
    this.pending = new Map();
    this.nextRef = 1;
    this.retryMs = RETRY_FIRST_MS;
    this.timer = null;
    this.held = null; // {token, due}: the access token the open socket holds, when to renew it
    this.renewTimer = null;
    this.running = false;
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => this.running && !this.ready && onStatus("offline"));
  }

  start() {
    this.running = true;
    this.onStatus("connecting");
    this.open();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    clearTimeout(this.renewTimer);
    const socket = this.socket;
    this.socket = null;
    this.ready = false;
    if (socket) socket.close(1000);
    this.failPending();
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      const token = this.token();
      this.held = { token, due: this.renewalTime() };
      socket.send(JSON.stringify({ type: "auth", ref: "auth", token, resume: this.positions() }));
    });
    socket.addEventListener("message", (event) => {
      if (this.socket === socket) this.receive(JSON.parse(event.data));
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return; // stopped, or replaced
      this.socket = null;
      this.ready = false;
      clearTimeout(this.renewTimer);
      this.failPending();
      this.onStatus(navigator.onLine ? "reconnecting" : "offline");
      this.retryLater(event.code === UNAUTHENTICATED);
    });
  }

  retryLater(refreshFirst) {
    const delay = this.retryMs;
    this.retryMs = Math.min(delay * 2, RETRY_MAX_MS);
    this.timer = setTimeout(() => this.retry(refreshFirst), delay);
  }

  /**
   * After a 4401 the tokens are refreshed first, whatever the reason: an expired access token
   * needs it, and after a logout (here or in another tab) the refresh tells whether this login
   * still stands; if not, `renew` ends the session (the sign-in form says so).
   */
  async retry(refreshFirst) {
    if (!this.running) return;
    if (refreshFirst) {
      try {
        await this.renew(this.token());
      } catch (error) {
        if (error.code !== "session_ended" && this.running) this.retryLater(true);
        return;
      }
    }
    if (this.running && !this.socket) this.open();
  }

  reconnectNow() {
    if (!this.running || this.socket) return;
    clearTimeout(this.timer);
    this.retryMs = RETRY_FIRST_MS;
    this.open();
  }

  receive(frame) {
    if (frame.type === "ready") {
      this.ready = true;
      this.retryMs = RETRY_FIRST_MS;
      this.onStatus("connected");
      this.scheduleRenewal();
    }
    const waiting = frame.ref !== undefined && this.pending.get(frame.ref);
    if (waiting && (frame.type === "ack" || frame.type === "error")) {
      this.pending.delete(frame.ref);
      if (frame.type === "ack") waiting.resolve(frame);
      else waiting.reject(replyError(frame));
      return;
    }
    this.onFrame(frame);
  }

  /** Send a frame that needs no reply; false when not connected. */
  send(frame) {
    if (!this.ready) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Send a frame and wait for its `ack` (rejected on `error` or when the socket closes). */
  request(frame) {
    if (!this.ready) return Promise.reject(notConnected());
    const ref = `r${this.nextRef++}`;
    return new Promise((resolve, reject) => {
      this.pending.set(ref, { resolve, reject });
      this.socket.send(JSON.stringify({ ...frame, ref }));
    });
  }

  // ---- the access token of the open socket ---------------------------------------------------

  /** Renew when the token the socket holds is due (after `ready`, after each renewal). */
  scheduleRenewal(delay = this.held.due - Date.now()) {
    clearTimeout(this.renewTimer);
    const socket = this.socket;
    this.renewTimer = setTimeout(() => this.renewSocket(socket), Math.max(0, delay));
  }

  /**
   * Fresh tokens (one refresh shared with the REST calls, or none if they have replaced the
   * socket's token already) sent on the open socket as `auth`, which the server acks. A login
   * that has ended is handled by `renew` (back to the sign-in form); any other failure is tried
   * again shortly, and should the socket expire meanwhile, its reconnect refreshes instead.
   */
  async renewSocket(socket) {
    if (this.socket !== socket || !this.ready) return;
    let token = null;
    try {
      await this.renew(this.held.token);
      if (this.socket !== socket) return;
      token = this.token();
      const due = this.renewalTime();
      await this.request({ type: "auth", token });
      if (this.socket !== socket) return;
      this.held = { token, due };
      this.scheduleRenewal();
    } catch (error) {
      if (error.code === "session_ended" || this.socket !== socket) return;
      // A token the server refused is spent on the next try: that one refreshes.
      if (token && ["token_expired", "invalid_token"].includes(error.code)) this.held.token = token;
      this.scheduleRenewal(RENEW_RETRY_MS);
    }
  }

  failPending() {
    for (const { reject } of this.pending.values()) reject(notConnected());
    this.pending.clear();
  }
}

function replyError(frame) {
  return new ApiError(frame.message, { code: frame.code, retryAfter: frame.retry_after ?? null });
}

export function notConnected() {
  return new ApiError("not connected", { code: "not_connected" });
}
