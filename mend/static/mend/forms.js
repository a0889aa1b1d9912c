// Small helpers shared by the pages whose forms are sent by script: posting with the CSRF token, and
// showing the server's answer in words the person can act on.
import { csrfToken } from "./http.js";
import { words } from "./messages.js";
import { el } from "./ui.js";

export async function postForm(url, form, fields) {
  const body = new URLSearchParams(fields);
  body.set("csrfmiddlewaretoken", csrfToken(form));
  return fetch(url, {
    method: "POST",
    headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) },
    body,
    credentials: "same-origin",
  });
}

// The server answers {errors: {field: [messages]}} or {error: message}; anything else is a surprise.
export async function messagesFrom(response) {
  try {
    const body = await response.json();
    if (body.error) return [body.error];
    if (body.errors) return Object.values(body.errors).flat();
  } catch {
    // fall through to the general message
  }
  return [words("server_surprise")];
}

export function showErrors(box, messages) {
  box.replaceChildren(...messages.map((text) => el("p", {}, text)));
  box.hidden = messages.length === 0;
  if (messages.length) box.focus();
}

export function busy(form, isBusy, label) {
  const button = form.querySelector("button[type=submit]");
  if (!button) return;
  if (!button.dataset.label) button.dataset.label = button.textContent;
  button.disabled = isBusy;
  button.textContent = isBusy ? label : button.dataset.label;
}
