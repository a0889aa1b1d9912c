// A circle meeting's minutes. The keeper or a volunteer writes them here; they are sealed on this device
// (envelope v2) to the circle's keeper and the program's coordinators, and the server stores only the
// envelope and whether a concern was raised. The people they were sealed to open them here too.
import * as e2e from "./e2e.js";

const root = document.querySelector("[data-minutes]");
const errorBox = root.querySelector("[data-errors]");
const status = root.querySelector("[data-status]");
const form = root.querySelector("[data-minutes-form]");
const shown = root.querySelector("[data-minutes-text]");
const NO_KEYS = "Your keys are not unlocked on this device. Sign out, then sign in again.";

function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const found = document.cookie.split("; ").find((row) => row.startsWith("csrftoken="));
  return found ? decodeURIComponent(found.split("=")[1]) : "";
}

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = false;
  errorBox.focus();
}

async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || "Something went wrong. Please try again.");
  return body;
}

async function showMinutes(keyset) {
  const data = document.getElementById("minutes-frame");
  if (!shown || !data) return;
  const frame = JSON.parse(data.textContent);
  const { content, problem } = await e2e.openFrame(frame, keyset);
  shown.replaceChildren();
  if (problem) {
    showError(problem);
    return;
  }
  for (const paragraph of String(content.text || "").split(/\n{2,}/)) {
    const p = document.createElement("p");
    p.textContent = paragraph;
    shown.append(p);
  }
}

async function submit(event, keyset) {
  event.preventDefault();
  errorBox.hidden = true;
  const text = form.querySelector("[data-minutes-input]").value.trim();
  const concern = form.querySelector("[data-minutes-concern]").checked;
  if (!text) {
    showError("Write the minutes first.");
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  status.textContent = "Locking the minutes on this device and sending them…";
  try {
    if (!keyset) throw new Error(NO_KEYS);
    const { recipients } = await getJson(root.dataset.recipientsUrl);
    if (!recipients.length) {
      throw new Error("Nobody who receives minutes has keys yet. Ask the keeper or a coordinator to sign in once.");
    }
    const envelope = await e2e.seal({
      sender: keyset,
      conversation: root.dataset.conversation,
      content: { text },
      recipients: recipients.map((r) => ({ key_id: r.key_id, enc_public: r.enc_public })),
      meta: { kind: "message" },
    });
    const response = await fetch(root.dataset.submitUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ envelope, concern }),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || "The minutes could not be sent. Please try again.");
    status.textContent = concern
      ? "Sent. The coordinators have been told about the concern."
      : "Sent. Thank you.";
    window.location.reload();
  } catch (error) {
    status.textContent = "";
    showError(error.message);
    button.disabled = false;
  }
}

async function start() {
  let keyset = null;
  try {
    keyset = await e2e.loadKeyset();
  } catch {
    keyset = null;
  }
  if (form) {
    form.addEventListener("submit", (event) => submit(event, keyset));
    form.querySelector("button[type=submit]").disabled = false;
  }
  if (shown) {
    if (!keyset) {
      showError(NO_KEYS);
      return;
    }
    await showMinutes(keyset);
  }
}

start();
