// Evidence for an agreement item. The owner's words and files are sealed on their device (envelope v2) to
// everyone in their conversation with their facilitators, and sent with the item marked done; the server
// stores only the envelope. The owner and the facilitators open the evidence here, on their own device.
import * as e2e from "./e2e.js";
import { busy } from "./forms.js";
import { getJson, sendJson } from "./http.js";
import { dateTime, format, gettext } from "./i18n.js";
import { needKeys } from "./keys.js";
import { failure } from "./messages.js";
import { hideError, showError as showIn } from "./ui.js";
import { uploadEncrypted, uploadMeter } from "./upload.js";

const root = document.querySelector("[data-evidence]");
const errorBox = root.querySelector("[data-errors]");
const status = root.querySelector("[data-status]");
const list = root.querySelector("[data-evidence-list]");
const form = root.querySelector("[data-evidence-form]");
// The files' progress shows by the section's status line, which is outside the form (forms.js `busy`).
const meter = form && uploadMeter(form, status);
const showError = (problem) => showIn(errorBox, problem);

async function showEvidence(keyset) {
  if (!list) return;
  const { frames } = await getJson(root.dataset.framesUrl);
  list.replaceChildren();
  for (const frame of frames) {
    const item = document.createElement("li");
    item.dataset.evidence = frame.id;
    const when = document.createElement("time");
    when.dateTime = frame.at;
    when.textContent = dateTime(frame.at);
    const { content, problem } = await e2e.openFrame(frame, keyset);
    const text = document.createElement("p");
    text.dataset.text = "";
    text.textContent = problem || content.text || "";
    item.append(when, text);
    for (const file of (content && content.files) || []) {
      const note = document.createElement("p");
      note.textContent = format(
        gettext("%(name)s (%(size)s KB): open it in your conversation with your facilitator."),
        { name: file.name, size: Math.ceil(file.size / 1024) },
      );
      item.append(note);
    }
    list.append(item);
  }
}

function uploadFiles(files) {
  return uploadEncrypted(files, {
    url: root.dataset.uploadUrl,
    conversation: root.dataset.conversation,
    accepts: (file) => file.type.startsWith("image/") || file.type === "application/pdf",
    tooBig: "evidence_file_too_big",
    notAccepted: "file_not_evidence_type",
    meter,
  });
}

async function submit(event, keyset) {
  event.preventDefault();
  hideError(errorBox);
  const text = form.querySelector("[data-evidence-text]").value.trim();
  const files = [...(form.querySelector("[data-evidence-files]").files || [])];
  if (!text && !files.length) {
    showError(failure("evidence_empty"));
    return;
  }
  const sending = gettext("Locking your evidence on this device and sending it…");
  busy(form, true, sending, status);
  try {
    needKeys(keyset, "keys_locked_send");
    const { members } = await getJson(root.dataset.membersUrl);
    const entries = await uploadFiles(files);
    busy(form, true, sending, status); // the files' meter said where each one was; now the words go
    const meta = { kind: "message" };
    if (entries.length) meta.files = entries.map((e) => e.id);
    const envelope = await e2e.seal({
      sender: keyset,
      conversation: root.dataset.conversation,
      content: entries.length ? { text, files: entries } : { text },
      recipients: members.filter((p) => p.key_id).map((p) => ({ key_id: p.key_id, enc_public: p.enc_public })),
      meta,
    });
    await sendJson(root.dataset.submitUrl, envelope, { fallback: "evidence_not_sent" });
    busy(form, true, gettext("Sent. Your facilitator will check it and let you know."), status);
    window.location.reload();
  } catch (error) {
    busy(form, false, "", status);
    showError(error);
  }
}

async function start() {
  const keyset = await e2e.loadKeyset();
  if (form) {
    form.addEventListener("submit", (event) => submit(event, keyset));
    form.querySelector("button[type=submit]").disabled = false;
  }
  try {
    if (list) needKeys(keyset, "keys_locked_evidence");
    await showEvidence(keyset);
  } catch (error) {
    showError(error);
  }
}

start();
