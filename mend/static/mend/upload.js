// Sending files sealed on this device: each is checked, encrypted for its conversation (e2e.encryptFile)
// and uploaded; the server only ever gets ciphertext. Answers the entries a message lists its files by.
import { encryptFile } from "./e2e.js";
import { csrfToken, refusal } from "./http.js";
import { failure } from "./messages.js";

const MAX_BYTES = 10 * 1024 * 1024;

// `accepts(file)` says which files the page takes; `tooBig` and `notAccepted` are the codes it refuses with.
export async function uploadEncrypted(files, { url, conversation, accepts, tooBig, notAccepted }) {
  const entries = [];
  for (const file of files) {
    if (file.size > MAX_BYTES) throw failure(tooBig, { name: file.name });
    if (!accepts(file)) throw failure(notAccepted, { name: file.name });
    const { ciphertext, entry } = await encryptFile(new Uint8Array(await file.arrayBuffer()), { conversation });
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-File-Id": entry.id, "Content-Type": "application/octet-stream" },
      body: ciphertext,
    });
    if (!response.ok) throw refusal((await response.json()).error, "file_not_sent");
    entries.push({ ...entry, name: file.name, type: file.type, size: file.size });
  }
  return entries;
}
