// Sign-in details shown once (after joining, or a new phrase after recovery): a copy button for each, a card
// that prints alone (mend.css, @media print) and a plain check of one word of the phrase before going on,
// so that nobody leaves the page without having kept what they need to come back.
import { gettext } from "./i18n.js";

// Which word to ask for is chosen at random; the question says it in words, one whole sentence each.
const ASK_FOR_WORD = [
  gettext("Type the first word of your phrase"),
  gettext("Type the second word of your phrase"),
  gettext("Type the third word of your phrase"),
  gettext("Type the fourth word of your phrase"),
  gettext("Type the fifth word of your phrase"),
  gettext("Type the sixth word of your phrase"),
];

// Case and spaces are forgiven, as at sign-in.
export function sameWord(typed, word) {
  const plain = (text) => String(text).toLowerCase().replace(/[\s\-_.,]+/g, "");
  return plain(typed) !== "" && plain(typed) === plain(word);
}

// A live status line reads the same words again only if they change: empty it first.
function say(status, text) {
  status.textContent = "";
  setTimeout(() => {
    status.textContent = text;
  }, 50);
}

function selectText(node) {
  const range = document.createRange();
  range.selectNodeContents(node);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

async function copy(button, status) {
  const source = document.getElementById(button.dataset.copy);
  const text = source.textContent.trim();
  try {
    if (!navigator.clipboard) throw new Error("no clipboard");
    await navigator.clipboard.writeText(text);
    say(status, button.dataset.copied);
  } catch {
    selectText(source);
    say(
      status,
      gettext(
        "This browser did not let us copy it, so we have selected it for you. Press Ctrl and C together (Command and C on a Mac), or touch and hold it and choose Copy.",
      ),
    );
  }
}

function wireCheck(section, phrase, next) {
  const check = section.querySelector("form[data-check]");
  const input = check.querySelector("input");
  const message = check.querySelector("[data-check-message]");
  const go = check.querySelector("[data-continue]");
  const index = Math.floor(Math.random() * 6);
  const word = phrase.split(/\s+/)[index];
  check.querySelector("label").textContent = ASK_FOR_WORD[index];
  input.dataset.word = String(index + 1); // which word is asked for, for the browser tests
  const right = () => sameWord(input.value, word);
  const kindly = () => {
    if (input.value.trim() && !right()) {
      message.textContent = gettext(
        "That is not the word we have. That is all right: show your details again, find the word, and type it here.",
      );
    }
  };
  input.addEventListener("input", () => {
    go.disabled = !right();
    message.textContent = right() ? gettext("That is right. You can go on.") : "";
  });
  input.addEventListener("change", kindly);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !right()) {
      event.preventDefault();
      kindly();
    }
  });
  check.addEventListener("submit", (event) => {
    event.preventDefault();
    if (right()) window.location.assign(next);
  });
}

// Shows one of the two steps: the details (with copy and print), or the check (the details out of sight).
function show(section, step) {
  const details = section.querySelector("[data-details]");
  const card = section.querySelector("[data-credentials-card]");
  const check = section.querySelector("form[data-check]");
  details.hidden = step !== "details";
  card.hidden = step !== "details"; // the print stylesheet prints the card alone while it is shown
  check.hidden = step !== "check";
  if (step === "check") check.querySelector("input").focus();
}

// `section` holds [data-details] (the card, the copy and print buttons, and [data-kept]) and
// form[data-check]; `next` is where Continue goes once the word matches.
export function offerDetails(section, { phrase, next }) {
  const status = section.querySelector("[data-copy-status]");
  for (const button of section.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", () => copy(button, status));
  }
  section.querySelector("button[data-print]").addEventListener("click", () => window.print());
  section.querySelector("button[data-kept]").addEventListener("click", () => show(section, "check"));
  section.querySelector("button[data-show-again]").addEventListener("click", () => {
    show(section, "details");
    section.querySelector("[data-credentials-card] [tabindex='-1']").focus();
  });
  wireCheck(section, phrase, next);
  show(section, "details");
}
