// Sign-in: the passphrase becomes two keys here, with this install's salt; only the authentication key is
// sent. The other one unlocks the person's private keys, which then stay on this device, non-extractable,
// until sign-out. Staff get their keys only after the second step: the wrapping key waits here, in this
// browser, for the unlock page (the same module), which opens the keys or makes the first ones.
import * as e2e from "./e2e.js";
import { busy, messagesFrom, postForm, problemsFrom, showProblems } from "./forms.js";
import { postJson } from "./http.js";
import { doing, failure, words, wordsOf } from "./messages.js";

const form = document.querySelector("form[data-sign-in]");
const unlockForm = document.querySelector("form[data-unlock]");
const errors = document.querySelector("[data-errors]");
const recovery = document.querySelector("[data-recovery]");

// --- the wrapping key kept across the second step ----------------------------------------------------
// Non-extractable CryptoKeys in IndexedDB, like the keyset itself; deleted once used and at every sign-in.

const PENDING_DB = "mend-sign-in";
const PENDING = "pending";

function inPending(mode, work) {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open(PENDING_DB, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(PENDING);
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
      const db = opening.result;
      const tx = db.transaction(PENDING, mode);
      const request = work(tx.objectStore(PENDING));
      tx.oncomplete = () => {
        db.close();
        resolve(request.result);
      };
      tx.onerror = () => {
        db.close();
        reject(tx.error);
      };
    };
  });
}

const keepPending = (wrapKeys) => inPending("readwrite", (store) => store.put(wrapKeys, "wrap"));
const loadPending = async () => (await inPending("readonly", (store) => store.get("wrap"))) ?? null;
const clearPending = () => inPending("readwrite", (store) => store.delete("wrap"));

// --- opening and making keys -------------------------------------------------------------------------

// Keys wrapped under the salt every install shared before (wrapped_salt 1) are wrapped again here under
// this install's, and the new wrapping is sent back: the server cannot do it, it never holds the keys.
async function openKeys(keys, wrapKey, oldWrapKey, host) {
  if (keys.wrapped_salt !== 1) return e2e.unwrapKeys(wrapKey, keys.wrapped, keys);
  if (!oldWrapKey) throw failure("keys_did_not_open");
  const { wrapped, keyset } = await e2e.rewrapKeys(oldWrapKey, keys.wrapped, wrapKey, keys);
  const answer = await postJson(host.dataset.keysUrl, { wrapped }, { method: "PUT", scope: host });
  if (!answer.ok) throw new Error((await messagesFrom(answer))[0]);
  return keyset;
}

async function firstKeys(wrapKey, host) {
  // The first sign-in makes the person's keys, and a recovery code shown this once.
  const { bundle, code, unlock } = await e2e.newKeyBundle(wrapKey);
  const answer = await postJson(host.dataset.keysUrl, bundle, { scope: host });
  if (!answer.ok) throw new Error((await messagesFrom(answer))[0]);
  await e2e.storeKeyset(await unlock());
  return { code };
}

function showRecovery(code, next, hide) {
  hide.hidden = true;
  recovery.querySelector("[data-recovery-code]").textContent = code;
  recovery.querySelector("[data-continue]").href = next;
  recovery.hidden = false;
  recovery.querySelector("h2").focus();
}

// --- the sign-in page --------------------------------------------------------------------------------

// The fields left empty, each with what to do, as `showProblems` takes them (the phrase's field has no name:
// it is never sent).
function missingFields(identifier, secret) {
  const fields = {};
  if (!identifier.trim()) fields.identifier = [words("identifier_missing")];
  if (!secret) fields.id_secret = [words("secret_missing")];
  return fields;
}

async function signIn(event) {
  event.preventDefault();
  showProblems(form, errors, {});
  const identifier = form.elements.identifier.value;
  const secret = form.querySelector("[data-secret]").value;
  const missing = missingFields(identifier, secret);
  if (Object.keys(missing).length) {
    showProblems(form, errors, { fields: missing });
    return;
  }
  busy(form, true, doing("signing_in"));
  try {
    const { authKey, wrapKey } = await e2e.deriveSignIn(identifier, secret, form.dataset.installId);
    // An account from before this install's salt: its keys, derived once more the older way.
    const older = () => e2e.deriveSignIn(identifier, secret);
    let oldWrapKey = null;
    const fields = { identifier, auth_key: authKey, next: form.elements.next.value };
    let answer = await postForm(form.action, form, fields);
    if (answer.status === 409) {
      const { convert } = await answer.json().catch(() => ({}));
      if (convert === "salt") {
        // Derived with the salt every install shared: that key goes once, with the new one, to convert it.
        const old = await older();
        oldWrapKey = old.wrapKey;
        answer = await postForm(form.action, form, { ...fields, old_auth_key: old.authKey });
      } else {
        // An account from before this sign-in scheme: the old password goes once, to convert it.
        answer = await postForm(form.action, form, { ...fields, legacy_secret: secret });
      }
    }
    if (!answer.ok) {
      // A wrong name or phrase is one problem of the whole form, in the summary; a field's own, beside it.
      busy(form, false);
      showProblems(form, errors, await problemsFrom(answer));
      return;
    }
    const { next, keys, csrf, unlock, wrapped_salt: wrappedSalt } = await answer.json();
    // Signing in gave the session a new CSRF token: the keys are sent with that one.
    if (csrf) form.querySelector("input[name=csrfmiddlewaretoken]").value = csrf;
    if ((keys ? keys.wrapped_salt : wrappedSalt) === 1 && !oldWrapKey) oldWrapKey = (await older()).wrapKey;
    if (unlock) {
      // Staff: the keys come after the second step, on the unlock page.
      await keepPending({ wrapKey, oldWrapKey });
      window.location.assign(next);
    } else if (keys) {
      busy(form, true, doing("opening_keys"));
      await e2e.storeKeyset(await openKeys(keys, wrapKey, oldWrapKey, form));
      window.location.assign(next);
    } else {
      busy(form, true, doing("making_keys"));
      const { code } = await firstKeys(wrapKey, form);
      busy(form, false);
      showRecovery(code, next, form);
    }
  } catch (error) {
    busy(form, false);
    showProblems(form, errors, { general: [wordsOf(error)] });
  }
}

// --- the unlock page, after the second step ----------------------------------------------------------

async function unlockKeys() {
  const next = unlockForm.dataset.next;
  const explained = document.querySelector("[data-unlocking]");
  const failed = (problem) => {
    busy(unlockForm, false);
    explained.hidden = true;
    showProblems(unlockForm, errors, { general: [problem] });
  };
  busy(unlockForm, true, doing("opening_keys"));
  try {
    const pending = await loadPending().catch(() => null);
    if (!pending) {
      failed(words("keys_pending_lost"));
      return;
    }
    const answer = await fetch(unlockForm.dataset.keysUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!answer.ok) throw new Error((await messagesFrom(answer))[0]);
    const { keys } = await answer.json();
    if (keys) {
      await e2e.storeKeyset(await openKeys(keys, pending.wrapKey, pending.oldWrapKey, unlockForm));
      await clearPending();
      window.location.replace(next);
    } else {
      busy(unlockForm, true, doing("making_keys"));
      const { code } = await firstKeys(pending.wrapKey, unlockForm);
      await clearPending();
      busy(unlockForm, false);
      showRecovery(code, next, explained);
    }
  } catch (error) {
    failed(wordsOf(error));
  }
}

if (form) {
  // A sign-in starts clean: no keys from an earlier session stay on this device. A browser that refuses
  // IndexedDB here must still get a working form, which then says what went wrong.
  await e2e.clearKeyset().catch(() => {});
  await clearPending().catch(() => {});
  form.addEventListener("submit", signIn);
  form.querySelector("[data-needs-script]")?.remove();
  form.querySelector("button[type=submit]").disabled = false;
} else if (unlockForm) {
  unlockForm.querySelector("[data-needs-script]")?.remove();
  await unlockKeys();
}
