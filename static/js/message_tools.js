// Changing a message on screen: Edit and Delete on the user's own messages (Delete on anyone's
// for the room's owner and moderators), shown on hover, on focus, or on a tap of the message.
// Edit opens the text in place: Enter saves, Shift+Enter breaks the line, Escape cancels.
// Delete asks first. Both go over the socket (`edit_message`, `delete_message`), over REST
// when it is down; the result is shown at once, and again by the room's live frames.
import { api } from "./api.js";
import { $, el } from "./dom.js";
import { state } from "./state.js";
import { clearError, showError } from "./notices.js";
import { myRole } from "./members.js";

let live = null;
let screen = { change: () => {}, redraw: () => {} };
let editing = null; // {seq, text}: the message open in the editor, and its text so far
let confirming = null; // the seq whose delete is asked about
let busy = false;

/** change(seq, patch) applies a change to a shown message; redraw() draws them all again. */
export function initMessageTools(connection, given) {
  live = connection;
  screen = given;
  $("messages").addEventListener("click", (event) => {
    const item = event.target.closest("li.msg");
    if (!item || event.target.closest("button, textarea")) return;
    for (const other of $("messages").querySelectorAll("li.selected")) {
      if (other !== item) other.classList.remove("selected");
    }
    item.classList.toggle("selected");
  });
}

/** A new room on screen: nothing is being edited or asked about. */
export function resetTools() {
  editing = null;
  confirming = null;
}

/** A message changed elsewhere: a deleted one cannot be edited any more. */
export function changedElsewhere(seq, { deleted }) {
  if (!deleted) return;
  if (editing && editing.seq === seq) editing = null;
  if (confirming === seq) confirming = null;
}

const isOwn = (message) => Boolean(state.user && message.author.id === state.user.id);
const mayDelete = (message) => isOwn(message) || ["owner", "moderator"].includes(myRole());

/** The body of a shown user message: its text, the editor, or the tombstone. */
export function bodyOf(message) {
  if (message.deleted) return el("div", { className: "body", text: "This message was deleted." });
  if (editing && editing.seq === message.seq) return editor(message);
  const body = el("div", { className: "body", text: message.body });
  if (message.edited_at) {
    const mark = el("span", { className: "edited", text: " (edited)" });
    mark.title = `edited ${new Date(message.edited_at).toLocaleString()}`;
    body.append(mark);
  }
  return body;
}

/** The buttons (or the delete question) of a shown user message; none for others' messages. */
export function toolsOf(message) {
  if (message.deleted || (editing && editing.seq === message.seq)) return [];
  if (confirming === message.seq) {
    const yes = button("Delete", "confirm-delete", "danger");
    const no = button("Cancel", "cancel-delete");
    yes.addEventListener("click", () => remove(message));
    no.addEventListener("click", () => redrawWith({ confirm: null }));
    const question = el("span", { text: "Delete this message?" });
    return [el("div", { className: "msg-confirm" }, [question, yes, no])];
  }
  const tools = [];
  if (isOwn(message)) {
    const edit = button("Edit", "edit");
    edit.addEventListener("click", () => redrawWith({ edit: message }));
    tools.push(edit);
  }
  if (mayDelete(message)) {
    const del = button("Delete", "delete");
    del.addEventListener("click", () => redrawWith({ confirm: message.seq }));
    tools.push(del);
  }
  return tools.length ? [el("span", { className: "msg-tools" }, tools)] : [];
}

function button(text, action, className = "") {
  return el("button", { className, text, attrs: { type: "button", "data-action": action } });
}

function redrawWith({ edit = null, confirm = null }) {
  editing = edit ? { seq: edit.seq, text: edit.body } : null;
  confirming = confirm;
  screen.redraw();
  if (editing) focusEditor();
}

export function focusEditor() {
  const box = $("messages").querySelector(".edit-box");
  if (!box) return;
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
}

function editor(message) {
  const attrs = { rows: 2, "aria-label": "Edit message" };
  const box = el("textarea", { className: "edit-box", attrs });
  box.value = editing.text;
  box.addEventListener("input", () => {
    if (editing && editing.seq === message.seq) editing.text = box.value;
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      redrawWith({});
    } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      save(message, box.value);
    }
  });
  const save_ = button("Save", "save", "primary");
  const cancel = button("Cancel", "cancel-edit");
  save_.addEventListener("click", () => save(message, box.value));
  cancel.addEventListener("click", () => redrawWith({}));
  const hint = el("span", { className: "hint", text: "Enter saves, Escape cancels" });
  const row = el("div", { className: "row" }, [hint, save_, cancel]);
  return el("div", { className: "body editor" }, [box, row]);
}

async function save(message, text) {
  if (busy) return;
  if (text.trim() === message.body) return redrawWith({}); // nothing changed
  busy = true;
  const roomId = message.room_id;
  try {
    const edit = await request(
      { type: "edit_message", room_id: roomId, seq: message.seq, body: text },
      () => api("PATCH", `/api/rooms/${roomId}/messages/${message.seq}`, { body: text }),
    );
    const result = edit.edit ?? edit; // the frame's ack carries {edit}; REST answers the edit
    if (editing && editing.seq === message.seq) editing = null;
    clearError("chat-error");
    screen.change(result.target_seq, { body: result.body, edited_at: result.edited_at });
  } catch (error) {
    showError("chat-error", error); // the editor stays open with the text
  } finally {
    busy = false;
  }
}

async function remove(message) {
  const roomId = message.room_id;
  confirming = null;
  try {
    await request(
      { type: "delete_message", room_id: roomId, seq: message.seq },
      () => api("DELETE", `/api/rooms/${roomId}/messages/${message.seq}`),
    );
    clearError("chat-error");
    screen.change(message.seq, { body: null, deleted: true });
  } catch (error) {
    showError("chat-error", error);
    screen.redraw();
  }
}

/** Over the socket; over REST (`rest()`) when it is down. */
async function request(frame, rest) {
  try {
    return await live.request(frame);
  } catch (error) {
    if (error.code !== "not_connected") throw error;
  }
  return rest();
}
