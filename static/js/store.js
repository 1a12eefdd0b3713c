// What survives a reload of this tab: the tokens and the open room (sessionStorage, per tab).

const TOKENS = "chatd.tokens";
const ROOM = "chatd.room";

function read(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) || "null");
  } catch {
    return null;
  }
}

export const saved = {
  tokens: () => read(TOKENS),
  room: () => (Number.isInteger(read(ROOM)) && read(ROOM) > 0 ? read(ROOM) : null),

  setTokens(tokens) {
    if (tokens) sessionStorage.setItem(TOKENS, JSON.stringify(tokens));
    else sessionStorage.removeItem(TOKENS);
  },

  setRoom(roomId) {
    if (roomId) sessionStorage.setItem(ROOM, JSON.stringify(roomId));
    else sessionStorage.removeItem(ROOM);
  },

  clear() {
    sessionStorage.removeItem(TOKENS);
    sessionStorage.removeItem(ROOM);
  },
};
