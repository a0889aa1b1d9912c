// The words for every error a page can show, in one table keyed by code, so that they can be translated in
// one place. Code throws `failure(code, details)`; a page shows `wordsOf(error)`. An error's own `message`
// is filled from this table too, so that a caught error reads the same wherever it ends up.

import { format, gettext } from "./i18n.js";

const MESSAGES = {
  // --- signing in and recovering
  identifier_missing: gettext("Type your email or sign-in name."),
  secret_missing: gettext("Type your password or sign-in phrase."),
  recovery_code_missing: gettext("Type your recovery code."),
  password_too_short: gettext("Choose a new password of at least 12 characters."),

  // --- keys on this device
  keys_locked: gettext("Your keys are not unlocked on this device. Sign out, then sign in again."),
  keys_locked_messages: gettext(
    "Your keys are not unlocked on this device. Sign out, then sign in again to read and send messages.",
  ),
  keys_locked_send: gettext("Your keys are not unlocked on this device. Sign out, then sign in again to send."),
  keys_locked_evidence: gettext(
    "Your keys are not unlocked on this device. Sign out, then sign in again to read the evidence.",
  ),
  keys_locked_sign: gettext("Your keys are not unlocked on this device. Sign out, then sign in again to sign."),
  keys_pending_lost: gettext("Your keys are not open on this device. Sign out, then sign in again to open them."),
  keys_did_not_open: gettext("Your keys did not open. Sign out, then sign in again."),
  keys_do_not_open: gettext("These keys do not open with that passphrase or code."),
  keys_not_extractable: gettext("These keys cannot be wrapped: their private halves are not extractable."),
  key_file_version: gettext("This is not a version 1 Mend key file."),
  key_bundle_version: gettext("Only version 1 key bundles are accepted."),
  key_bundle_kdf: (values) => format(gettext("Refusing keys wrapped with %(name)s: only %(expected)s is accepted."), values),
  key_bundle_iterations: (values) => format(gettext("Refusing keys wrapped with fewer than %(iterations)s PBKDF2 iterations."), values),
  wrapped_key_missing: (values) => format(gettext("The wrapped %(kind)s key is missing."), values),
  public_key_mismatch: (values) => format(gettext("The %(what)s does not belong to these private keys."), values),
  key_id_mismatch: gettext("The key id does not belong to these keys."),
  small_order_key: gettext("That X25519 public key cannot be used (it is of small order)."),
  install_id_empty: gettext("The install id is empty."),
  recovery_code_form: gettext("A recovery code has 32 letters and digits, in groups of four."),

  // --- encodings
  not_bytes: gettext("Expected bytes (a Uint8Array or an ArrayBuffer)."),
  not_base64url: (values) => format(gettext("The %(what)s is not base64url text."), values),
  not_canonical_base64url: (values) => format(gettext("The %(what)s is not base64url text in its canonical form."), values),
  wrong_length: (values) => format(gettext("The %(what)s must be %(length)s bytes."), values),
  json_not_finite: gettext("Canonical JSON has no NaN or Infinity."),
  json_bad_unicode: gettext("Canonical JSON needs well-formed Unicode text."),
  json_unsupported: (values) => format(gettext("Canonical JSON cannot hold this value (%(type)s)."), values),

  // --- messages that do not open
  envelope_version: gettext("This message's envelope version is not one this page knows."),
  padding_broken: gettext("The message's padding is broken."),
  recipient_keys_missing: gettext("The recipients' keys are missing, so this message cannot be checked."),
  recipient_key_id_mismatch: gettext("A recipient's keys do not match their key id, so this message is not shown."),
  not_for_everyone: gettext("This message was not sealed correctly for everyone in this conversation, so it is not shown."),
  not_for_you: gettext("This message was not sealed so that you can read it: your copy of its key does not open."),
  not_for_these_keys: gettext("This message was not encrypted to these keys."),
  no_keys_to_open: gettext("There are no keys on this device to open this message with."),
  message_altered: gettext("The message does not decrypt: it was altered or is not for these keys."),
  sender_keys_unknown: gettext("The sender's keys are no longer known."),
  sender_unverified: gettext("This message could not be checked as coming from its sender."),

  // --- files
  file_limit: gettext("Files can be at most 10 MiB."),
  file_altered: gettext("The file does not decrypt: it was altered or the key is wrong."),
  file_too_big: (values) => format(gettext("%(name)s is larger than 10 MB. Try a smaller file."), values),
  file_not_message_type: (values) => format(gettext("%(name)s is not a picture (JPEG, PNG, GIF or WebP) or a PDF."), values),
  evidence_file_too_big: (values) => format(gettext("%(name)s is larger than 10 MiB. Try a smaller file."), values),
  file_not_evidence_type: (values) => format(gettext("%(name)s is not a picture or a PDF."), values),
  file_not_sent: gettext("The file could not be sent."),
  file_not_sent_named: (values) => format(gettext("%(name)s could not be sent. Please try again."), values),
  file_refused_named: (values) => format(gettext("%(name)s was not sent: %(reason)s"), values),
  file_id_invalid: gettext("This file's id is not valid."),
  file_not_fetched: gettext("This file could not be fetched. Please try again."),

  // --- writing and passing on
  message_empty: gettext("Write a message or add a file first."),
  return_note_missing: gettext("Write a short note saying what to change before you return it."),
  relay_not_approved: gettext("The writer has not agreed to have this one passed on."),
  relay_keys_not_pinned: gettext(
    "This message was signed with keys that have not been checked here, or could not be checked for " +
    "everyone, so it cannot be passed on. Check the change shown above, or ask the writer to send it again.",
  ),
  relay_keys_unchecked: (values) =>
    format(
      gettext(
        "The keys listed for %(names)s could not be checked, so nothing was passed on. " +
          "Please let your program's administrator know.",
      ),
      values,
    ),
  relay_never_opened: gettext(
    "Nothing was passed on yet: this device has not opened that conversation before. Please open it once " +
    "and check the people there, then pass this on.",
  ),
  relay_members_changed: (values) =>
    format(
      gettext("The people in that conversation changed: %(who)s. Open that conversation and check there, then pass it on."),
      values,
    ),
  relay_not_sent: gettext("It could not be passed on. Please try again."),
  evidence_empty: gettext("Write what you did, or add a file that shows it."),
  evidence_not_sent: gettext("It could not be sent. Please try again."),
  minutes_empty: gettext("Write the minutes first."),
  minutes_no_recipients: gettext("Nobody who receives minutes has keys yet. Ask the keeper or a coordinator to sign in once."),
  minutes_not_sent: gettext("The minutes could not be sent. Please try again."),
  sign_name_missing: gettext("Type your name to sign. The name you use in this case is fine."),
  sign_failed: gettext("Your device could not sign just now. Please try again."),
  information_not_fetched: gettext("Your information could not be fetched just now. Please try again."),

  // --- the server's answers
  request_failed: gettext("Something went wrong. Please try again."),
  server_surprise: gettext("Something went wrong on our side. Please try again in a moment."),
};

// What a page's status line says while work takes a while on this device (forms.js `busy`).
const DOING = {
  signing_in: gettext("Checking your details. This can take a few seconds."),
  opening_keys: gettext("Opening your keys…"),
  making_keys: gettext("Making your keys. This can take a few seconds."),
  checking_recovery_code: gettext("Checking your recovery code. This can take a few seconds."),
  locking_keys_again: gettext("Locking your keys with your new details. This can take a few seconds."),
  locking_file: (values) => format(gettext("Locking %(name)s…"), values),
  uploading_file: (values) => format(gettext("Uploading %(name)s: %(percent)s"), values),
};

export function doing(code, details = {}) {
  const entry = DOING[code];
  return typeof entry === "function" ? entry(details) : entry;
}

// The words for a code; an unknown code says so rather than showing nothing.
export function words(code, details = {}) {
  const entry = MESSAGES[code];
  if (entry === undefined) return `${MESSAGES.request_failed} (${code})`; // the code helps whoever reads it out
  return typeof entry === "function" ? entry(details) : entry;
}

// An Error that carries its code (and the details its words need) for the page to put into words.
export function failure(code, details = {}) {
  const error = new Error(words(code, details));
  error.code = code;
  error.details = details;
  return error;
}

// What a page shows for a caught error: the table's words for a coded one, else the error's own message
// (a server's answer, a browser's), else the words for `fallback`.
export function wordsOf(error, fallback = "request_failed") {
  if (error && error.code && typeof error.code === "string") return words(error.code, error.details);
  return (error && error.message) || (typeof error === "string" && error) || words(fallback);
}
