// Recovery: the code opens the second copy of the person's keys here, in the browser; they are wrapped
// again under a new passphrase. The server checks a key derived from the code, never the code itself.
import * as e2e from "./e2e.js";
import { offerDetails } from "./credentials-card.js";
import { busy, messagesFrom, showErrors } from "./forms.js";
import { postJson } from "./http.js";
import { words, wordsOf } from "./messages.js";
import { gettext } from "./i18n.js";

const form = document.querySelector("form[data-recover]");
const errors = document.querySelector("[data-errors]");
const done = document.querySelector("[data-recovered]");

async function newPhrase() {
  const words = await (await fetch(form.dataset.wordsUrl, { credentials: "same-origin" })).json();
  const pick = new Uint32Array(6);
  const limit = Math.floor(2 ** 32 / words.length) * words.length;
  const chosen = [];
  while (chosen.length < 6) {
    crypto.getRandomValues(pick);
    for (const n of pick) if (n < limit && chosen.length < 6) chosen.push(words[n % words.length]);
  }
  return chosen.join(" ");
}

// Staff set their own password: they go on. A participant gets a new phrase, offered like the one made when
// they joined (copy, print, a check of one word).
function showRecovered(participant, next) {
  if (participant) {
    done.querySelector("[data-name]").textContent = participant.name;
    done.querySelector("[data-phrase]").textContent = participant.phrase;
    offerDetails(done, { phrase: participant.phrase, next });
  } else {
    done.querySelector("[data-continue-link]").href = next;
    done.querySelector("[data-staff-next]").hidden = false;
  }
  done.hidden = false;
}

async function recover(event) {
  event.preventDefault();
  showErrors(errors, []);
  const identifier = form.elements.identifier.value.trim().toLowerCase();
  const code = form.querySelector("#id_code").value;
  const staff = identifier.includes("@");
  const typed = form.querySelector("#id_password").value;
  if (!identifier || !code.trim()) {
    showErrors(errors, [words("recover_fields_missing")]);
    return;
  }
  if (staff && typed.length < 12) {
    showErrors(errors, [words("password_too_short")]);
    return;
  }
  busy(form, true, gettext("Checking…"));
  try {
    const recovery = await e2e.deriveRecovery(code);
    const first = await postJson(form.action, { identifier, recovery_auth: recovery.authKey }, { scope: form });
    if (!first.ok) {
      showErrors(errors, await messagesFrom(first));
      return;
    }
    const found = await first.json();
    const secret = staff ? typed : await newPhrase();
    const fresh = await e2e.deriveSignIn(identifier, secret, form.dataset.installId);
    const { wrapped, keyset } = await e2e.rewrapKeys(recovery.wrapKey, found.recovery_wrapped, fresh.wrapKey, found);
    const finish = { step: "finish", identifier, recovery_auth: recovery.authKey, auth_key: fresh.authKey, wrapped };
    const second = await postJson(form.action, finish, { scope: form });
    if (!second.ok) {
      showErrors(errors, await messagesFrom(second));
      return;
    }
    const { next } = await second.json();
    await e2e.clearKeyset();
    await e2e.storeKeyset(keyset);
    form.hidden = true;
    showRecovered(staff ? null : { name: identifier, phrase: secret }, next);
    done.querySelector("h2").focus();
  } catch (error) {
    showErrors(errors, [wordsOf(error)]);
  } finally {
    busy(form, false);
  }
}

form.addEventListener("submit", recover);
form.querySelector("[data-needs-script]")?.remove();
form.querySelector("button[type=submit]").disabled = false;
