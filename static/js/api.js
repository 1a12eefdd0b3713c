// REST calls with the session's tokens. An expired access token is renewed once, with a refresh
// shared by every caller that needs it, and the call is retried.
import { saved } from "./store.js";

let tokens = saved.tokens();
let refreshing = null;
let onSessionEnded = () => {};

export class ApiError extends Error {
  constructor(message, { code, status = 0, retryAfter = null } = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export const unreachable = () =>
  new ApiError("cannot reach the server", { code: "network" });

export function accessToken() {
  return tokens ? tokens.access_token : null;
}

export function refreshToken() {
  return tokens ? tokens.refresh_token : null;
}

export function setTokens(pair) {
  // When the pair came: `expires_in` counts from then (kept across a reload, in this tab's clock).
  tokens = pair && { ...pair, received_at: pair.received_at ?? Date.now() };
  saved.setTokens(tokens);
}

/**
 * When the access token should be renewed (ms since the epoch): 60 s before it expires, or half
 * way through its life if that is later (short lifetimes: a slow machine still has time). The
 * server's expiry is in whole seconds and may be up to 1 s earlier than `expires_in` says, so
 * that second is not counted as life.
 */
export function renewalTime() {
  if (!tokens || !Number.isFinite(tokens.expires_in) || !Number.isFinite(tokens.received_at)) {
    return Date.now(); // a pair of unknown age: renew now
  }
  const life = Math.max(0, tokens.expires_in - 1) * 1000;
  return tokens.received_at + Math.max(life / 2, life - 60000);
}

/** `callback` runs when the server refuses to renew the session (logged out elsewhere, reuse). */
export function whenSessionEnds(callback) {
  onSessionEnded = callback;
}

async function readJson(response) {
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function failure(response, data) {
  const error = (data && data.error) || {
    code: `http_${response.status}`,
    message: `the server answered ${response.status}`,
  };
  const retryAfter = Number(response.headers.get("Retry-After")) || null;
  return new ApiError(error.message, { code: error.code, status: response.status, retryAfter });
}

export async function api(method, path, body, retried = false) {
  const token = accessToken();
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    response = await fetch(path, { method, headers, body: payload });
  } catch {
    throw unreachable();
  }
  const data = await readJson(response);
  if (response.ok) return data;
  const error = failure(response, data);
  if (error.code === "token_expired" && token && !retried) {
    await refreshTokens(token);
    return api(method, path, body, true);
  }
  throw error;
}

// A refresh token can be spent once: the server takes a second spend as theft and ends the whole
// login. So there is one refresh at a time, shared by every caller that asks while it runs, and a
// caller whose refused access token has been replaced meanwhile just goes on with the new one.
export function refreshTokens(refusedToken) {
  if (!refreshing) {
    if (!tokens) return Promise.reject(sessionEnded());
    if (tokens.access_token !== refusedToken) return Promise.resolve();
    refreshing = spendRefreshToken().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

function sessionEnded() {
  return new ApiError("your session has ended", { code: "session_ended", status: 401 });
}

async function spendRefreshToken() {
  let response;
  try {
    response = await fetch("/api/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: tokens.refresh_token }),
    });
  } catch {
    throw unreachable(); // the session may well be fine: keep it and try again later
  }
  const data = await readJson(response);
  if (response.ok) {
    setTokens(data);
    return;
  }
  if (response.status !== 401) throw failure(response, data);
  setTokens(null);
  onSessionEnded();
  throw sessionEnded();
}
