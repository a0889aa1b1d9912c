// End-to-end encryption in the browser with WebCrypto only: sign-in keys, a person's keys and envelope v2
// (v1 still opens), exactly as docs/crypto.md describes and as mend/core/envelope.py implements. Errors
// carry a code (messages.js); the words a person reads are chosen there, not here.
import { failure, words, wordsOf } from "./messages.js";

const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();

export const PBKDF2_ITERATIONS = 600000;
const VERSION = 1;
const PAD_BLOCK = 256;
const MAX_FILE_BYTES = 10 * 1024 * 1024;
const KDF_NAME = "PBKDF2-SHA-256";

// What Python's str.strip() and re's \s treat as white space; JavaScript's \s is a different set, and
// the sign-in name and phrase must come out the same on both sides.
const PY_SPACE = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const EDGE_SPACE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");
const PHRASE_SEPARATORS = new RegExp(`[${PY_SPACE}\\-_.,]+`);
const RECOVERY_SEPARATORS = new RegExp(`[${PY_SPACE}-]`, "g");

// The two kinds of private key a person has, and how WebCrypto imports each.
const KINDS = {
  enc: { algorithm: { name: "X25519" }, usages: ["deriveBits"], oid: 0x6e },
  sign: { algorithm: { name: "Ed25519" }, usages: ["sign"], oid: 0x70 },
};

// --- bytes and text ----------------------------------------------------------------------------------

function randomBytes(length) {
  return crypto.getRandomValues(new Uint8Array(length));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function utf8(text) {
  return encoder.encode(text);
}

function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw failure("not_bytes");
}

export function b64u(bytes) {
  let binary = "";
  for (const byte of toBytes(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// Strict: one text for one byte string, so that changing any character of a signature is noticed.
export function unb64u(text, length, what = "value") {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw failure("not_base64url", { what });
  }
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  if (b64u(bytes) !== text) throw failure("not_canonical_base64url", { what });
  if (length !== undefined && bytes.length !== length) {
    throw failure("wrong_length", { what, length });
  }
  return bytes;
}

// Public keys arrive as base64url text from the server, or as bytes from a keyset.
function asBytes(value, length, what) {
  return typeof value === "string" ? unb64u(value, length, what) : toBytes(value);
}

function isPlainObject(value) {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

// RFC 8785 (JCS) as text; its UTF-8 bytes are what gets signed and bound. JSON.stringify already writes
// strings and numbers as JCS asks, and the default sort compares UTF-16 code units as JCS asks.
export function canonical(value) {
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw failure("json_not_finite");
    return JSON.stringify(value);
  }
  if (typeof value === "string") {
    if (!value.isWellFormed()) throw failure("json_bad_unicode");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && isPlainObject(value)) {
    // Like JSON.stringify, leave out undefined members, so that what is signed is what is sent.
    const keys = Object.keys(value).filter((key) => value[key] !== undefined).sort();
    return `{${keys.map((key) => `${canonical(key)}:${canonical(value[key])}`).join(",")}}`;
  }
  throw failure("json_unsupported", { type: typeof value });
}

function canonicalBytes(value) {
  return utf8(canonical(value));
}

function pyStrip(text) {
  return text.replace(EDGE_SPACE, "");
}

// The same as mend.accounts.credentials.normalise_phrase, so that a phrase typed any way signs in.
export function normalisePhrase(text) {
  return pyStrip(pyStrip(text).toLowerCase().split(PHRASE_SEPARATORS).join(" "));
}

// --- key derivation ----------------------------------------------------------------------------------

async function sha256(bytes) {
  return new Uint8Array(await subtle.digest("SHA-256", bytes));
}

function hkdfParams(info, salt) {
  return { name: "HKDF", hash: "SHA-256", salt: salt || new Uint8Array(0), info: utf8(info) };
}

async function hkdfBits(ikm, info, salt) {
  const base = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  return new Uint8Array(await subtle.deriveBits(hkdfParams(info, salt), base, 256));
}

// An AES-GCM key that cannot be read back out of WebCrypto.
async function hkdfAesKey(ikm, info, salt) {
  const base = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveKey"]);
  return subtle.deriveKey(hkdfParams(info, salt), base, { name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
}

// As the Python sign-in form does: the identifier trimmed and lower-cased, a participant's phrase
// (no "@" in the identifier) normalised, a staff password used exactly as typed.
function signInInputs(identifier, secret) {
  const id = pyStrip(identifier).toLowerCase();
  return { id, secret: id.includes("@") ? secret : normalisePhrase(secret) };
}

// Version 2 mixes in the install's public id (the page's data-install-id), so that guesses computed for one
// Mend are no use against another; without one, version 1, the salt every install shared before, which only
// converts an older account at its next sign-in. As mend.core.envelope.sign_in_salt.
export async function signInSalt(identifier, installId) {
  const id = pyStrip(identifier).toLowerCase();
  if (installId === undefined || installId === null) return sha256(utf8(`mend/v1/sign-in|${id}`));
  if (!installId) throw failure("install_id_empty");
  return sha256(utf8(`mend/v2/sign-in|${installId}|${id}`));
}

async function signInMaster(identifier, secret, installId) {
  const { id, secret: typed } = signInInputs(identifier, secret);
  const salt = await signInSalt(id, installId);
  const base = await subtle.importKey("raw", utf8(typed), "PBKDF2", false, ["deriveBits"]);
  const params = { name: "PBKDF2", hash: "SHA-256", salt, iterations: PBKDF2_ITERATIONS };
  return new Uint8Array(await subtle.deriveBits(params, base, 256));
}

export async function deriveSignIn(identifier, secret, installId) {
  const master = await signInMaster(identifier, secret, installId);
  return {
    authKey: b64u(await hkdfBits(master, "mend/v1/auth")),
    wrapKey: await hkdfAesKey(master, "mend/v1/wrap"),
  };
}

// For the shared test vectors only: the wrapping key as bytes, which deriveSignIn never exposes.
export async function deriveSignInRaw(identifier, secret, installId) {
  const master = await signInMaster(identifier, secret, installId);
  return {
    authKey: b64u(await hkdfBits(master, "mend/v1/auth")),
    wrapKeyBytes: b64u(await hkdfBits(master, "mend/v1/wrap")),
  };
}

// --- recovery codes ----------------------------------------------------------------------------------

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(bytes) {
  let bits = "";
  for (const byte of bytes) bits += byte.toString(2).padStart(8, "0");
  return bits.match(/.{5}/g).map((five) => BASE32[parseInt(five, 2)]).join("");
}

function recoveryCodeBytes(code) {
  const letters = (code || "").toUpperCase().replace(RECOVERY_SEPARATORS, "");
  if (letters.length !== 32 || [...letters].some((c) => !BASE32.includes(c))) {
    throw failure("recovery_code_form");
  }
  const bits = [...letters].map((c) => BASE32.indexOf(c).toString(2).padStart(5, "0")).join("");
  return Uint8Array.from(bits.match(/.{8}/g), (eight) => parseInt(eight, 2));
}

export function newRecoveryCode() {
  return base32(randomBytes(20)).match(/.{4}/g).join("-");
}

export async function deriveRecovery(code) {
  const raw = recoveryCodeBytes(code);
  return {
    authKey: b64u(await hkdfBits(raw, "mend/v1/recovery-auth")),
    wrapKey: await hkdfAesKey(raw, "mend/v1/recovery-wrap"),
  };
}

// For the shared test vectors only.
export async function deriveRecoveryRaw(code) {
  const raw = recoveryCodeBytes(code);
  return {
    authKey: b64u(await hkdfBits(raw, "mend/v1/recovery-auth")),
    wrapKeyBytes: b64u(await hkdfBits(raw, "mend/v1/recovery-wrap")),
  };
}

// --- a person's keys ---------------------------------------------------------------------------------
// A keyset is {keyId, encPublic, signPublic, encPrivate, signPrivate}: public halves as 32 raw bytes,
// private halves as CryptoKeys. It survives structured cloning, so IndexedDB can keep it as it is.

async function fingerprint(encPublic, signPublic) {
  return sha256(concat(utf8("mend/v1/fingerprint"), asBytes(encPublic, 32), asBytes(signPublic, 32)));
}

export async function keyIdOf(encPublic, signPublic) {
  return b64u((await fingerprint(encPublic, signPublic)).slice(0, 16));
}

const SAFETY_CODE_GROUPS = 8; // per person; 5 bytes mod 100000 each, about 16.6 bits: 132.9 bits in all

// One person's part of every safety code they share: eight groups of five digits from SHA-512 of their
// keys' fingerprint (docs/crypto.md, "A person's keys"). Five bytes fit a Number exactly.
export async function safetyCodeOf(encPublic, signPublic) {
  const print = await fingerprint(encPublic, signPublic);
  const digest = new Uint8Array(await subtle.digest("SHA-512", concat(utf8("mend/v2/safety-code"), print)));
  const groups = [];
  for (let i = 0; i < 5 * SAFETY_CODE_GROUPS; i += 5) {
    const value = digest.slice(i, i + 5).reduce((sum, byte) => sum * 256 + byte, 0);
    groups.push(String(value % 100000).padStart(5, "0"));
  }
  return groups.join(" ");
}

// The code two people compare: both people's parts, the smaller first, so both screens show the same
// sixteen groups. Each side is {encPublic, signPublic} (bytes, or base64url text from the server).
export async function safetyCodeBetween(first, second) {
  const parts = [
    await safetyCodeOf(first.encPublic, first.signPublic),
    await safetyCodeOf(second.encPublic, second.signPublic),
  ];
  return parts.sort().join(" ");
}

async function keysetOf(encPrivate, signPrivate, encPublic, signPublic) {
  return { keyId: await keyIdOf(encPublic, signPublic), encPublic, signPublic, encPrivate, signPrivate };
}

async function rawPublic(publicKey) {
  return new Uint8Array(await subtle.exportKey("raw", publicKey));
}

// PKCS#8 of a raw 32-byte X25519 or Ed25519 private key (RFC 8410): a fixed prefix, then the key.
function pkcs8Of(kind, raw) {
  const prefix = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, KINDS[kind].oid];
  return concat(Uint8Array.from([...prefix, 0x04, 0x22, 0x04, 0x20]), asBytes(raw, 32, "private key"));
}

// Imports a private key and learns its public half (JWK "x"); a non-extractable key cannot tell it later.
async function importPrivate(kind, pkcs8, extractable) {
  const { algorithm, usages } = KINDS[kind];
  const probe = await subtle.importKey("pkcs8", pkcs8, algorithm, true, usages);
  const publicBytes = unb64u((await subtle.exportKey("jwk", probe)).x, 32, "public key");
  const key = extractable ? probe : await subtle.importKey("pkcs8", pkcs8, algorithm, false, usages);
  return { key, publicBytes };
}

function samePublic(bytes, expected, what) {
  if (expected !== undefined && b64u(bytes) !== b64u(asBytes(expected, 32, what))) {
    throw failure("public_key_mismatch", { what });
  }
}

// Builds a keyset from two PKCS#8 private keys, checking any public halves given alongside.
async function keysetFromPkcs8(encPkcs8, signPkcs8, publicInfo = {}, extractable = false) {
  const enc = await importPrivate("enc", encPkcs8, extractable);
  const sign = await importPrivate("sign", signPkcs8, extractable);
  samePublic(enc.publicBytes, publicInfo.enc_public, "encryption public key");
  samePublic(sign.publicBytes, publicInfo.sign_public, "signing public key");
  const keyset = await keysetOf(enc.key, sign.key, enc.publicBytes, sign.publicBytes);
  if (publicInfo.key_id !== undefined && publicInfo.key_id !== keyset.keyId) {
    throw failure("key_id_mismatch");
  }
  return keyset;
}

// Fresh keys, extractable once so that wrapKeys can wrap them; storeKeyset keeps them non-extractable.
export async function generateKeys() {
  const enc = await subtle.generateKey(KINDS.enc.algorithm, true, ["deriveBits"]);
  const sign = await subtle.generateKey(KINDS.sign.algorithm, true, ["sign", "verify"]);
  const encPublic = await rawPublic(enc.publicKey);
  const signPublic = await rawPublic(sign.publicKey);
  return keysetOf(enc.privateKey, sign.privateKey, encPublic, signPublic);
}

export async function publicOf(keyset) {
  return {
    enc_public: b64u(keyset.encPublic),
    sign_public: b64u(keyset.signPublic),
    key_id: keyset.keyId,
    safety_code: await safetyCodeOf(keyset.encPublic, keyset.signPublic),
  };
}

// The command-line client's key file (KeyPair.to_file(), perhaps with the public keys beside it).
export async function importKeysetFromFile(json) {
  const data = typeof json === "string" ? JSON.parse(json) : json;
  if (!data || data.v !== VERSION) throw failure("key_file_version");
  return keysetFromPkcs8(
    pkcs8Of("enc", unb64u(data.enc_private, 32, "encryption private key")),
    pkcs8Of("sign", unb64u(data.sign_private, 32, "signing private key")),
    data,
  );
}

// --- wrapped private keys ----------------------------------------------------------------------------

async function gcmEncrypt(key, iv, data, aad) {
  return new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, key, data));
}

// WebCrypto says only "OperationError" when a tag does not match; callers say what that means.
async function gcmDecrypt(key, iv, data, aad, code) {
  try {
    return new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, key, data));
  } catch {
    throw failure(code);
  }
}

async function aesKey(bytes) {
  return subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]);
}

async function wrapOne(wrapKey, privateKey, kind) {
  let pkcs8;
  try {
    pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", privateKey));
  } catch {
    throw failure("keys_not_extractable");
  }
  const iv = randomBytes(12);
  return { iv: b64u(iv), ct: b64u(await gcmEncrypt(wrapKey, iv, pkcs8, utf8(`mend/v1/key|${kind}`))) };
}

async function unwrapOne(wrapKey, wrapped, kind) {
  if (!wrapped || typeof wrapped !== "object") throw failure("wrapped_key_missing", { kind });
  const iv = unb64u(wrapped.iv, 12, "wrapping nonce");
  const ct = unb64u(wrapped.ct, undefined, "wrapped key");
  return gcmDecrypt(wrapKey, iv, ct, utf8(`mend/v1/key|${kind}`), "keys_do_not_open");
}

export async function wrapKeys(wrapKey, keyset) {
  return {
    v: VERSION,
    kdf: { name: KDF_NAME, iterations: PBKDF2_ITERATIONS },
    enc_private: await wrapOne(wrapKey, keyset.encPrivate, "enc"),
    sign_private: await wrapOne(wrapKey, keyset.signPrivate, "sign"),
  };
}

// The iteration count is fixed by the client: a bundle that records fewer (say, after a server chose
// them) is refused rather than trusted.
function checkBundle(wrapped) {
  if (!wrapped || wrapped.v !== VERSION) throw failure("key_bundle_version");
  const kdf = wrapped.kdf || {};
  if (kdf.name !== KDF_NAME) {
    throw failure("key_bundle_kdf", { name: kdf.name, expected: KDF_NAME });
  }
  if (!Number.isInteger(kdf.iterations) || kdf.iterations < PBKDF2_ITERATIONS) {
    throw failure("key_bundle_iterations", { iterations: PBKDF2_ITERATIONS });
  }
}

// publicInfo ({enc_public, sign_public, key_id}, any of them) is checked against the private keys.
export async function unwrapKeys(wrapKey, wrapped, publicInfo) {
  checkBundle(wrapped);
  const encPkcs8 = await unwrapOne(wrapKey, wrapped.enc_private, "enc");
  const signPkcs8 = await unwrapOne(wrapKey, wrapped.sign_private, "sign");
  return keysetFromPkcs8(encPkcs8, signPkcs8, publicInfo || {}, false);
}

// A person's first keys: made here, wrapped under the passphrase's key and under a new recovery code.
// Returns what the server keeps (`bundle`), the code to show once, and `unlock()` for the copy to use.
export async function newKeyBundle(wrapKey) {
  const keyset = await generateKeys();
  const code = newRecoveryCode();
  const recovery = await deriveRecovery(code);
  const pub = await publicOf(keyset);
  const wrapped = await wrapKeys(wrapKey, keyset);
  const bundle = {
    enc_public: pub.enc_public,
    sign_public: pub.sign_public,
    wrapped,
    recovery_wrapped: await wrapKeys(recovery.wrapKey, keyset),
    recovery_auth: recovery.authKey,
  };
  return { bundle, code, unlock: () => unwrapKeys(wrapKey, wrapped, pub) };
}

// A new passphrase (after recovery): the same keys, unwrapped for a moment as extractable only to be
// wrapped again under the new key; the caller stores the non-extractable copy this returns.
export async function rewrapKeys(oldWrapKey, wrapped, newWrapKey, publicInfo) {
  checkBundle(wrapped);
  const encPkcs8 = await unwrapOne(oldWrapKey, wrapped.enc_private, "enc");
  const signPkcs8 = await unwrapOne(oldWrapKey, wrapped.sign_private, "sign");
  const transient = await keysetFromPkcs8(encPkcs8, signPkcs8, publicInfo || {}, true);
  const rewrapped = await wrapKeys(newWrapKey, transient);
  return { wrapped: rewrapped, keyset: await lockDown(transient) };
}

// --- envelope v2 (and v1) ----------------------------------------------------------------------------
// Version 2 makes each recipient's entry from the content key, so that every reader can recompute every
// entry and see that each recipient got the same key; version 1 entries (random ephemeral keys) still open.

const ENVELOPE_VERSION = 2;
const V2_WRAP_NONCE = new Uint8Array(12); // each version 2 wrapping key is used once: a fixed nonce is safe
// An error that says which kind of problem it is, beside its code: "unreadable" (this person's own entry
// does not open), "not_for_these_keys" (no entry for them: sealed to other keys), "not_for_everyone" (some
// entry does not recompute), "altered" (anything else).
function problem(code, reason) {
  const error = failure(code);
  error.reason = reason;
  return error;
}

function pad(data) {
  const padded = new Uint8Array(Math.ceil((data.length + 1) / PAD_BLOCK) * PAD_BLOCK);
  padded.set(data);
  padded[data.length] = 0x80;
  return padded;
}

function unpad(data) {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end -= 1;
  if (end === 0 || data[end - 1] !== 0x80) throw failure("padding_broken");
  return data.slice(0, end - 1);
}

function envelopeVersion(envelope) {
  if (envelope.v !== 1 && envelope.v !== 2) {
    throw problem("envelope_version", "altered");
  }
  return envelope.v;
}

function associatedData(envelope, to) {
  const { conversation, id, sender } = envelope;
  const bound = { conversation, id, sender, v: envelopeVersion(envelope) };
  if (to !== undefined) bound.to = to;
  return canonicalBytes(bound);
}

function signedPart(envelope) {
  const { sig: _sig, ...rest } = envelope;
  return canonicalBytes(rest);
}

async function contentKek(shared, epk, recipientPublic, version = 1) {
  return hkdfAesKey(shared, `mend/v${version}/content-key`, concat(epk, recipientPublic));
}

async function x25519(privateKey, publicBytes) {
  const publicKey = await subtle.importKey("raw", publicBytes, KINDS.enc.algorithm, false, []);
  try {
    return new Uint8Array(await subtle.deriveBits({ name: "X25519", public: publicKey }, privateKey, 256));
  } catch {
    throw failure("small_order_key");
  }
}

// A fresh ephemeral key, or for the shared vectors of version 1 one made from fixed bytes.
async function ephemeralKey(fixedRaw) {
  if (fixedRaw !== undefined) {
    const { key, publicBytes } = await importPrivate("enc", pkcs8Of("enc", fixedRaw), false);
    return { privateKey: key, publicBytes };
  }
  const pair = await subtle.generateKey(KINDS.enc.algorithm, false, ["deriveBits"]);
  return { privateKey: pair.privateKey, publicBytes: await rawPublic(pair.publicKey) };
}

async function wrapContentKey(envelope, contentKey, recipient, fixedEphemeral, fixedNonce) {
  const recipientPublic = asBytes(recipient.enc_public, 32, "recipient's public key");
  const ephemeral = await ephemeralKey(fixedEphemeral);
  const shared = await x25519(ephemeral.privateKey, recipientPublic);
  const kek = await contentKek(shared, ephemeral.publicBytes, recipientPublic);
  const nonce = fixedNonce !== undefined ? unb64u(fixedNonce, 12, "wrap nonce") : randomBytes(12);
  const wrapped = await gcmEncrypt(kek, nonce, contentKey, associatedData(envelope, recipient.key_id));
  return { to: recipient.key_id, epk: b64u(ephemeral.publicBytes), nonce: b64u(nonce), ck: b64u(wrapped) };
}

// Version 2: the ephemeral key is HKDF(content key, "mend/v2/ephemeral", salt = the entry's associated
// data), clamped as RFC 7748 does, so that anyone holding the content key can make the entry again.
async function entryV2(envelope, contentKey, keyId, encPublic) {
  const bound = associatedData(envelope, keyId);
  const scalar = await hkdfBits(contentKey, "mend/v2/ephemeral", bound);
  scalar[0] &= 248;
  scalar[31] &= 127;
  scalar[31] |= 64;
  // Imported once, extractable: whoever holds the content key can make this key anyway.
  const ephemeral = await importPrivate("enc", pkcs8Of("enc", scalar), true);
  const shared = await x25519(ephemeral.key, encPublic);
  const kek = await contentKek(shared, ephemeral.publicBytes, encPublic, 2);
  const wrapped = await gcmEncrypt(kek, V2_WRAP_NONCE, contentKey, bound);
  return { to: keyId, epk: b64u(ephemeral.publicBytes), ck: b64u(wrapped) };
}

function byKeyId(a, b) {
  if (a.key_id === b.key_id) return 0;
  return a.key_id < b.key_id ? -1 : 1;
}

// Encrypts content to the recipients ({key_id, enc_public}) and signs the whole. `randomness` fixes the
// content key and nonce (and for version 1 the ephemeral keys and wrap nonces, base64url, in key_id
// order), and `version: 1` makes the old format: both for the shared test vectors only.
export async function seal({ sender, conversation, content, recipients, meta, id, randomness, version }) {
  const fixed = randomness || {};
  const envelope = {
    v: version === undefined ? ENVELOPE_VERSION : version,
    conversation,
    id: id || crypto.randomUUID(),
    sender: sender.keyId,
    // A copy: changing the caller's object afterwards must not change what was signed.
    meta: meta && Object.keys(meta).length ? structuredClone(meta) : { kind: "message" },
  };
  envelopeVersion(envelope);
  const contentKey = fixed.content_key ? unb64u(fixed.content_key, 32, "content key") : randomBytes(32);
  const nonce = fixed.nonce ? unb64u(fixed.nonce, 12, "nonce") : randomBytes(12);
  const padded = pad(canonicalBytes(content));
  const body = await gcmEncrypt(await aesKey(contentKey), nonce, padded, associatedData(envelope));
  const keys = [];
  for (const [index, recipient] of [...recipients].sort(byKeyId).entries()) {
    if (envelope.v === 2) {
      const encPublic = asBytes(recipient.enc_public, 32, "recipient's public key");
      keys.push(await entryV2(envelope, contentKey, recipient.key_id, encPublic));
      continue;
    }
    const fixedEphemeral = fixed.ephemeral ? fixed.ephemeral[index] : undefined;
    const fixedNonce = fixed.wrap_nonces ? fixed.wrap_nonces[index] : undefined;
    keys.push(await wrapContentKey(envelope, contentKey, recipient, fixedEphemeral, fixedNonce));
  }
  Object.assign(envelope, { nonce: b64u(nonce), body: b64u(body), keys });
  envelope.sig = b64u(await subtle.sign("Ed25519", sender.signPrivate, signedPart(envelope)));
  return envelope;
}

// A malformed envelope simply does not verify; a malformed public key is the caller's mistake and throws.
export async function verify(envelope, signPublic) {
  const raw = asBytes(signPublic, 32, "signing public key");
  const key = await subtle.importKey("raw", raw, "Ed25519", false, ["verify"]);
  try {
    return await subtle.verify("Ed25519", key, unb64u(envelope.sig, 64, "signature"), signedPart(envelope));
  } catch {
    return false;
  }
}

// The recipients' keys as the server lists them beside a message ({key_id: {enc_public, sign_public}},
// null where they are no longer kept), each checked against its key id here: the server's pairing of an
// id with keys is never trusted. A Map of key id to the encryption public key (bytes), or null if unknown.
export async function recipientKeys(listed) {
  if (!listed || typeof listed !== "object") {
    throw problem("recipient_keys_missing", "altered");
  }
  const result = new Map();
  for (const [keyId, keys] of Object.entries(listed)) {
    if (keys === null) {
      result.set(keyId, null);
      continue;
    }
    const enc = unb64u(keys.enc_public, 32, "recipient's key");
    const sign = unb64u(keys.sign_public, 32, "recipient's key");
    if ((await keyIdOf(enc, sign)) !== keyId) {
      throw problem("recipient_key_id_mismatch", "altered");
    }
    result.set(keyId, enc);
  }
  return result;
}

// Recomputes every entry of a version 2 envelope (throws if any differs); returns the key ids that could
// not be checked because their keys are no longer known. Version 1 entries cannot be checked at all.
async function checkEntries(envelope, contentKey, recipients) {
  const entries = envelope.keys || [];
  if (envelope.v !== 2) return entries.map((entry) => entry.to);
  const unknown = [];
  for (const entry of entries) {
    // Not listed at all (rather than listed as null, for an account that was closed): refused.
    if (!recipients.has(entry.to)) throw problem("not_for_everyone", "not_for_everyone");
    const encPublic = recipients.get(entry.to);
    if (!encPublic) {
      unknown.push(entry.to);
      continue;
    }
    let again;
    try {
      again = await entryV2(envelope, contentKey, entry.to, encPublic);
    } catch {
      again = null; // a key nothing could have been sealed to
    }
    if (!again || canonical(again) !== canonical(entry)) throw problem("not_for_everyone", "not_for_everyone");
  }
  return unknown;
}

async function openContentKey(envelope, keyset) {
  const version = envelopeVersion(envelope);
  const mine = (envelope.keys || []).find((entry) => entry.to === keyset.keyId);
  if (!mine) throw problem("not_for_these_keys", "not_for_these_keys");
  const epk = unb64u(mine.epk, 32, "ephemeral key");
  const wrapNonce = version === 2 ? V2_WRAP_NONCE : unb64u(mine.nonce, 12, "recipient nonce");
  const wrappedKey = unb64u(mine.ck, 48, "wrapped content key");
  let kek;
  try {
    kek = await contentKek(await x25519(keyset.encPrivate, epk), epk, keyset.encPublic, version);
  } catch {
    throw problem("not_for_you", "unreadable");
  }
  const toMe = associatedData(envelope, keyset.keyId);
  try {
    return await gcmDecrypt(kek, wrapNonce, wrappedKey, toMe, "not_for_you");
  } catch {
    throw problem("not_for_you", "unreadable");
  }
}

// Decrypts the content for this keyset and, given the recipients' keys (what recipientKeys returns),
// checks every entry of a version 2 envelope: {content, unchecked}, where unchecked lists the key ids that
// could not be checked (every one for version 1, or without recipients). The signature is checked
// separately, with verify. Errors carry a `reason` (see `problem`).
export async function openChecked(envelope, keyset, recipients) {
  if (!keyset) {
    throw problem("no_keys_to_open", "not_for_these_keys");
  }
  const contentKey = await openContentKey(envelope, keyset);
  const nonce = unb64u(envelope.nonce, 12, "nonce");
  const body = unb64u(envelope.body, undefined, "body");
  let padded;
  try {
    padded = await gcmDecrypt(await aesKey(contentKey), nonce, body, associatedData(envelope), "message_altered");
  } catch {
    throw problem("message_altered", "altered");
  }
  const unchecked = recipients
    ? await checkEntries(envelope, contentKey, recipients)
    : (envelope.keys || []).map((entry) => entry.to);
  const content = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(unpad(padded)));
  return { content, unchecked };
}

// Decrypts the content for this keyset, without checking the other entries (the sender's own outbox, the
// shared vectors); the signature is checked separately, with verify.
export async function open(envelope, keyset) {
  return (await openChecked(envelope, keyset)).content;
}

// A message as the server sends it (a frame: envelope, its sender's public keys and every recipient's),
// checked and opened: {content, unchecked} or {problem, reason}, the problem in messages.js's words.
export async function openFrame(frame, keyset) {
  const from = frame.from || {};
  if (!keyset) return { problem: words("no_keys_to_open") };
  try {
    if (!from.sign_public || !from.enc_public) throw failure("sender_keys_unknown");
    const keyId = await keyIdOf(unb64u(from.enc_public), unb64u(from.sign_public));
    if (keyId !== frame.envelope.sender || !(await verify(frame.envelope, from.sign_public))) {
      throw failure("sender_unverified");
    }
    const recipients = frame.envelope.v === 1 ? null : await recipientKeys(frame.recipient_keys);
    return await openChecked(frame.envelope, keyset, recipients);
  } catch (error) {
    return { problem: wordsOf(error), reason: error.reason || "altered" };
  }
}

// --- agreements ---------------------------------------------------------------------------------------

export const AGREEMENT_SIGNATURE = "mend-agreement-signature/1";

// A party's signature on an agreement version (docs/agreements.md): Ed25519 over the canonical JSON of
// the purpose, the version's frozen document, and the name they typed.
export async function signAgreement(keyset, documentText, typedName) {
  if (!keyset) throw failure("keys_locked_sign");
  const statement = { purpose: AGREEMENT_SIGNATURE, agreement: JSON.parse(documentText), name: typedName };
  const signature = await subtle.sign("Ed25519", keyset.signPrivate, canonicalBytes(statement));
  return { key_id: keyset.keyId, signature: b64u(new Uint8Array(signature)) };
}

// --- attachments -------------------------------------------------------------------------------------

function fileAad(conversation, fileId) {
  return canonicalBytes({ conversation, file: fileId, v: VERSION });
}

// `key` and `nonce` (base64url) are for the shared test vectors only.
export async function encryptFile(bytes, { conversation, fileId = crypto.randomUUID(), key, nonce }) {
  const data = toBytes(bytes);
  if (data.length > MAX_FILE_BYTES) throw failure("file_limit");
  const fileKey = key ? unb64u(key, 32, "file key") : randomBytes(32);
  const iv = nonce ? unb64u(nonce, 12, "file nonce") : randomBytes(12);
  const ciphertext = await gcmEncrypt(await aesKey(fileKey), iv, data, fileAad(conversation, fileId));
  return { ciphertext, entry: { id: fileId, key: b64u(fileKey), nonce: b64u(iv) } };
}

export async function decryptFile(ciphertext, { conversation, entry }) {
  const key = await aesKey(unb64u(entry.key, 32, "file key"));
  const nonce = unb64u(entry.nonce, 12, "file nonce");
  return gcmDecrypt(key, nonce, toBytes(ciphertext), fileAad(conversation, entry.id), "file_altered");
}

// --- IndexedDB: the signed-in person's keys and the fingerprints seen ---------------------------------

const DB_NAME = "mend-e2e";
const KEYS_STORE = "keys";
const PINS_STORE = "pins";
const SELF = "self";

function openDatabase() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(KEYS_STORE);
      request.result.createObjectStore(PINS_STORE);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// Runs one request in its own transaction and answers once that transaction has committed. The database
// is closed again at once, so that nothing blocks deleting it (say, on the quick exit).
async function inStore(storeName, mode, makeRequest) {
  const db = await openDatabase();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(storeName, mode);
      const request = makeRequest(transaction.objectStore(storeName));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  } finally {
    db.close();
  }
}

// A copy whose private halves are non-extractable, whatever the keyset given.
async function lockDown(keyset) {
  if (!keyset.encPrivate.extractable && !keyset.signPrivate.extractable) return keyset;
  const encPkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", keyset.encPrivate));
  const signPkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", keyset.signPrivate));
  return keysetFromPkcs8(encPkcs8, signPkcs8, { key_id: keyset.keyId }, false);
}

// Stores (and returns) a non-extractable copy: whoever reads IndexedDB later can use the keys in this
// browser but never carry them away.
export async function storeKeyset(keyset) {
  const locked = await lockDown(keyset);
  await inStore(KEYS_STORE, "readwrite", (store) => store.put(locked, SELF));
  return locked;
}

export async function loadKeyset() {
  const keyset = await inStore(KEYS_STORE, "readonly", (store) => store.get(SELF));
  return keyset ?? null;
}

export async function clearKeyset() {
  await inStore(KEYS_STORE, "readwrite", (store) => store.delete(SELF));
}

// --- pins per conversation: who this device has seen in each conversation, with which keys ----------------
// A record per conversation: {v: 1, members: {"<user>|<role>": {user, role, name, keys: [key ids]}}}. Key ids
// here are worked out in the browser from the public keys (keyIdOf), never the server's label; `keys` lists
// those accepted for that person in that role, the current one last (older ones still sign old messages).
// A `user:<id>` pin keeps the key last accepted for each person anywhere: a key that differs from it is
// noticed even on a first visit, or when the person first gets keys in a conversation.

const recordKey = (conversation) => `conversation:${conversation}`;
const memberKey = (person) => `${person.user}|${person.role}`;

// Runs `work(store, answer)` in one read-write transaction of the pins store; resolves with what it
// answered, once the transaction has committed.
async function inPins(work) {
  const db = await openDatabase();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(PINS_STORE, "readwrite");
      let answered;
      work(transaction.objectStore(PINS_STORE), (value) => {
        answered = value;
      });
      transaction.oncomplete = () => resolve(answered);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  } finally {
    db.close();
  }
}

// Reads several keys in the same transaction, then calls done({key: value}).
function getMany(store, keys, done) {
  const values = {};
  let left = keys.length;
  if (!left) done(values);
  for (const key of keys) {
    const request = store.get(key);
    request.onsuccess = () => {
      values[key] = request.result;
      left -= 1;
      if (!left) done(values);
    };
  }
}

function pinEntry(person, keys) {
  return { user: person.user, role: person.role, name: person.name, keys };
}

// Compares the members a page was given ({user, role, name, keyId}; keyId null for someone with no keys
// yet) with what this device saw in this conversation, reading and pinning in one transaction. The first
// visit pins what it sees (trust on first use), except a key that differs from the one pinned for that
// person elsewhere. Later, a person not seen here in that role is "new", and a key other than the current
// pinned one "changed"; neither is pinned until pinAcceptMember. Keys for someone who had none are pinned
// as first seen. Answers {changes: [{person, change}], record, first}. With {pinFirst: false}, a
// conversation never seen here is left unpinned (record null): nothing there is trusted on first use.
export async function pinMembers(conversation, people, { pinFirst = true } = {}) {
  const key = recordKey(conversation);
  return inPins((store, answer) => {
    getMany(store, [key, ...people.map((p) => `user:${p.user}`)], (values) => {
      const first = values[key] === undefined;
      if (first && !pinFirst) {
        answer({ changes: [], record: null, first });
        return;
      }
      const record = values[key] || { v: 1, members: {} };
      const changes = [];
      for (const person of people) {
        const elsewhere = values[`user:${person.user}`];
        const known = record.members[memberKey(person)];
        const current = known && known.keys[known.keys.length - 1];
        if (known === undefined && !first) {
          changes.push({ person, change: "new" });
        } else if (!current && person.keyId && elsewhere && elsewhere !== person.keyId) {
          // First keys here, but not the ones pinned for this person elsewhere: not pinned, a change.
          if (known === undefined) record.members[memberKey(person)] = pinEntry(person, [elsewhere]);
          changes.push({ person, change: "changed" });
        } else if (known === undefined || (current === undefined && person.keyId)) {
          record.members[memberKey(person)] = pinEntry(person, person.keyId ? [person.keyId] : []);
          if (person.keyId && elsewhere === undefined) store.put(person.keyId, `user:${person.user}`);
        } else if (person.keyId && person.keyId !== current) {
          changes.push({ person, change: "changed" });
        }
      }
      store.put(record, key);
      answer({ changes, record, first });
    });
  });
}

// The person said they checked: their key (or their place in this conversation) is pinned. Answers the
// conversation's record as it is now.
export async function pinAcceptMember(conversation, person) {
  const key = recordKey(conversation);
  return inPins((store, answer) => {
    getMany(store, [key], (values) => {
      const record = values[key] || { v: 1, members: {} };
      const known = record.members[memberKey(person)];
      const keys = known ? known.keys.filter((id) => id !== person.keyId) : [];
      if (person.keyId) keys.push(person.keyId);
      record.members[memberKey(person)] = pinEntry(person, keys);
      store.put(record, key);
      if (person.keyId) store.put(person.keyId, `user:${person.user}`);
      answer(record);
    });
  });
}

// Notes the lowest sequence number of a version 2 message seen in a conversation (in its pins record, if
// there is one): a version 1 message numbered after it was not written before the upgrade, and is refused.
// Answers the record as it is now (or null without one).
export async function pinFirstV2(conversation, seq) {
  const key = recordKey(conversation);
  return inPins((store, answer) => {
    getMany(store, [key], (values) => {
      const record = values[key];
      if (record && !(record.firstV2 <= seq)) {
        record.firstV2 = seq;
        store.put(record, key);
      }
      answer(record || null);
    });
  });
}

// How a message's signing key stands in a conversation's record: "pinned" (a key accepted for that person
// here, now or before), "changed" (the person is known here with other keys) or "unknown".
export function pinStateOf(record, user, keyId) {
  const entries = Object.values((record && record.members) || {}).filter((entry) => entry.user === user);
  if (entries.some((entry) => entry.keys.includes(keyId))) return "pinned";
  return entries.some((entry) => entry.keys.length) ? "changed" : "unknown";
}
