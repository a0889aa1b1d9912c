// Recovery: the code opens the second copy of the person's keys here, in the browser; they are wrapped
// again under a new passphrase. The server checks a key derived from the code, never the code itself.
import * as e2e from "./e2e.js";
import { offerDetails } from "./credentials-card.js";
import { busy, problemsFrom, showProblems } from "./forms.js";
import { postJson } from "./http.js";
import { doing, words, wordsOf } from "./messages.js";

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

// What is missing or unusable in the fields, each beside its own (the code and password fields have no name:
// they are never sent, so they go by their ids).
function fieldProblems(identifier, code, staff, typed) {
  const fields = {};
  if (!identifier) fields.identifier = [words("identifier_missing")];
  if (!code.trim()) fields.id_code = [words("recovery_code_missing")];
  if (staff && typed.length < 12) fields.id_password = [words("password_too_short")];
  return fields;
}

// A code that is not a recovery code's shape belongs to its field; anything else to the whole form.
function problemOf(error) {
  if (error?.code === "recovery_code_form") return { fields: { id_code: [wordsOf(error)] } };
  return { general: [wordsOf(error)] };
}

async function recover(event) {
  event.preventDefault();
  showProblems(form, errors, {});
  const identifier = form.elements.identifier.value.trim().toLowerCase();
  const code = form.querySelector("#id_code").value;
  const staff = identifier.includes("@");
  const typed = form.querySelector("#id_password").value;
  const problems = fieldProblems(identifier, code, staff, typed);
  if (Object.keys(problems).length) {
    showProblems(form, errors, { fields: problems });
    return;
  }
  busy(form, true, doing("checking_recovery_code"));
  try {
    const recovery = await e2e.deriveRecovery(code);
    const first = await postJson(form.action, { identifier, recovery_auth: recovery.authKey }, { scope: form });
    if (!first.ok) {
      busy(form, false);
      showProblems(form, errors, await problemsFrom(first));
      return;
    }
    busy(form, true, doing("locking_keys_again"));
    const found = await first.json();
    const secret = staff ? typed : await newPhrase();
    const fresh = await e2e.deriveSignIn(identifier, secret, form.dataset.installId);
    const { wrapped, keyset } = await e2e.rewrapKeys(recovery.wrapKey, found.recovery_wrapped, fresh.wrapKey, found);
    const finish = { step: "finish", identifier, recovery_auth: recovery.authKey, auth_key: fresh.authKey, wrapped };
    const second = await postJson(form.action, finish, { scope: form });
    if (!second.ok) {
      busy(form, false);
      showProblems(form, errors, await problemsFrom(second));
      return;
    }
    const { next } = await second.json();
    await e2e.clearKeyset();
    await e2e.storeKeyset(keyset);
    busy(form, false);
    form.hidden = true;
    showRecovered(staff ? null : { name: identifier, phrase: secret }, next);
    done.querySelector("h2").focus();
  } catch (error) {
    busy(form, false);
    showProblems(form, errors, problemOf(error));
  }
}

form.addEventListener("submit", recover);
form.querySelector("[data-needs-script]")?.remove();
form.querySelector("button[type=submit]").disabled = false;
