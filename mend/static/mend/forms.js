// Small helpers shared by the pages whose forms are sent by script: posting with the CSRF token, and
// showing the server's answer in words the person can act on.

export function csrfToken(form) {
  const input = form.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

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

export async function postJson(url, form, data) {
  return fetch(url, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken(form) },
    body: JSON.stringify(data),
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
  return ["Something went wrong on our side. Please try again in a moment."];
}

export function showErrors(box, messages) {
  box.replaceChildren(
    ...messages.map((text) => {
      const p = document.createElement("p");
      p.textContent = text;
      return p;
    }),
  );
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
