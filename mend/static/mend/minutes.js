// A circle meeting's minutes. The keeper or a volunteer writes them here; they are sealed on this device
// (envelope v2) to the circle's keeper and the program's coordinators, and the server stores only the
// envelope and whether a concern was raised. The people they were sealed to open them here too.
import * as e2e from "./e2e.js";
import { getJson, sendJson } from "./http.js";
import { gettext } from "./i18n.js";
import { keysOrNull, needKeys } from "./keys.js";
import { failure } from "./messages.js";
import { el, hideError, showError as showIn, whileSending } from "./ui.js";

const root = document.querySelector("[data-minutes]");
const errorBox = root.querySelector("[data-errors]");
const status = root.querySelector("[data-status]");
const form = root.querySelector("[data-minutes-form]");
const shown = root.querySelector("[data-minutes-text]");
const showError = (problem) => showIn(errorBox, problem);

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
  for (const paragraph of String(content.text || "").split(/\n{2,}/)) shown.append(el("p", {}, paragraph));
}

async function submit(event, keyset) {
  event.preventDefault();
  hideError(errorBox);
  const text = form.querySelector("[data-minutes-input]").value.trim();
  const concern = form.querySelector("[data-minutes-concern]").checked;
  if (!text) {
    showError(failure("minutes_empty"));
    return;
  }
  const button = form.querySelector("button[type=submit]");
  const busyText = gettext("Locking the minutes on this device and sending them…");
  await whileSending({ button, status, errorBox, busyText }, async () => {
    needKeys(keyset);
    const { recipients } = await getJson(root.dataset.recipientsUrl);
    if (!recipients.length) {
      throw failure("minutes_no_recipients");
    }
    const envelope = await e2e.seal({
      sender: keyset,
      conversation: root.dataset.conversation,
      content: { text },
      recipients: recipients.map((r) => ({ key_id: r.key_id, enc_public: r.enc_public })),
      meta: { kind: "message" },
    });
    await sendJson(root.dataset.submitUrl, { envelope, concern }, { fallback: "minutes_not_sent" });
    status.textContent = concern
      ? gettext("Sent. The coordinators have been told about the concern.")
      : gettext("Sent. Thank you.");
    window.location.reload();
  });
}

async function start() {
  const keyset = await keysOrNull();
  if (form) {
    form.addEventListener("submit", (event) => submit(event, keyset));
    form.querySelector("button[type=submit]").disabled = false;
  }
  if (shown) {
    if (!keyset) {
      showError(failure("keys_locked"));
      return;
    }
    await showMinutes(keyset);
  }
}

start();
