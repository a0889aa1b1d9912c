// Joining a case: the browser makes the sign-in phrase and the person's keys, sends the derived
// sign-in key and the wrapped keys, and shows the phrase and recovery code once. Neither leaves here.
import * as e2e from "./e2e.js";
import { offerDetails } from "./credentials-card.js";
import { busy, postForm, problemsFrom, showProblems } from "./forms.js";
import { doing, wordsOf } from "./messages.js";

const PHRASE_WORDS = 6; // the EFF long list: about 77 bits

const form = document.querySelector("form[data-join]");
const errors = document.querySelector("[data-errors]");
const welcome = document.querySelector("[data-welcome]");

// Uniform choice without modulo bias: draws above the largest multiple of the list's length are redrawn.
function randomIndex(length) {
  const limit = Math.floor(2 ** 32 / length) * length;
  const draw = new Uint32Array(1);
  do crypto.getRandomValues(draw);
  while (draw[0] >= limit);
  return draw[0] % length;
}

async function newPhrase() {
  const words = await (await fetch(form.dataset.wordsUrl, { credentials: "same-origin" })).json();
  return Array.from({ length: PHRASE_WORDS }, () => words[randomIndex(words.length)]).join(" ");
}

async function credentials(name) {
  const phrase = await newPhrase();
  const { authKey, wrapKey } = await e2e.deriveSignIn(name, phrase, form.dataset.installId);
  const { bundle, code, unlock } = await e2e.newKeyBundle(wrapKey);
  return { phrase, code, authKey, keys: bundle, unlock };
}

function showWelcome(name, phrase, code, next) {
  document.querySelector("[data-join-intro]").hidden = true;
  form.hidden = true;
  welcome.querySelector("[data-name]").textContent = name;
  welcome.querySelector("[data-phrase]").textContent = phrase;
  welcome.querySelector("[data-recovery-code]").textContent = code;
  offerDetails(welcome, { phrase, next });
  welcome.hidden = false;
  welcome.querySelector("h1").focus();
}

async function join(event) {
  event.preventDefault();
  showProblems(form, errors, {});
  busy(form, true, doing("making_keys"));
  try {
    const made = await credentials(form.dataset.signInName);
    const fields = Object.fromEntries(new FormData(form));
    const answer = await postForm(form.action, form, {
      ...fields,
      auth_key: made.authKey,
      keys: JSON.stringify(made.keys),
    });
    if (!answer.ok) {
      // Each message beside its field, the field marked invalid, and a summary that takes focus.
      busy(form, false);
      showProblems(form, errors, await problemsFrom(answer));
      return;
    }
    const { sign_in_name: name, next } = await answer.json();
    await e2e.clearKeyset();
    await e2e.storeKeyset(await made.unlock());
    busy(form, false);
    showWelcome(name, made.phrase, made.code, next);
  } catch (error) {
    busy(form, false);
    showProblems(form, errors, { general: [wordsOf(error)] });
  }
}

form.addEventListener("submit", join);
form.querySelector("[data-needs-script]")?.remove();
form.querySelector("button[type=submit]").disabled = false;
