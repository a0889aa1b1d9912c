// Sign-in: the passphrase becomes two keys here; only the authentication key is sent. The other one
// unlocks the person's private keys, which then stay on this device, non-extractable, until sign-out.
import * as e2e from "./e2e.js";
import { busy, messagesFrom, postForm, postJson, showErrors } from "./forms.js";

const form = document.querySelector("form[data-sign-in]");
const errors = document.querySelector("[data-errors]");
const recovery = document.querySelector("[data-recovery]");

async function firstKeys(wrapKey) {
  // The first sign-in makes the person's keys, and a recovery code shown this once.
  const { bundle, code, unlock } = await e2e.newKeyBundle(wrapKey);
  const answer = await postJson(form.dataset.keysUrl, form, bundle);
  if (!answer.ok) throw new Error((await messagesFrom(answer))[0]);
  await e2e.storeKeyset(await unlock());
  return { code };
}

function showRecovery(code, next) {
  form.hidden = true;
  recovery.querySelector("[data-recovery-code]").textContent = code;
  recovery.querySelector("[data-continue]").href = next;
  recovery.hidden = false;
  recovery.querySelector("h2").focus();
}

async function signIn(event) {
  event.preventDefault();
  showErrors(errors, []);
  const identifier = form.elements.identifier.value;
  const secret = form.querySelector("[data-secret]").value;
  if (!identifier.trim() || !secret) {
    showErrors(errors, ["Fill in both parts: your email or sign-in name, and your password or phrase."]);
    return;
  }
  busy(form, true, "Checking…");
  try {
    const { authKey, wrapKey } = await e2e.deriveSignIn(identifier, secret);
    const fields = { identifier, auth_key: authKey, next: form.elements.next.value };
    let answer = await postForm(form.action, form, fields);
    if (answer.status === 409) {
      // An account from before this sign-in scheme: the old password goes once, to convert it.
      answer = await postForm(form.action, form, { ...fields, legacy_secret: secret });
    }
    if (!answer.ok) {
      showErrors(errors, await messagesFrom(answer));
      return;
    }
    const { next, keys, csrf } = await answer.json();
    // Signing in gave the session a new CSRF token: the keys are sent with that one.
    if (csrf) form.querySelector("input[name=csrfmiddlewaretoken]").value = csrf;
    if (keys) {
      await e2e.storeKeyset(await e2e.unwrapKeys(wrapKey, keys.wrapped, keys));
      window.location.assign(next);
    } else {
      const { code } = await firstKeys(wrapKey);
      showRecovery(code, next);
    }
  } catch (error) {
    showErrors(errors, [error.message || String(error)]);
  } finally {
    busy(form, false);
  }
}

// A sign-in starts clean: no keys from an earlier session stay on this device. A browser that refuses
// IndexedDB here must still get a working form, which then says what went wrong.
await e2e.clearKeyset().catch(() => {});
form.addEventListener("submit", signIn);
form.querySelector("[data-needs-script]")?.remove();
form.querySelector("button[type=submit]").disabled = false;
