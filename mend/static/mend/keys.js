// "Your keys are not unlocked here": the one check, and the one error, for a page that needs the person's
// keys on this device to read or to send.
import { loadKeyset } from "./e2e.js";
import { failure } from "./messages.js";

// `code` says what the keys were needed for (messages.js has the words for each).
export function needKeys(keyset, code = "keys_locked") {
  if (!keyset) throw failure(code);
  return keyset;
}

// The keys on this device, or null when there are none or the browser will not say.
export async function keysOrNull() {
  try {
    return await loadKeyset();
  } catch {
    return null;
  }
}
