// Evidence for an agreement item. The owner's words and files are sealed on their device (envelope v2) to
// everyone in their conversation with their facilitators, and sent with the item marked done; the server
// stores only the envelope. The owner and the facilitators open the evidence here, on their own device.
import * as e2e from "./e2e.js";

const root = document.querySelector("[data-evidence]");
const errorBox = root.querySelector("[data-errors]");
const status = root.querySelector("[data-status]");
const list = root.querySelector("[data-evidence-list]");
const form = root.querySelector("[data-evidence-form]");
const csrf = document.querySelector("input[name=csrfmiddlewaretoken]")?.value || cookie("csrftoken");

function cookie(name) {
  const found = document.cookie.split("; ").find((row) => row.startsWith(`${name}=`));
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

async function showEvidence(keyset) {
  if (!list) return;
  const { frames } = await getJson(root.dataset.framesUrl);
  list.replaceChildren();
  for (const frame of frames) {
    const item = document.createElement("li");
    item.dataset.evidence = frame.id;
    const when = document.createElement("time");
    when.dateTime = frame.at;
    when.textContent = new Date(frame.at).toLocaleString();
    const { content, problem } = await e2e.openFrame(frame, keyset);
    const text = document.createElement("p");
    text.dataset.text = "";
    text.textContent = problem || content.text || "";
    item.append(when, text);
    for (const file of (content && content.files) || []) {
      const note = document.createElement("p");
      note.textContent = `${file.name} (${Math.ceil(file.size / 1024)} KB): open it in your conversation with your facilitator.`;
      item.append(note);
    }
    list.append(item);
  }
}

async function uploadFiles(files) {
  const entries = [];
  for (const file of files) {
    if (file.size > 10 * 1024 * 1024) throw new Error(`${file.name} is larger than 10 MiB. Try a smaller file.`);
    if (!(file.type.startsWith("image/") || file.type === "application/pdf")) {
      throw new Error(`${file.name} is not a picture or a PDF.`);
    }
    const { ciphertext, entry } = await e2e.encryptFile(new Uint8Array(await file.arrayBuffer()), {
      conversation: root.dataset.conversation,
    });
    const response = await fetch(root.dataset.uploadUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "X-File-Id": entry.id, "Content-Type": "application/octet-stream" },
      body: ciphertext,
    });
    if (!response.ok) throw new Error((await response.json()).error || "The file could not be sent.");
    entries.push({ ...entry, name: file.name, type: file.type, size: file.size });
  }
  return entries;
}

async function submit(event, keyset) {
  event.preventDefault();
  errorBox.hidden = true;
  const text = form.querySelector("[data-evidence-text]").value.trim();
  const files = [...(form.querySelector("[data-evidence-files]").files || [])];
  if (!text && !files.length) {
    showError("Write what you did, or add a file that shows it.");
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  status.textContent = "Locking your evidence on this device and sending it…";
  try {
    if (!keyset) throw new Error("Your keys are not unlocked on this device. Sign out, then sign in again to send.");
    const { members } = await getJson(root.dataset.membersUrl);
    const entries = await uploadFiles(files);
    const meta = { kind: "message" };
    if (entries.length) meta.files = entries.map((e) => e.id);
    const envelope = await e2e.seal({
      sender: keyset,
      conversation: root.dataset.conversation,
      content: entries.length ? { text, files: entries } : { text },
      recipients: members.filter((p) => p.key_id).map((p) => ({ key_id: p.key_id, enc_public: p.enc_public })),
      meta,
    });
    const response = await fetch(root.dataset.submitUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(envelope),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || "It could not be sent. Please try again.");
    status.textContent = "Sent. Your facilitator will check it and let you know.";
    window.location.reload();
  } catch (error) {
    status.textContent = "";
    showError(error.message);
    button.disabled = false;
  }
}

async function start() {
  const keyset = await e2e.loadKeyset();
  if (form) {
    form.addEventListener("submit", (event) => submit(event, keyset));
    form.querySelector("button[type=submit]").disabled = false;
  }
  try {
    if (!keyset && list) throw new Error("Your keys are not unlocked on this device. Sign out, then sign in again to read the evidence.");
    await showEvidence(keyset);
  } catch (error) {
    showError(error.message);
  }
}

start();
