// One conversation: messages are unlocked here and sealed here; sending goes through an outbox that
// survives a reload, each message keeps its id across retries, and after any break the page resumes from
// the last sequence number it saw. The server only ever gets envelopes.
import * as e2e from "./e2e.js";

const root = document.querySelector("[data-conversation]");
const conversationId = root.dataset.conversation;
const me = Number(root.dataset.me);
const isFacilitator = root.dataset.facilitator === "1";
const sendsReadReceipts = root.dataset.receipts === "1";
const writeKind = root.dataset.kind;
const list = root.querySelector("[data-messages]");
const empty = root.querySelector("[data-empty]");
const composer = root.querySelector("[data-composer]");
const errorBox = root.querySelector("[data-errors]");
const warnings = root.querySelector("[data-key-warnings]");
const connection = root.querySelector("[data-connection]");
const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
const targets = JSON.parse(root.dataset.targets || "[]");

const rendered = new Map(); // message id -> {item, frame, content, status, problem}
let lastSeq = 0;
let socket = null;
let keyset = null;
let members = [];
let retryDelay = 1000;
const resealed = new Set();

// --- small helpers ------------------------------------------------------------------------------------

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function showError(text) {
  errorBox.replaceChildren(el("p", {}, text));
  errorBox.hidden = false;
  errorBox.focus();
}

function setConnection(text, state) {
  connection.textContent = text;
  connection.dataset.state = state;
}

async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || "Something went wrong. Please try again.");
  return body;
}

// --- the outbox: sealed envelopes waiting for the server's acknowledgment, kept in IndexedDB ----------

function outboxDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("mend-outbox", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("outbox", { keyPath: "id" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function outbox(mode, action) {
  const db = await outboxDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction("outbox", mode);
      const request = action(tx.objectStore("outbox"));
      tx.oncomplete = () => resolve(request ? request.result : undefined);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

const outboxPut = (item) => outbox("readwrite", (store) => store.put(item));
const outboxDelete = (id) => outbox("readwrite", (store) => store.delete(id));
// Only this person's envelopes for this conversation: someone else signed in on the same device later
// must never send what another person sealed.
const outboxMine = async () =>
  ((await outbox("readonly", (store) => store.getAll())) || []).filter(
    (item) => item.conversation === conversationId && item.user === me,
  );

// --- keys, members and safety codes -------------------------------------------------------------------

async function checkPins(people) {
  const changed = [];
  for (const person of people) {
    if (!person.key_id || person.user === me) continue;
    if ((await e2e.pinCheck(`user:${person.user}`, person.key_id)) === "changed") changed.push(person);
  }
  warnings.replaceChildren(
    ...changed.map((person) => {
      const p = el(
        "p",
        { "data-key-changed": person.user },
        `${person.name}'s keys have changed since you last saw them. Before you send anything private, ` +
          `compare their safety code (${person.safety_code}) with the one on their screen.`,
      );
      const button = el("button", { type: "button", class: "secondary" }, "I have checked it");
      button.addEventListener("click", async () => {
        await e2e.pinAccept(`user:${person.user}`, person.key_id);
        p.remove();
        warnings.hidden = !warnings.children.length;
      });
      p.append(" ", button);
      return p;
    }),
  );
  warnings.hidden = changed.length === 0;
}

// Safety codes are worked out here from the public keys the server hands out, so that what two people
// compare is what their own browsers will encrypt to, not a label the server could change.
async function showSafetyCodes(people) {
  const mine = root.ownerDocument.querySelector("[data-my-safety-code]");
  if (mine && keyset) {
    const own = await e2e.safetyCodeOf(keyset.encPublic, keyset.signPublic);
    mine.textContent = own;
    const listed = people.find((person) => person.user === me);
    if (listed && listed.key_id !== keyset.keyId) {
      showError(
        "The keys on this device are not your current keys. Sign out, then sign in again before you send anything.",
      );
    }
  }
  for (const person of people) {
    const code = root.ownerDocument.querySelector(`[data-safety-code][data-user="${person.user}"]`);
    if (!code || !person.enc_public || !person.sign_public) continue;
    const enc = e2e.unb64u(person.enc_public, 32, "public key");
    const sign = e2e.unb64u(person.sign_public, 32, "public key");
    const computed = await e2e.safetyCodeOf(enc, sign);
    code.textContent = computed;
    code.dataset.checked = (await e2e.keyIdOf(enc, sign)) === person.key_id ? "1" : "0";
  }
}

function recipientsOf(people) {
  return people.filter((p) => p.key_id).map((p) => ({ key_id: p.key_id, enc_public: p.enc_public }));
}

async function takeMembers(people) {
  members = people;
  await checkPins(members);
  await showSafetyCodes(members);
}

async function refreshMembers() {
  const answer = await getJson(`${root.dataset.membersUrl}?kind=${writeKind}`);
  await takeMembers(answer.members);
  return answer;
}

// --- showing messages -------------------------------------------------------------------------------

const STATUS_WORDS = {
  sending: "Sending…",
  sent: "Sent",
  delivered: "Delivered",
  read: "Read",
  pending: "Waiting for your facilitator to review",
  returned: "Returned to you with a note",
  forwarded: "Passed on",
};

// What a facilitator sees on a message written for the other side.
const FACILITATOR_RELAY_WORDS = {
  pending: "Waiting for your review",
  returned: "Returned with a note",
  forwarded: "Passed on",
};

function statusOf(entry) {
  const frame = entry.frame;
  if (entry.status === "sending") return STATUS_WORDS.sending;
  if (frame.kind === "for_relay" && frame.relay_state) {
    if (isFacilitator) return FACILITATOR_RELAY_WORDS[frame.relay_state] || "";
    return STATUS_WORDS[frame.relay_state] || "";
  }
  return STATUS_WORDS[entry.status] || "";
}

function labelOf(frame) {
  if (frame.kind === "relayed") return "Relayed by your facilitator";
  if (frame.kind === "returned") return "Returned with a note";
  if (frame.kind === "for_relay") return frame.approved ? "For the other side" : "For the facilitator only";
  return "";
}

function fileButton(file) {
  const size = `${Math.max(1, Math.ceil(file.size / 1024))} KB`;
  const button = el("button", { type: "button", class: "link", "data-file": file.id }, `${file.name} (${size})`);
  button.addEventListener("click", async () => {
    try {
      const response = await fetch(`${root.dataset.downloadUrl}${file.id}/`, { credentials: "same-origin" });
      if (!response.ok) throw new Error("This file could not be fetched. Please try again.");
      const ciphertext = new Uint8Array(await response.arrayBuffer());
      const plain = await e2e.decryptFile(ciphertext, { conversation: conversationId, entry: file });
      const url = URL.createObjectURL(new Blob([plain], { type: file.type }));
      const link = el("a", { href: url, download: file.name });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (error) {
      showError(error.message);
    }
  });
  return button;
}

// What a returned note or a passed-on copy refers to, when this page has it.
function refNote(frame) {
  if (!frame.ref) return null;
  const referred = rendered.get(frame.ref);
  if (!referred || !referred.content || !referred.content.text) return null;
  const text = referred.content.text;
  const quote = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  const note = el("p", { class: "ref" }, "About: ");
  note.append(el("q", {}, quote));
  return note;
}

function draw(entry) {
  const { frame, content } = entry;
  const mine = frame.from.user === me;
  const item = entry.item || el("li", { class: `message ${mine ? "mine" : "theirs"}` });
  item.dataset.id = frame.id;
  if (frame.seq) item.dataset.seq = frame.seq;
  item.dataset.kind = frame.kind;
  const meta = el("p", { class: "meta" });
  meta.append(el("strong", {}, mine ? "You" : frame.from.name || ""));
  const label = labelOf(frame);
  if (label) meta.append(" ", el("span", { class: `marker marker-${frame.kind}`, "data-marker": frame.kind }, label));
  if (frame.at) meta.append(" ", el("time", { datetime: frame.at }, new Date(frame.at).toLocaleString()));
  const children = [meta];
  const ref = refNote(frame);
  if (ref) children.push(ref);
  if (entry.problem) children.push(el("p", { class: "error" }, entry.problem));
  if (content) {
    children.push(el("p", { class: "text", "data-text": "" }, content.text || ""));
    if ((content.files || []).length) {
      const files = el("ul", { class: "files" });
      for (const file of content.files) {
        const row = el("li");
        row.append(fileButton(file));
        files.append(row);
      }
      children.push(files);
    }
  }
  if (mine || (isFacilitator && frame.kind === "for_relay")) {
    const status = statusOf(entry);
    children.push(el("p", { class: `status status-${entry.status || "none"}`, "data-status": "" }, status));
  }
  if (isFacilitator && frame.kind === "for_relay" && frame.relay_state === "pending" && !mine && content) {
    children.push(relayActions(entry));
  }
  item.replaceChildren(...children);
  if (!entry.item) {
    entry.item = item;
    place(item);
  }
  empty.hidden = list.children.length > 0;
}

// Kept in sequence order; messages not yet stored (no sequence) stay at the end.
function place(item) {
  const seq = Number(item.dataset.seq || Infinity);
  const after = [...list.children].find((other) => other !== item && Number(other.dataset.seq || Infinity) > seq);
  list.insertBefore(item, after || null);
}

async function unlock(frame) {
  const from = frame.from;
  if (!from.sign_public || !from.enc_public) return { problem: "This message's sender has no known keys." };
  const keyId = await e2e.keyIdOf(e2e.unb64u(from.enc_public), e2e.unb64u(from.sign_public));
  if (keyId !== frame.envelope.sender || !(await e2e.verify(frame.envelope, from.sign_public))) {
    return { problem: "This message could not be checked as coming from its sender, so it is not shown." };
  }
  if (from.user !== me && (await e2e.pinCheck(`user:${from.user}`, keyId)) === "changed") {
    await checkPins([{ user: from.user, key_id: keyId, name: from.name, safety_code: "" }]);
  }
  try {
    return { content: await e2e.open(frame.envelope, keyset) };
  } catch (error) {
    return { problem: error.message };
  }
}

function sendFrame(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function sendReadReceipt(frame) {
  if (sendsReadReceipts && document.visibilityState === "visible") {
    sendFrame({ type: "receipt", id: frame.id, kind: "read" });
  }
}

async function receiveMessage(frame) {
  lastSeq = Math.max(lastSeq, frame.seq);
  const known = rendered.get(frame.id);
  if (known && known.frame.seq) return; // already shown: each message once, however often it comes
  const { content, problem } = await unlock(frame);
  const entry = known || {};
  const status = !entry.status || entry.status === "sending" ? "sent" : entry.status;
  Object.assign(entry, { frame, content: content || entry.content, problem, status });
  rendered.set(frame.id, entry);
  if (entry.item) entry.item.dataset.seq = frame.seq;
  draw(entry);
  if (known) place(entry.item);
  if (frame.from.user !== me) {
    sendFrame({ type: "receipt", id: frame.id, kind: "delivered" });
    sendReadReceipt(frame);
  } else {
    await outboxDelete(frame.id);
  }
}

// --- sending -----------------------------------------------------------------------------------------

async function uploadFiles(files) {
  const entries = [];
  for (const file of files) {
    if (file.size > 10 * 1024 * 1024) throw new Error(`${file.name} is larger than 10 MB. Try a smaller file.`);
    if (!(file.type.startsWith("image/") || file.type === "application/pdf")) {
      throw new Error(`${file.name} is not a picture or a PDF.`);
    }
    const { ciphertext, entry } = await e2e.encryptFile(new Uint8Array(await file.arrayBuffer()), {
      conversation: conversationId,
    });
    const response = await fetch(root.dataset.uploadUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "X-File-Id": entry.id, "Content-Type": "application/octet-stream" },
      body: ciphertext,
    });
    if (!response.ok) throw new Error((await response.json()).error || "The file could not be sent.");
    entries.push({ ...entry, name: file.name, type: file.type, size: file.size });
  }
  return entries;
}

async function sealAndQueue(content, meta, id) {
  const envelope = await e2e.seal({
    sender: keyset,
    conversation: conversationId,
    content,
    recipients: recipientsOf(members),
    meta,
    id,
  });
  // Kept before it is sent: if the page closes now, the next visit sends it, with the same id.
  await outboxPut({ id: envelope.id, conversation: conversationId, user: me, envelope });
  const frame = { id: envelope.id, kind: meta.kind, approved: !!meta.approved, relay_state: "", ref: meta.ref, from: { user: me }, envelope };
  const entry = rendered.get(envelope.id) || { frame };
  Object.assign(entry, { frame: entry.frame.seq ? entry.frame : frame, content, status: "sending", problem: "" });
  rendered.set(envelope.id, entry);
  draw(entry);
  sendFrame({ type: "send", envelope });
}

async function onAck(frame) {
  await outboxDelete(frame.id);
  const entry = rendered.get(frame.id);
  if (entry) {
    if (entry.status === "sending") entry.status = "sent";
    if (entry.frame.kind === "for_relay" && !entry.frame.relay_state) entry.frame.relay_state = "pending";
    draw(entry);
  }
}

async function onRefused(frame) {
  const entry = rendered.get(frame.id);
  // The people or their keys changed between sealing and sending: seal again for those there now.
  if ((frame.code === "recipients" || frame.code === "sender_key") && entry && entry.content && !resealed.has(frame.id)) {
    resealed.add(frame.id);
    await refreshMembers();
    await sealAndQueue(entry.content, entry.frame.envelope.meta, frame.id);
    return;
  }
  await outboxDelete(frame.id);
  if (entry) {
    entry.problem = `Not sent: ${frame.error}`;
    entry.status = "";
    draw(entry);
  } else {
    showError(frame.error);
  }
}

function onReceipt(frame) {
  const entry = rendered.get(frame.id);
  if (!entry || entry.frame.from.user !== me || frame.user === me) return;
  if (frame.kind === "read" || entry.status !== "read") entry.status = frame.kind;
  draw(entry);
}

function onState(frame) {
  const entry = rendered.get(frame.id);
  if (!entry) return;
  entry.frame.relay_state = frame.relay_state;
  draw(entry);
}

// --- the facilitator's relay actions -------------------------------------------------------------------

function relayActions(entry) {
  const box = el("div", { class: "relay-actions", "data-relay-actions": "" });
  const noteId = `note-${entry.frame.id}`;
  const label = el("label", { for: noteId }, "A note for the writer");
  const note = el("textarea", { id: noteId, rows: "2", maxlength: "20000", "data-return-note": "" });
  const buttons = el("div", { class: "actions" });
  const back = el("button", { type: "button", class: "secondary", "data-return": "" }, "Return with this note");
  back.addEventListener("click", async () => {
    if (!note.value.trim()) {
      showError("Write a short note saying what to change before you return it.");
      note.focus();
      return;
    }
    back.disabled = true;
    try {
      await sealAndQueue({ text: note.value.trim() }, { kind: "returned", ref: entry.frame.id });
    } catch (error) {
      back.disabled = false;
      showError(error.message);
    }
  });
  buttons.append(back);
  if (entry.frame.approved) {
    for (const target of targets) {
      const forward = el("button", { type: "button", "data-forward": target.id }, `Pass on to ${target.name}`);
      forward.addEventListener("click", async () => {
        forward.disabled = true;
        try {
          await passOn(entry, target);
        } catch (error) {
          forward.disabled = false;
          showError(error.message);
        }
      });
      buttons.append(forward);
    }
  }
  box.append(label, note, buttons);
  if (!entry.frame.approved) {
    box.append(el("p", { class: "help" }, "The writer has not agreed to have this one passed on. You can return it with a note."));
  }
  return box;
}

async function passOn(entry, target) {
  // Sealed again for the other side's exchange, with the text exactly as the writer approved it; the
  // server says first whether it may go now (it is held while the other person takes a break).
  const base = root.dataset.sendBase;
  const state = await getJson(`${base}${target.id}/members/?kind=relayed&ref=${encodeURIComponent(entry.frame.id)}`);
  if (!state.can_write) throw new Error(state.why);
  const envelope = await e2e.seal({
    sender: keyset,
    conversation: target.id,
    content: { text: entry.content.text },
    recipients: recipientsOf(state.members),
    meta: { kind: "relayed", ref: entry.frame.id },
  });
  const response = await fetch(`${base}${target.id}/send/`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify(envelope),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || "It could not be passed on. Please try again.");
  entry.frame.relay_state = "forwarded";
  draw(entry);
}

// --- the connection --------------------------------------------------------------------------------

// What is waiting in the outbox is shown at once, even before the server can be reached.
async function showOutbox() {
  for (const item of await outboxMine()) {
    if (rendered.has(item.id)) continue;
    let content = null;
    try {
      content = await e2e.open(item.envelope, keyset);
    } catch {
      // sealed under keys no longer held here: it can still be sent as it is
    }
    const meta = item.envelope.meta;
    const frame = { id: item.id, kind: meta.kind, approved: !!meta.approved, relay_state: "", ref: meta.ref, from: { user: me }, envelope: item.envelope };
    const entry = { frame, content, status: "sending" };
    rendered.set(item.id, entry);
    draw(entry);
  }
}

async function flushOutbox() {
  await showOutbox();
  for (const item of await outboxMine()) sendFrame({ type: "send", envelope: item.envelope });
}

const HANDLERS = {
  message: receiveMessage,
  ack: onAck,
  refused: onRefused,
  receipt: onReceipt,
  state: onState,
  ready: () => {
    setConnection("Connected. Messages are locked on this device before they are sent.", "connected");
    retryDelay = 1000;
    return flushOutbox();
  },
  members: (frame) => takeMembers(frame.members),
  error: (frame) => showError(frame.error),
};

// Frames are handled one at a time, in the order they came, so that sequence and state stay consistent.
let queue = Promise.resolve();

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${window.location.host}/ws/conversations/${conversationId}/`);
  socket.addEventListener("open", () => {
    socket.send(JSON.stringify({ type: "hello", after: lastSeq }));
    socket.send(JSON.stringify({ type: "members", kind: writeKind }));
  });
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    const handler = HANDLERS[frame.type];
    if (handler) queue = queue.then(() => handler(frame)).catch((error) => showError(error.message));
  });
  socket.addEventListener("close", (event) => {
    if (event.code === 4404) {
      setConnection("This conversation is closed to you now.", "closed");
      if (composer) composer.hidden = true;
      return;
    }
    setConnection("Not connected. Trying again… Messages you send wait here until then.", "offline");
    // A refused handshake looks like a dropped line to the browser: ask the page's own address whether
    // this person still belongs here before trying again.
    fetch(root.dataset.membersUrl, { credentials: "same-origin" })
      .then((answer) => {
        if (answer.status === 404 || answer.redirected) {
          setConnection("This conversation is closed to you now.", "closed");
          if (composer) composer.hidden = true;
        } else {
          setTimeout(connect, retryDelay);
        }
      })
      .catch(() => setTimeout(connect, retryDelay));
    retryDelay = Math.min(retryDelay * 2, 10000);
  });
}

async function onSubmit(event) {
  event.preventDefault();
  errorBox.hidden = true;
  const draft = composer.querySelector("[data-draft]");
  const fileInput = composer.querySelector("[data-files]");
  const text = draft.value.trim();
  const files = fileInput ? [...fileInput.files] : [];
  if (!text && !files.length) {
    showError("Write a message or add a file first.");
    draft.focus();
    return;
  }
  const button = composer.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const entries = await uploadFiles(files);
    const meta = { kind: writeKind };
    if (writeKind === "for_relay") meta.approved = composer.querySelector("[data-approved]").checked;
    if (entries.length) meta.files = entries.map((e) => e.id);
    await sealAndQueue(entries.length ? { text, files: entries } : { text }, meta);
    draft.value = "";
    if (fileInput) fileInput.value = "";
    draft.dispatchEvent(new Event("input"));
  } catch (error) {
    showError(error.message);
  } finally {
    button.disabled = false;
  }
}

async function start() {
  keyset = await e2e.loadKeyset();
  if (!keyset) {
    setConnection("", "locked");
    showError("Your keys are not unlocked on this device. Sign out, then sign in again to read and send messages.");
    if (composer) composer.hidden = true;
    return;
  }
  await refreshMembers();
  await showOutbox();
  if (composer) {
    composer.addEventListener("submit", onSubmit);
    if (root.hasAttribute("data-guide")) {
      // Writing never waits for the guide: if its rules cannot be loaded, it simply stays quiet.
      import("./guide.js")
        .then(async (guide) => {
          const panel = composer.querySelector("[data-guide-panel]");
          guide.attachGuide(composer.querySelector("[data-draft]"), panel, await guide.loadRules());
        })
        .catch(() => {});
    }
  }
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    for (const entry of rendered.values()) {
      if (entry.frame.seq && entry.frame.from.user !== me) sendReadReceipt(entry.frame);
    }
  });
  connect();
}

start().catch((error) => showError(error.message));
