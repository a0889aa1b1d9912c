// The words for every error a page can show, in one table keyed by code, so that they can be translated in
// one place. Code throws `failure(code, details)`; a page shows `wordsOf(error)`. An error's own `message`
// is filled from this table too, so that a caught error reads the same wherever it ends up.

const MESSAGES = {
  // --- signing in and recovering
  sign_in_fields_missing: "Fill in both parts: your email or sign-in name, and your password or phrase.",
  recover_fields_missing: "Fill in your sign-in name or email, and your recovery code.",
  password_too_short: "Choose a new password of at least 12 characters.",

  // --- keys on this device
  keys_locked: "Your keys are not unlocked on this device. Sign out, then sign in again.",
  keys_locked_messages:
    "Your keys are not unlocked on this device. Sign out, then sign in again to read and send messages.",
  keys_locked_send: "Your keys are not unlocked on this device. Sign out, then sign in again to send.",
  keys_locked_evidence:
    "Your keys are not unlocked on this device. Sign out, then sign in again to read the evidence.",
  keys_locked_sign: "Your keys are not unlocked on this device. Sign out, then sign in again to sign.",
  keys_pending_lost: "Your keys are not open on this device. Sign out, then sign in again to open them.",
  keys_did_not_open: "Your keys did not open. Sign out, then sign in again.",
  keys_do_not_open: "These keys do not open with that passphrase or code.",
  keys_not_extractable: "These keys cannot be wrapped: their private halves are not extractable.",
  key_file_version: "This is not a version 1 Mend key file.",
  key_bundle_version: "Only version 1 key bundles are accepted.",
  key_bundle_kdf: ({ name, expected }) => `Refusing keys wrapped with ${name}: only ${expected} is accepted.`,
  key_bundle_iterations: ({ iterations }) => `Refusing keys wrapped with fewer than ${iterations} PBKDF2 iterations.`,
  wrapped_key_missing: ({ kind }) => `The wrapped ${kind} key is missing.`,
  public_key_mismatch: ({ what }) => `The ${what} does not belong to these private keys.`,
  key_id_mismatch: "The key id does not belong to these keys.",
  small_order_key: "That X25519 public key cannot be used (it is of small order).",
  install_id_empty: "The install id is empty.",
  recovery_code_form: "A recovery code has 32 letters and digits, in groups of four.",

  // --- encodings
  not_bytes: "Expected bytes (a Uint8Array or an ArrayBuffer).",
  not_base64url: ({ what }) => `The ${what} is not base64url text.`,
  not_canonical_base64url: ({ what }) => `The ${what} is not base64url text in its canonical form.`,
  wrong_length: ({ what, length }) => `The ${what} must be ${length} bytes.`,
  json_not_finite: "Canonical JSON has no NaN or Infinity.",
  json_bad_unicode: "Canonical JSON needs well-formed Unicode text.",
  json_unsupported: ({ type }) => `Canonical JSON cannot hold this value (${type}).`,

  // --- messages that do not open
  envelope_version: "This message's envelope version is not one this page knows.",
  padding_broken: "The message's padding is broken.",
  recipient_keys_missing: "The recipients' keys are missing, so this message cannot be checked.",
  recipient_key_id_mismatch: "A recipient's keys do not match their key id, so this message is not shown.",
  not_for_everyone: "This message was not sealed correctly for everyone in this conversation, so it is not shown.",
  not_for_you: "This message was not sealed so that you can read it: your copy of its key does not open.",
  not_for_these_keys: "This message was not encrypted to these keys.",
  no_keys_to_open: "There are no keys on this device to open this message with.",
  message_altered: "The message does not decrypt: it was altered or is not for these keys.",
  sender_keys_unknown: "The sender's keys are no longer known.",
  sender_unverified: "This message could not be checked as coming from its sender.",

  // --- files
  file_limit: "Files can be at most 10 MiB.",
  file_altered: "The file does not decrypt: it was altered or the key is wrong.",
  file_too_big: ({ name }) => `${name} is larger than 10 MB. Try a smaller file.`,
  file_not_message_type: ({ name }) => `${name} is not a picture (JPEG, PNG, GIF or WebP) or a PDF.`,
  evidence_file_too_big: ({ name }) => `${name} is larger than 10 MiB. Try a smaller file.`,
  file_not_evidence_type: ({ name }) => `${name} is not a picture or a PDF.`,
  file_not_sent: "The file could not be sent.",
  file_id_invalid: "This file's id is not valid.",
  file_not_fetched: "This file could not be fetched. Please try again.",

  // --- writing and passing on
  message_empty: "Write a message or add a file first.",
  return_note_missing: "Write a short note saying what to change before you return it.",
  relay_not_approved: "The writer has not agreed to have this one passed on.",
  relay_keys_not_pinned:
    "This message was signed with keys that have not been checked here, or could not be checked for " +
    "everyone, so it cannot be passed on. Check the change shown above, or ask the writer to send it again.",
  relay_keys_unchecked: ({ names }) =>
    `The keys listed for ${names} could not be checked, so nothing was passed on. ` +
    "Please let your program's administrator know.",
  relay_never_opened:
    "Nothing was passed on yet: this device has not opened that conversation before. Please open it once " +
    "and check the people there, then pass this on.",
  relay_members_changed: ({ who }) =>
    `The people in that conversation changed: ${who}. Open that conversation and check there, then pass it on.`,
  relay_not_sent: "It could not be passed on. Please try again.",
  evidence_empty: "Write what you did, or add a file that shows it.",
  evidence_not_sent: "It could not be sent. Please try again.",
  minutes_empty: "Write the minutes first.",
  minutes_no_recipients: "Nobody who receives minutes has keys yet. Ask the keeper or a coordinator to sign in once.",
  minutes_not_sent: "The minutes could not be sent. Please try again.",
  sign_name_missing: "Type your name to sign. The name you use in this case is fine.",
  sign_failed: "Your device could not sign just now. Please try again.",
  information_not_fetched: "Your information could not be fetched just now. Please try again.",

  // --- the server's answers
  request_failed: "Something went wrong. Please try again.",
  server_surprise: "Something went wrong on our side. Please try again in a moment.",
};

// The words for a code; an unknown code says so rather than showing nothing.
export function words(code, details = {}) {
  const entry = MESSAGES[code];
  if (entry === undefined) return `${MESSAGES.request_failed} (${code})`;
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
