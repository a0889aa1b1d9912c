// Talking to the server from a page: the CSRF token, JSON read and sent, and the server's refusal turned
// into an error the page can show (the server's own words, or ours for `fallback` when it gave none).
import { failure } from "./messages.js";

// The token from the form (or page) that holds one, else the one the page's body carries. The CSRF cookie
// is HttpOnly, so script cannot read it. A form's token can be newer than the page's: signing in gives
// the session a new one, and the sign-in page puts it into its form.
export function csrfToken(scope = document) {
  const input = scope.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : document.body.dataset.csrf || "";
}

// The server's words when it gave some, else the table's for `fallback`.
export function refusal(serverWords, fallback = "request_failed") {
  return serverWords ? new Error(serverWords) : failure(fallback);
}

export async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw refusal(body.error);
  return body;
}

// Sends `data` as JSON with the CSRF token of `scope` (a form, or the page) and answers the response.
export async function postJson(url, data, { method = "POST", scope = document } = {}) {
  return fetch(url, {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken(scope) },
    body: JSON.stringify(data),
  });
}

// The same, answering the server's JSON; a refusal throws, in the server's words if it had any.
export async function sendJson(url, data, { fallback = "request_failed", ...options } = {}) {
  const response = await postJson(url, data, options);
  const answer = await response.json();
  if (!response.ok) throw refusal(answer.error, fallback);
  return answer;
}
