// Small helpers shared by the pages whose forms are sent by script: posting with the CSRF token, and
// showing the server's answer in words the person can act on.
import { csrfToken } from "./http.js";
import { format, ngettext } from "./i18n.js";
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

// The same answer split by field: {fields: {name: [messages]}, general: [messages]}, for `showProblems`.
export async function problemsFrom(response) {
  try {
    const body = await response.json();
    if (body.error) return { fields: {}, general: [body.error] };
    if (body.errors) {
      const { __all__: general = [], ...fields } = body.errors;
      return { fields, general };
    }
  } catch {
    // fall through to the general message
  }
  return { fields: {}, general: [words("server_surprise")] };
}

// --- work that takes a while on this device: keys made or opened, files locked and sent ----------------

// The polite status line of a region: the element its data-status-line names (in the page from the start, so
// that what is put in it is read out), else one made just after it. It stays outside the region, because a
// screen reader may hold back what changes inside a region while that region is aria-busy.
export function statusLineOf(region) {
  const named = region.dataset.statusLine && document.getElementById(region.dataset.statusLine);
  if (named) return named;
  let line = region.nextElementSibling;
  if (!line?.hasAttribute("data-busy-status")) {
    line = el("p", { class: "busy-status", role: "status", "data-busy-status": "" });
    region.after(line);
  }
  return line;
}

// The one way a page shows such work: while `isBusy`, the region is aria-busy, its buttons are held and the
// status line says `text` (call again with new words as the work goes on); after, the region is free again,
// the buttons it held are given back and the status line says `text`, or nothing.
export function busy(region, isBusy, text = "", status = statusLineOf(region)) {
  if (isBusy) region.setAttribute("aria-busy", "true");
  else region.removeAttribute("aria-busy");
  for (const button of region.querySelectorAll("button")) {
    if (isBusy && !button.disabled) {
      button.disabled = true;
      button.dataset.busyHeld = "1";
    } else if (!isBusy && button.dataset.busyHeld) {
      button.disabled = false;
      delete button.dataset.busyHeld;
    }
  }
  status.textContent = text;
}

// --- errors tied to their fields, as the server-rendered forms show them (includes/form.html) ----------

// The widget a field name stands for: the input itself, or the group (fieldset) of its radios or boxes.
function fieldNamed(form, name) {
  const found = form.elements.namedItem(name);
  const grouped = found instanceof RadioNodeList;
  const input = grouped ? found[0] : found;
  if (!input?.id || input.type === "hidden") return null;
  const group = grouped ? input.closest("fieldset") : null;
  if (group && form.contains(group)) return { input, described: group, inputs: [...found] };
  return { input, described: input, inputs: [input] };
}

function nameOf({ input, described }) {
  const label = described === input ? input.labels?.[0] : described.querySelector("legend");
  return (label?.textContent ?? input.name).trim().replace(/[:：]$/, "");
}

function describedIds(node) {
  return (node.getAttribute("aria-describedby") ?? "").split(/\s+/).filter(Boolean);
}

function clearFieldErrors(form) {
  for (const error of form.querySelectorAll("[data-field-error]")) {
    for (const node of form.querySelectorAll(`[aria-describedby~="${CSS.escape(error.id)}"]`)) {
      const rest = describedIds(node).filter((id) => id !== error.id);
      if (rest.length) node.setAttribute("aria-describedby", rest.join(" "));
      else node.removeAttribute("aria-describedby");
    }
    error.closest(".field")?.classList.remove("has-error");
    error.remove();
  }
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

function markField(field, text) {
  const base = field.described === field.input ? field.input.id : field.input.id.replace(/_\d+$/, "");
  const error = el("p", { class: "error", id: `${base}_error`, "data-field-error": "" }, text);
  if (field.described === field.input) field.input.before(error);
  else (field.described.querySelector(".help") ?? field.described.querySelector("legend")).after(error);
  field.described.setAttribute("aria-describedby", [...describedIds(field.described), error.id].join(" "));
  for (const input of field.inputs) input.setAttribute("aria-invalid", "true");
  field.input.closest(".field")?.classList.add("has-error");
}

// The links of an error summary move focus into the field they name, its label or legend scrolled into view.
export function followSummaryLinks(summary) {
  if (summary.dataset.following) return;
  summary.dataset.following = "1";
  summary.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    const input = link && document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!input) return;
    event.preventDefault();
    const label = input.closest("fieldset")?.querySelector("legend") ?? input.labels?.[0] ?? input;
    label.scrollIntoView();
    input.focus({ preventScroll: true });
  });
}

// Shows the server's problems as the server-rendered forms do: each message beside its field (tied to it by
// aria-describedby, the field marked aria-invalid), and a summary in `box` that says how many things to fix,
// links each to its field, and takes focus. `showProblems(form, box, {})` clears them all.
export function showProblems(form, box, { fields = {}, general = [] }) {
  clearFieldErrors(form);
  const items = general.length ? [el("li", {}, general.join(" "))] : [];
  for (const [name, messages] of Object.entries(fields)) {
    const text = messages.join(" ");
    const field = fieldNamed(form, name);
    if (!field) {
      items.push(el("li", {}, text));
      continue;
    }
    markField(field, text);
    const item = el("li");
    const label = nameOf(field);
    item.append(el("a", { href: `#${field.input.id}` }, `${label}${/[?:.!]$/.test(label) ? "" : ":"} ${text}`));
    items.push(item);
  }
  const count = items.length;
  const heading = ngettext("There is %(counter)s thing to fix", "There are %(counter)s things to fix", count);
  const list = el("ul");
  list.append(...items);
  box.replaceChildren(...(count ? [el("h2", {}, format(heading, { counter: count })), list] : []));
  box.hidden = count === 0;
  followSummaryLinks(box);
  if (count) box.focus();
}
