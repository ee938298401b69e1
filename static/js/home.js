/** The home page: suggest an unguessable room name, create or join a room. */
import { roomFromInput, suggestRoomName, rememberName, rememberedName, rememberPassword } from "./call/rooms.js";

const createForm = /** @type {HTMLFormElement} */ (document.getElementById("create-form"));
const joinForm = /** @type {HTMLFormElement} */ (document.getElementById("join-form"));
const joinError = /** @type {HTMLElement} */ (document.getElementById("join-error"));
const createField = (/** @type {string} */ name) => /** @type {HTMLInputElement} */ (createForm.elements.namedItem(name));

createField("room").value = suggestRoomName();
createField("name").value = rememberedName();

createForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(createForm);
  const room = String(data.get("room"));
  const name = String(data.get("name")).trim();
  rememberName(name);
  rememberPassword(room, String(data.get("password") ?? ""));
  location.assign(`/r/${encodeURIComponent(room)}?name=${encodeURIComponent(name)}`);
});

joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const room = roomFromInput(String(new FormData(joinForm).get("target")));
  if (!room) {
    joinError.textContent = "That is neither a room name nor an invite link.";
    joinError.hidden = false;
    return;
  }
  location.assign(`/r/${encodeURIComponent(room)}`);
});
