// Building elements and showing an error in a page's error box, the same way on every page.
import { wordsOf } from "./messages.js";

export function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

// `problem` is an error (shown in the words its code has, see messages.js) or words already. The box
// takes focus where it can, so that a screen reader reads it at once.
export function showError(box, problem) {
  box.replaceChildren(el("p", {}, typeof problem === "string" ? problem : wordsOf(problem)));
  box.hidden = false;
  box.focus();
}

export function hideError(box) {
  box.hidden = true;
}

// A form sent by script: its button held and `busyText` in the status line while `work` runs; a failure
// clears the status, shows in the error box and gives the button back (success usually reloads the page).
export async function whileSending({ button, status, errorBox, busyText }, work) {
  button.disabled = true;
  status.textContent = busyText;
  try {
    await work();
  } catch (error) {
    status.textContent = "";
    showError(errorBox, error);
    button.disabled = false;
  }
}
