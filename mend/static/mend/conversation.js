// One conversation: messages are unlocked here and sealed here; sending goes through an outbox that
// survives a reload, each message keeps its id across retries, and after any break the page resumes from
// the last sequence number it saw. The server only ever gets envelopes.
import * as e2e from "./e2e.js";
import { getJson, sendJson } from "./http.js";
import { dateTime, format, gettext } from "./i18n.js";
import { failure } from "./messages.js";
import { el, showError as showIn } from "./ui.js";
import { uploadEncrypted } from "./upload.js";

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
const targets = JSON.parse(root.dataset.targets || "[]");

const rendered = new Map(); // message id -> {item, frame, content, status, problem}
let lastSeq = 0;
let socket = null;
let keyset = null;
let members = [];
let retryDelay = 1000;

// --- small helpers ------------------------------------------------------------------------------------

const showError = (problem) => showIn(errorBox, problem);

function setConnection(text, state) {
  connection.textContent = text;
  connection.dataset.state = state;
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
// The server is not trusted with keys or membership (docs/threat-model.md): each member's key id is
// worked out here from the public keys listed, a member whose listed id differs is refused, and this
// device remembers who it has seen in this conversation (e2e.js, pins). A changed key or a new member
// holds sending here until the person says they checked.

let memberRefusals = []; // members whose listed keys do not check: nothing is encrypted to them
let pendingChanges = []; // {person, change: "new" | "changed"} not yet checked by the person
let pinRecord = null; // this conversation's pins: who was seen here, with which keys

// A member's key id as their public keys give it: null without keys, undefined if the keys are malformed.
async function computedKeyIdOf(person) {
  if (!person.enc_public && !person.sign_public) return null;
  try {
    const enc = e2e.unb64u(person.enc_public, 32, "public key");
    const sign = e2e.unb64u(person.sign_public, 32, "public key");
    return await e2e.keyIdOf(enc, sign);
  } catch {
    return undefined;
  }
}

// {checked, refused}: each checked member gets `keyId`, worked out here; the signed-in person must be
// listed with the keys this device holds.
async function checkMembers(people) {
  const checked = [];
  const refused = [];
  for (const person of people) {
    const keyId = await computedKeyIdOf(person);
    const mine = person.user === me && keyset && keyId !== keyset.keyId;
    if (keyId === undefined || keyId !== (person.key_id || null) || mine) refused.push(person);
    else checked.push({ ...person, keyId });
  }
  return { checked, refused };
}

// Pinned under the place itself (role_code); `roleName` is what the program calls it, to show.
const pinPerson = (person) => ({
  user: person.user,
  role: person.role_code || person.role,
  roleName: person.role,
  name: person.name,
  keyId: person.keyId,
});

// The changes of one conversation's members against this device's pins (and the record as it is now).
async function membershipChanges(conversation, checked, options) {
  const others = checked.filter((person) => person.user !== me);
  return e2e.pinMembers(conversation, others.map(pinPerson), options);
}

function holdReason() {
  if (memberRefusals.some((person) => person.user === me)) {
    // Their own notice says what to do (sign out and in again); the administrator cannot help with that.
    return gettext("Sending is paused in this conversation until you have signed in again.");
  }
  if (memberRefusals.length) {
    return gettext(
      "Sending is paused in this conversation: the keys listed for someone here could not be checked. " +
        "Your messages are safe. Please let your program's administrator know.",
    );
  }
  if (pendingChanges.length) {
    return gettext("Sending is paused in this conversation until you have checked the change shown above.");
  }
  return "";
}

function refusalNotice(person) {
  const text =
    person.user === me
      ? gettext("The keys on this device are not your current keys. Sign out, then sign in again before you send anything.")
      : format(gettext("The keys listed for %(name)s do not match their key id, so nothing will be encrypted to them."), {
          name: person.name,
        });
  return el("p", { "data-key-refused": person.user }, text);
}

function changeText({ person, change }) {
  const values = { role: person.roleName, name: person.name };
  if (change === "new") {
    return format(
      isFacilitator
        ? gettext(
            "A new %(role)s, %(name)s, has joined this conversation. Please check that they should be here: " +
              "compare your safety code with %(name)s (below), or ask a colleague who runs the case.",
          )
        : gettext(
            "A new %(role)s, %(name)s, has joined this conversation. Please check that they should be here: " +
              "compare your safety code with %(name)s (below), or ask your facilitator.",
          ),
      values,
    );
  }
  return format(
    gettext(
      "%(name)s's keys have changed since you last saw them. Please compare your safety code with " +
        "%(name)s (below) with the one on their screen.",
    ),
    values,
  );
}

function changeNotice(item) {
  const { person, change } = item;
  const attrs =
    change === "new"
      ? { "data-new-member": person.user, "data-role": person.role }
      : { "data-key-changed": person.user };
  const p = el("p", attrs, changeText(item));
  const button = el("button", { type: "button", class: "secondary", "data-checked-change": "" }, gettext("I have checked"));
  button.addEventListener("click", () => {
    button.disabled = true;
    serially(async () => {
      pinRecord = await e2e.pinAcceptMember(conversationId, person);
      // Only this notice's change: a later change (other keys) for the same person stays until checked.
      const place = (other) =>
        other.person.user === person.user && other.person.role === person.role && other.person.keyId === person.keyId;
      pendingChanges = pendingChanges.filter((other) => !place(other));
      showKeyWarnings();
      redrawKeyMarks();
    }).catch((error) => showError(error));
  });
  p.append(" ", button);
  return p;
}

// While sending is held, Send points to where the reasons already are, rather than repeating them.
function pointToWarnings() {
  errorBox.hidden = true;
  warnings.focus();
}

function showKeyWarnings() {
  const notices = [...memberRefusals.map(refusalNotice), ...pendingChanges.map(changeNotice)];
  const reason = holdReason();
  if (reason) notices.push(el("p", { "data-sending-held": "" }, reason));
  warnings.replaceChildren(...notices);
  warnings.hidden = notices.length === 0;
  if (composer) composer.dataset.held = reason ? "1" : "";
}

// "Your safety code with <name>" for each other member, worked out here from both people's keys
// (docs/crypto.md): what two people compare is what their own browsers encrypt to and check against.
async function showSafetyCodes(checked, refused) {
  const list = root.ownerDocument.querySelector("[data-safety-codes]");
  if (!list || !keyset) return;
  const rows = [];
  for (const person of [...checked, ...refused]) {
    if (person.user === me) continue;
    const label = el("dt", {}, format(gettext("Your safety code with %(name)s (%(role)s)"), person));
    const code = el("code", { "data-safety-code": "", "data-user": person.user, "data-name": person.name });
    let value;
    if (refused.includes(person)) {
      code.dataset.checked = "0";
      value = el("span", {}, gettext("Their keys do not match their key id, so there is no code to compare."));
    } else if (!person.keyId) {
      value = el("span", {}, gettext("No keys yet: they will not be able to read messages until they sign in."));
    } else {
      code.textContent = await e2e.safetyCodeBetween(keyset, {
        encPublic: person.enc_public,
        signPublic: person.sign_public,
      });
      code.dataset.checked = "1";
      value = code;
    }
    const dd = el("dd");
    dd.append(value);
    rows.push(label, dd);
  }
  list.replaceChildren(...rows);
}

// Whom a message here is encrypted to: the checked members with keys. Throws while sending is held.
function recipientsOf(people) {
  const reason = holdReason();
  if (reason) throw new Error(reason);
  return people.filter((p) => p.keyId).map((p) => ({ key_id: p.keyId, enc_public: p.enc_public }));
}

// The same checks for another conversation's members (the facilitator's pass-on), against its own pins:
// nothing goes there while its members or keys changed unchecked; the facilitator checks on its page.
async function checkedRecipientsFor(conversation, people) {
  const { checked, refused } = await checkMembers(people);
  if (refused.length) {
    throw failure("relay_keys_unchecked", { names: refused.map((p) => p.name).join(", ") });
  }
  // A conversation this device has never opened has no pins: its people, as the server lists them, are
  // not trusted here on first use.
  const { changes, first } = await membershipChanges(conversation, checked, { pinFirst: false });
  if (first) {
    throw failure("relay_never_opened");
  }
  if (changes.length) {
    const who = changes.map(({ person, change }) =>
      change === "new" ? `${person.name} (new, ${person.roleName})` : `${person.name} (changed keys)`,
    );
    throw failure("relay_members_changed", { who: who.join(", ") });
  }
  return checked.filter((p) => p.keyId).map((p) => ({ key_id: p.keyId, enc_public: p.enc_public }));
}

// Members taken and changes accepted one at a time, so that an answer read before an acceptance was
// written cannot bring its notice back.
let memberWork = Promise.resolve();
function serially(work) {
  const run = memberWork.then(work);
  memberWork = run.catch(() => {});
  return run;
}

function takeMembers(people) {
  return serially(() => takeMembersNow(people));
}

async function takeMembersNow(people) {
  const { checked, refused } = await checkMembers(people);
  const { changes, record } = await membershipChanges(conversationId, checked);
  members = checked;
  memberRefusals = refused;
  pinRecord = record;
  pendingChanges = changes;
  showKeyWarnings();
  await showSafetyCodes(checked, refused);
  redrawKeyMarks();
}

async function refreshMembers() {
  const answer = await getJson(`${root.dataset.membersUrl}?kind=${writeKind}`);
  await takeMembers(answer.members);
  return answer;
}

// Messages signed with keys this device has not pinned for their sender here are still shown, marked.
function keyStateOf(entry) {
  const { frame, content } = entry;
  const sender = frame.envelope && frame.envelope.sender;
  if (!content || !sender || !keyset) return "pinned";
  if (frame.from.user === me) return sender === keyset.keyId ? "pinned" : "changed";
  return e2e.pinStateOf(pinRecord, frame.from.user, sender);
}

function keyMarkOf(entry) {
  const state = keyStateOf(entry);
  entry.keyState = state;
  if (state === "pinned") return null;
  const words =
    state === "changed" ? gettext("Signed with keys that changed") : gettext("Signed with keys you have not checked");
  return el("span", { class: "marker marker-keys", "data-key-mark": state }, words);
}

// Only messages whose mark changes are drawn again (a note being written in one is kept).
function redrawKeyMarks() {
  for (const entry of rendered.values()) {
    if (entry.item && entry.keyState !== keyStateOf(entry)) draw(entry);
  }
}

const NOT_SENT_CHANGED = gettext(
  "Not sent: the people in this conversation or their keys changed. Check what is shown above, then send it again.",
);

const NOT_SENT_OLDER = gettext(
  "Not sent: it was locked in an older format before an update. Send it again to lock it the new way for " +
    "the people here now.",
);

// After a refusal because the people or keys changed: the person sends again, once any change is checked.
function resendButton(entry) {
  const button = el("button", { type: "button", class: "secondary", "data-resend": "" }, gettext("Send again"));
  button.addEventListener("click", async () => {
    if (holdReason()) {
      pointToWarnings();
      return;
    }
    button.disabled = true;
    try {
      entry.resend = false;
      await sealAndQueue(entry.content, entry.frame.envelope.meta, entry.frame.id);
    } catch (error) {
      entry.resend = true;
      button.disabled = false;
      showError(error);
    }
  });
  return button;
}

// An envelope is shown only in the conversation it was sealed for, under the id it was sealed with.
function misplacedProblem(frame) {
  const envelope = frame.envelope || {};
  if (envelope.conversation !== conversationId || envelope.id !== frame.id) {
    return gettext("This message was written for another conversation, so it is not shown here.");
  }
  // What the server says beside it must be what the sender signed (the signature is checked next).
  const meta = envelope.meta || {};
  const sameRef = (frame.ref || null) === (meta.ref || null);
  if (frame.kind !== meta.kind || !sameRef || !!frame.approved !== (meta.approved === true)) {
    return gettext("This message is not shown: what the server says about it differs from what its sender signed.");
  }
  return "";
}

// --- showing messages -------------------------------------------------------------------------------

const STATUS_WORDS = {
  sending: gettext("Sending…"),
  sent: gettext("Sent"),
  delivered: gettext("Delivered"),
  read: gettext("Read"),
  pending: gettext("Waiting for your facilitator to review"),
  returned: gettext("Returned to you with a note"),
  forwarded: gettext("Passed on"),
};

// What a facilitator sees on a message written for the other side.
const FACILITATOR_RELAY_WORDS = {
  pending: gettext("Waiting for your review"),
  returned: gettext("Returned with a note"),
  forwarded: gettext("Passed on"),
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
  if (frame.kind === "relayed") return gettext("Relayed by your facilitator");
  if (frame.kind === "returned") return gettext("Returned with a note");
  if (frame.kind === "for_relay") return frame.approved ? gettext("For the other side") : gettext("For the facilitator only");
  return "";
}

// A received file is what its sender's page says it is, and the sender may be anyone in the conversation:
// it is saved only as one of the kinds the composer offers, under a plain name with that kind's ending,
// and anything else as bytes (never a page, an SVG or a script this site's address would run).
const FILE_TYPES = new Map([
  ["image/jpeg", ".jpg"],
  ["image/png", ".png"],
  ["image/gif", ".gif"],
  ["image/webp", ".webp"],
  ["application/pdf", ".pdf"],
]);
const FILE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function fileTypeOf(file) {
  return FILE_TYPES.has(file.type) ? file.type : "application/octet-stream";
}

function safeFileName(file) {
  const base = String(file.name || "")
    .normalize("NFC")
    // control and text-direction characters (which can make "gpj.exe" read as "exe.jpg"), and path marks
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, "")
    .replace(/[\\/:*?"<>|]/g, "_")
    .replace(/\.[^.]*$/, "")
    .replace(/^[.\s]+|[.\s]+$/g, "")
    .slice(0, 100);
  return `${base || "file"}${FILE_TYPES.get(fileTypeOf(file)) || ".bin"}`;
}

function fileButton(file) {
  const name = safeFileName(file);
  const size = `${Math.max(1, Math.ceil((Number(file.size) || 0) / 1024))} KB`;
  const button = el("button", { type: "button", class: "link", "data-file": String(file.id) }, `${name} (${size})`);
  button.addEventListener("click", async () => {
    try {
      if (typeof file.id !== "string" || !FILE_ID.test(file.id)) throw failure("file_id_invalid");
      const response = await fetch(`${root.dataset.downloadUrl}${file.id}/`, { credentials: "same-origin" });
      if (!response.ok) throw failure("file_not_fetched");
      const ciphertext = new Uint8Array(await response.arrayBuffer());
      const plain = await e2e.decryptFile(ciphertext, { conversation: conversationId, entry: file });
      const url = URL.createObjectURL(new Blob([plain], { type: fileTypeOf(file) }));
      const link = el("a", { href: url, download: name });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (error) {
      showError(error);
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
  const note = el("p", { class: "ref" }, `${gettext("About:")} `);
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
  meta.append(el("strong", {}, mine ? gettext("You") : frame.from.name || ""));
  const label = labelOf(frame);
  if (label) meta.append(" ", el("span", { class: `marker marker-${frame.kind}`, "data-marker": frame.kind }, label));
  if (frame.at) meta.append(" ", el("time", { datetime: frame.at }, dateTime(frame.at)));
  const keyMark = keyMarkOf(entry);
  if (keyMark) meta.append(" ", keyMark);
  const children = [meta];
  const ref = refNote(frame);
  if (ref) children.push(ref);
  const sealNote = sealNotes.get(frame.id) || "";
  if (entry.problem) children.push(el("p", { class: "error", "data-problem": sealNote }, entry.problem));
  if (content && (sealNote === "v1" || sealNote === "unchecked")) {
    const why =
      sealNote === "v1"
        ? gettext("Not checked for everyone here: an older message.")
        : gettext("Not checked for everyone here: someone's keys are no longer kept.");
    children.push(el("p", { class: "help", "data-unchecked": sealNote }, why));
  }
  if (entry.resend) children.push(resendButton(entry));
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
  const pending = frame.kind === "for_relay" && frame.relay_state === "pending";
  if (isFacilitator && pending && !mine && content && !entry.problem) {
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
  if (!from.sign_public || !from.enc_public) return { problem: gettext("This message's sender has no known keys.") };
  const keyId = await e2e.keyIdOf(e2e.unb64u(from.enc_public), e2e.unb64u(from.sign_public));
  if (keyId !== frame.envelope.sender || !(await e2e.verify(frame.envelope, from.sign_public))) {
    return { problem: gettext("This message could not be checked as coming from its sender, so it is not shown.") };
  }
  // Older (version 1) messages are shown only from before the first version 2 one this device saw here.
  const firstV2 = pinRecord && pinRecord.firstV2;
  if (frame.envelope.v === 1 && frame.seq && firstV2 && frame.seq > firstV2) {
    sealNotes.set(frame.id, "v1_late");
    return { problem: gettext("This message is in the older format but came after newer ones, so it is not shown.") };
  }
  if (frame.envelope.v === 2 && frame.seq && !(firstV2 <= frame.seq)) {
    await serially(async () => {
      pinRecord = (await e2e.pinFirstV2(conversationId, frame.seq)) || pinRecord;
    });
  }
  // Envelope v2: every recipient's entry is recomputed, with keys checked against their ids here; a
  // message not sealed the same for everyone is shown to no one, and staff see when it is not for them.
  try {
    const recipients = frame.envelope.v === 1 ? null : await e2e.recipientKeys(frame.recipient_keys);
    const { content, unchecked } = await e2e.openChecked(frame.envelope, keyset, recipients);
    sealNotes.set(frame.id, frame.envelope.v === 1 ? "v1" : unchecked.length ? "unchecked" : "");
    return { content };
  } catch (error) {
    sealNotes.set(frame.id, error.reason || "altered");
    if (error.reason === "unreadable" && isFacilitator) {
      const problem =
        frame.envelope.v === 1
          ? gettext(
              "Not readable for you: it was not sealed so that you can read it. " +
                "It was sealed in the older format, so the others here may have read it.",
            )
          : gettext(
              "Not readable for you: it was not sealed so that you can read it. " +
                "The others in this conversation are not shown it either.",
            );
      return { problem };
    }
    return { problem: error.message };
  }
}

// What opening a message found, by message id: "" (all checked), "v1" (an older message, whose entries
// cannot be checked), "unchecked" (someone's keys are no longer kept), or why it is not shown
// ("unreadable", "not_for_these_keys", "not_for_everyone", "altered", "v1_late": an older-format message
// numbered after a newer one).
const sealNotes = new Map();

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
  const misplaced = misplacedProblem(frame);
  const { content, problem } = misplaced ? { problem: misplaced } : await unlock(frame);
  const entry = known || {};
  const status = !entry.status || entry.status === "sending" ? "sent" : entry.status;
  Object.assign(entry, { frame, content: content || entry.content, problem, status });
  rendered.set(frame.id, entry);
  if (entry.item) entry.item.dataset.seq = frame.seq;
  draw(entry);
  if (known) place(entry.item);
  if (frame.from.user !== me) {
    // Receipts switched off means neither kind: the server keeps none either.
    if (sendsReadReceipts) sendFrame({ type: "receipt", id: frame.id, kind: "delivered" });
    sendReadReceipt(frame);
  } else {
    await outboxDelete(frame.id);
  }
}

// --- sending -----------------------------------------------------------------------------------------

function uploadFiles(files) {
  return uploadEncrypted(files, {
    url: root.dataset.uploadUrl,
    conversation: conversationId,
    accepts: (file) => FILE_TYPES.has(file.type),
    tooBig: "file_too_big",
    notAccepted: "file_not_message_type",
  });
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
  await outboxDelete(frame.id);
  // The people or their keys changed between sealing and sending: nothing is sealed again by itself. The
  // members are asked for again, any change is shown, and the person sends again once they have checked.
  const changed = frame.code === "recipients" || frame.code === "sender_key";
  // Sealed in the older format before the upgrade and kept in the outbox: sealed anew only if the person
  // sends it again.
  const older = frame.code === "form" && !!entry && !!entry.frame.envelope && entry.frame.envelope.v === 1;
  if (changed) {
    try {
      await refreshMembers();
    } catch (error) {
      showError(error); // the message below still says it was not sent
    }
  }
  if (entry) {
    entry.problem = changed ? NOT_SENT_CHANGED : older ? NOT_SENT_OLDER : format(gettext("Not sent: %(reason)s"), { reason: frame.error });
    entry.status = "";
    entry.resend = (changed || older) && !!entry.content;
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
  const label = el("label", { for: noteId }, gettext("A note for the writer"));
  const note = el("textarea", { id: noteId, rows: "2", maxlength: "20000", "data-return-note": "" });
  const buttons = el("div", { class: "actions" });
  const back = el("button", { type: "button", class: "secondary", "data-return": "" }, gettext("Return with this note"));
  back.addEventListener("click", async () => {
    if (!note.value.trim()) {
      showError(failure("return_note_missing"));
      note.focus();
      return;
    }
    back.disabled = true;
    try {
      await sealAndQueue({ text: note.value.trim() }, { kind: "returned", ref: entry.frame.id });
    } catch (error) {
      back.disabled = false;
      showError(error);
    }
  });
  buttons.append(back);
  // Decided from the signed envelope, never from the server's word beside it.
  const meta = entry.frame.envelope.meta || {};
  const approved = meta.kind === "for_relay" && meta.approved === true;
  if (approved) {
    for (const target of targets) {
      const forward = el("button", { type: "button", "data-forward": target.id }, format(gettext("Pass on to %(name)s"), target));
      forward.addEventListener("click", async () => {
        forward.disabled = true;
        try {
          await passOn(entry, target);
        } catch (error) {
          forward.disabled = false;
          showError(error);
        }
      });
      buttons.append(forward);
    }
  }
  box.append(label, note, buttons);
  if (!approved) {
    box.append(
      el("p", { class: "help" }, gettext("The writer has not agreed to have this one passed on. You can return it with a note.")),
    );
  }
  return box;
}

async function passOn(entry, target) {
  const meta = entry.frame.envelope.meta || {};
  if (entry.problem || !entry.content || meta.kind !== "for_relay" || meta.approved !== true) {
    throw failure("relay_not_approved");
  }
  // Only words whose writer's keys are the ones checked here, and that were sealed alike for everyone.
  if (keyStateOf(entry) !== "pinned" || (sealNotes.get(entry.frame.id) || "") !== "") {
    throw failure("relay_keys_not_pinned");
  }
  // Sealed again for the other side's exchange, with the text exactly as the writer approved it; the
  // server says first whether it may go now (it is held while the other person takes a break).
  const base = root.dataset.sendBase;
  const state = await getJson(`${base}${target.id}/members/?kind=relayed&ref=${encodeURIComponent(entry.frame.id)}`);
  if (!state.can_write) throw new Error(state.why);
  const envelope = await e2e.seal({
    sender: keyset,
    conversation: target.id,
    content: { text: entry.content.text },
    recipients: await checkedRecipientsFor(target.id, state.members),
    meta: { kind: "relayed", ref: entry.frame.id },
  });
  await sendJson(`${base}${target.id}/send/`, envelope, { fallback: "relay_not_sent" });
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

// The backlog is in: from now on a screen reader hears each new message as it comes, and only those.
function announceNewMessages() {
  const log = root.querySelector("[data-messages-log]");
  if (!log || log.getAttribute("role") === "log") return;
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.removeAttribute("aria-busy");
}

const HANDLERS = {
  message: receiveMessage,
  ack: onAck,
  refused: onRefused,
  receipt: onReceipt,
  state: onState,
  ready: () => {
    setConnection(gettext("Connected. Messages are locked on this device before they are sent."), "connected");
    announceNewMessages();
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
    if (handler) queue = queue.then(() => handler(frame)).catch((error) => showError(error));
  });
  socket.addEventListener("close", (event) => {
    if (event.code === 4404) {
      setConnection(gettext("This conversation is closed to you now."), "closed");
      if (composer) composer.hidden = true;
      return;
    }
    setConnection(gettext("Not connected. Trying again… Messages you send wait here until then."), "offline");
    // A refused handshake looks like a dropped line to the browser: ask the page's own address whether
    // this person still belongs here before trying again.
    fetch(root.dataset.membersUrl, { credentials: "same-origin" })
      .then((answer) => {
        if (answer.status === 404 || answer.redirected) {
          setConnection(gettext("This conversation is closed to you now."), "closed");
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
    showError(failure("message_empty"));
    draft.focus();
    return;
  }
  if (holdReason()) {
    pointToWarnings();
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
    draft.focus(); // ready for the next message, where the person was
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
}

async function start() {
  keyset = await e2e.loadKeyset();
  if (!keyset) {
    setConnection("", "locked");
    showError(failure("keys_locked_messages"));
    if (composer) composer.hidden = true;
    return;
  }
  await refreshMembers();
  await showOutbox();
  if (composer) {
    composer.addEventListener("submit", onSubmit);
    // Send comes disabled until now: a press before the keys and members were in would reload the page and
    // lose the draft.
    composer.querySelector("button[type=submit]").disabled = false;
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

start().catch((error) => showError(error));
