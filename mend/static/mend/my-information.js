// "Download my information": the server sends what it holds about the person, with their messages still
// encrypted; this page opens each message with the keys unlocked on this device, checks who sent it, and
// hands the whole as one JSON file to the browser's downloads. Nothing opened here goes back to the server.
import * as e2e from "./e2e.js";
import { format, gettext, ngettext } from "./i18n.js";
import { failure } from "./messages.js";
import { hideError, showError as showIn } from "./ui.js";

const root = document.querySelector("[data-my-information]");
const button = root.querySelector("[data-download]");
const status = root.querySelector("[data-status]");
const errorBox = root.querySelector("[data-errors]");

const KINDS = {
  message: gettext("message"),
  for_relay: gettext("written for the other side, through the facilitator"),
  relayed: gettext("passed on by the facilitator"),
  returned: gettext("returned by the facilitator"),
};

const showError = (problem) => showIn(errorBox, problem);

async function opened(frame, keyset) {
  const message = {
    at: frame.at,
    from: frame.from.name,
    kind: KINDS[frame.kind] || frame.kind,
    relay_state: frame.relay_state || undefined,
  };
  if (!keyset) return { ...message, problem: gettext("Not unlocked: this device had no keys when the file was made.") };
  const { content, problem } = await e2e.openFrame(frame, keyset);
  if (problem) return { ...message, problem };
  const { files, ...rest } = content;
  // A file's name, type and size; never its key: the files themselves stay in the conversation.
  const named = (files || []).map(({ name, type, size }) => ({ name, type, size }));
  return { ...message, ...rest, ...(named.length ? { files: named } : {}) };
}

async function build(data, keyset) {
  let total = 0;
  let unlocked = 0;
  for (const conversation of data.conversations) {
    const messages = [];
    for (const frame of conversation.messages) {
      const message = await opened(frame, keyset);
      total += 1;
      if (!message.problem) unlocked += 1;
      messages.push(message);
    }
    conversation.messages = messages;
  }
  data.messages_unlocked_on = keyset ? gettext("this device") : null;
  return { data, total, unlocked };
}

function save(data) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = `mend-my-information-${root.dataset.reference}.json`;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

async function download() {
  hideError(errorBox);
  button.disabled = true;
  status.textContent = gettext("Getting your information ready…");
  try {
    const response = await fetch(root.dataset.url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw failure("information_not_fetched");
    const keyset = await e2e.loadKeyset();
    const { data, total, unlocked } = await build(await response.json(), keyset);
    save(data);
    if (!keyset && total) {
      status.textContent = gettext(
        "Your file is ready, but your messages could not be unlocked on this device, so they are not in it in words. " +
          "Sign out, sign in again, and download once more to include them.",
      );
    } else if (unlocked < total) {
      status.textContent = format(
        ngettext(
          "Your file is ready. %(unlocked)s of %(total)s message was unlocked; the file says why for the others.",
          "Your file is ready. %(unlocked)s of %(total)s messages were unlocked; the file says why for the others.",
          total,
        ),
        { unlocked, total },
      );
    } else {
      status.textContent = format(
        ngettext(
          "Your file is ready, with %(total)s message. Look for it in your downloads.",
          "Your file is ready, with %(total)s messages. Look for it in your downloads.",
          total,
        ),
        { total },
      );
    }
    status.dataset.state = "ready";
  } catch (error) {
    status.textContent = "";
    showError(error);
  } finally {
    button.disabled = false;
  }
}

button.addEventListener("click", download);
// The button comes disabled until this script is ready for it, so a press made while the page is still
// loading is not lost.
button.disabled = false;
