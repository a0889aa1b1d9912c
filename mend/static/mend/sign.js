// Signing an agreement version: the device signs the version's frozen document and the typed name with the
// person's own Ed25519 key (docs/agreements.md); the server checks the signature before recording it.
import * as e2e from "./e2e.js";
import { failure } from "./messages.js";
import { hideError, showError as showIn } from "./ui.js";

const form = document.querySelector("[data-sign-form]");
const errorBox = form.querySelector("[data-errors]");
const button = form.querySelector("button[type=submit]");

const showError = (problem) => showIn(errorBox, problem);

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  hideError(errorBox);
  const typed = form.elements.typed_name.value.trim();
  if (!typed) {
    showError(failure("sign_name_missing"));
    return;
  }
  button.disabled = true;
  try {
    const keyset = await e2e.loadKeyset();
    const { key_id: keyId, signature } = await e2e.signAgreement(keyset, form.dataset.document, typed);
    form.elements.typed_name.value = typed;
    form.elements.key_id.value = keyId;
    form.elements.signature.value = signature;
    form.submit();
  } catch (error) {
    button.disabled = false;
    showError(error && (typeof error.code === "string" || error.message) ? error : failure("sign_failed"));
  }
});

button.disabled = false; // ready: the page can sign from here on
