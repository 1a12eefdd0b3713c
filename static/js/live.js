// The one WebSocket of the tab: `auth` with `resume`, replies matched by `ref`, and reconnection
// with backoff (immediately when the browser comes back online).
import { ApiError } from "./api.js";

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10000;
const UNAUTHENTICATED = 4401;

export class LiveConnection {
  /**
   * token(): the access token; positions(): {room_id: last_seq} to resume;
   * renew(refusedToken): fresh tokens after a 4401; onFrame(frame); onStatus(name).
   */
  constructor({ token, positions, renew, onFrame, onStatus }) {
    Object.assign(this, { token, positions, renew, onFrame, onStatus });
    this.socket = null;
    this.ready = false;
    this.pending = new Map();
    this.nextRef = 1;
    this.retryMs = RETRY_FIRST_MS;
    this.timer = null;
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
    let token = null; // the access token this socket authenticated with
    socket.addEventListener("open", () => {
      token = this.token();
      socket.send(JSON.stringify({ type: "auth", ref: "auth", token, resume: this.positions() }));
    });
    socket.addEventListener("message", (event) => {
      if (this.socket === socket) this.receive(JSON.parse(event.data));
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return; // stopped, or replaced
      this.socket = null;
      this.ready = false;
      this.failPending();
      this.onStatus(navigator.onLine ? "reconnecting" : "offline");
      this.retryLater(event.code === UNAUTHENTICATED ? token : null);
    });
  }

  retryLater(refusedToken) {
    const delay = this.retryMs;
    this.retryMs = Math.min(delay * 2, RETRY_MAX_MS);
    this.timer = setTimeout(() => this.retry(refusedToken), delay);
  }

  async retry(refusedToken) {
    if (!this.running) return;
    if (refusedToken) {
      try {
        await this.renew(refusedToken);
      } catch (error) {
        if (error.code !== "session_ended" && this.running) this.retryLater(refusedToken);
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
