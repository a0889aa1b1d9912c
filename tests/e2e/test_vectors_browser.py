"""The browser's end-to-end encryption (static/mend/e2e.js) against the shared vectors and against Python.

The module is loaded from the real `mend serve`, under its Content-Security-Policy, into the public
sign-in page; each test runs WebCrypto there and checks the answers here with mend.core.envelope.
"""

import json
from pathlib import Path

import pytest
import rfc8785

from mend.accounts.credentials import normalise_phrase
from mend.core import envelope as e

pytestmark = pytest.mark.e2e

VECTORS = json.loads((Path(__file__).parents[1] / "dialogue" / "vectors.json").read_text())
MODULE = "/static/mend/e2e.js"
CONVERSATION = "D-TEST-BRWS"
SIGN_IN = "/account/sign-in/"
ELSEWHERE = "/no-such-page/"  # the not-found page: served with the same policy, and no script of its own


class BrowserCrypto:
    """A page with e2e.js imported; `run` evaluates a script body with the module as `m`."""

    def __init__(self, page):
        self.page = page

    def run(self, body: str, arg=None):
        return self.page.evaluate(f"async (arg) => {{ const m = await import('{MODULE}'); {body} }}", arg)


def _crypto_page(context, path: str = SIGN_IN) -> BrowserCrypto:
    page = context.new_page()
    page.goto(path)
    return BrowserCrypto(page)


@pytest.fixture
def browser_crypto(new_context) -> BrowserCrypto:
    """The public sign-in page, under the server's Content-Security-Policy, with e2e.js at hand."""
    return _crypto_page(new_context())


def _flip(text: str, index: int = 5) -> str:
    """The same text with one character changed."""
    return text[:index] + ("B" if text[index] == "A" else "A") + text[index + 1 :]


def _canonical(value) -> str:
    return e.canonical(value).decode()


def _recipient(keys: e.KeyPair) -> dict:
    return {"key_id": keys.key_id, "enc_public": e.b64u(keys.enc_public)}


def test_it_reproduces_the_shared_vectors(browser_crypto):
    # Given the vectors Python made from fixed seeds
    # When the browser derives the same keys and seals the same envelopes with the same randomness
    got = browser_crypto.run(
        """
        const signIn = [];
        for (const v of arg.sign_in) signIn.push(await m.deriveSignInRaw(v.identifier, v.secret));
        const people = {};
        const keysets = {};
        for (const [name, file] of Object.entries(arg.people)) {
            keysets[name] = await m.importKeysetFromFile(file);
            people[name] = {
                ...(await m.publicOf(keysets[name])),
                key_id: await m.keyIdOf(m.unb64u(file.enc_public), m.unb64u(file.sign_public)),
                safety_code: await m.safetyCodeOf(m.unb64u(file.enc_public), m.unb64u(file.sign_public)),
            };
        }
        const envelopes = [];
        for (const vector of arg.envelopes) {
            const sealed = await m.seal({
                sender: keysets[vector.sender],
                conversation: vector.envelope.conversation,
                content: vector.content,
                recipients: vector.to.map((name) => arg.people[name]),
                meta: vector.meta,
                id: vector.envelope.id,
                randomness: vector.randomness,
                version: vector.envelope.v,
            });
            envelopes.push({sealed: m.canonical(sealed), theirs: m.canonical(vector.envelope)});
        }
        const f = arg.file;
        const {ciphertext, entry} = await m.encryptFile(m.unb64u(f.plaintext), {
            conversation: f.conversation, fileId: f.entry.id, key: f.entry.key, nonce: f.entry.nonce,
        });
        const plain = await m.decryptFile(m.unb64u(f.ciphertext), {
            conversation: f.conversation, entry: f.entry,
        });
        return {
            signIn, people, envelopes,
            recovery: await m.deriveRecoveryRaw(arg.recovery.code),
            file: {ciphertext: m.b64u(ciphertext), entry, plaintext: m.b64u(plain)},
        };
        """,
        VECTORS,
    )

    # Then every sign-in key and wrapping key is the same
    assert got["signIn"] == [
        {"authKey": v["auth_key"], "wrapKeyBytes": v["wrap_key"]} for v in VECTORS["sign_in"]
    ]
    # And so are the recovery keys
    recovery = VECTORS["recovery"]
    assert got["recovery"] == {"authKey": recovery["auth"], "wrapKeyBytes": recovery["wrap_key"]}
    # And every person's public keys, key id and safety code
    for name, person in VECTORS["people"].items():
        expected = {k: person[k] for k in ("enc_public", "sign_public", "key_id", "safety_code")}
        assert got["people"][name] == expected, name
    # And every envelope, byte for byte, and the browser's canonical JSON is Python's
    for index, vector in enumerate(VECTORS["envelopes"]):
        assert got["envelopes"][index]["theirs"] == _canonical(vector["envelope"]), index
        assert got["envelopes"][index]["sealed"] == _canonical(vector["envelope"]), index
    # And the encrypted file, both ways
    assert got["file"] == {
        "ciphertext": VECTORS["file"]["ciphertext"],
        "entry": VECTORS["file"]["entry"],
        "plaintext": VECTORS["file"]["plaintext"],
    }


def test_it_opens_and_verifies_the_vector_envelopes_and_notices_any_change(browser_crypto):
    # Given each vector envelope, and copies with one character changed in the body, the signature or meta
    cases = []
    for vector in VECTORS["envelopes"]:
        envelope = vector["envelope"]
        altered_meta = {**envelope, "meta": {**envelope["meta"], "kind": _flip(envelope["meta"]["kind"], 0)}}
        cases.append(
            {
                "envelope": envelope,
                "sign_public": VECTORS["people"][vector["sender"]]["sign_public"],
                "to": vector["to"],
                "altered": {
                    "body": {**envelope, "body": _flip(envelope["body"])},
                    "sig": {**envelope, "sig": _flip(envelope["sig"])},
                    "last sig character": {**envelope, "sig": _flip(envelope["sig"], -1)},
                    "meta": altered_meta,
                },
            }
        )

    # When the browser opens each for each recipient and verifies each
    got = browser_crypto.run(
        """
        const keysets = {};
        for (const [name, file] of Object.entries(arg.people)) {
            keysets[name] = await m.importKeysetFromFile(file);
        }
        const refusal = async (promise) => {
            try { await promise; return null; } catch (error) { return error.message; }
        };
        const results = [];
        for (const c of arg.cases) {
            const opened = {};
            for (const name of c.to) opened[name] = await m.open(c.envelope, keysets[name]);
            const verifiedAltered = {};
            for (const [what, altered] of Object.entries(c.altered)) {
                verifiedAltered[what] = await m.verify(altered, c.sign_public);
            }
            const stranger = Object.keys(keysets).find((name) => !c.to.includes(name));
            results.push({
                opened,
                verified: await m.verify(c.envelope, c.sign_public),
                verifiedAltered,
                alteredBodyOpens: await refusal(m.open(c.altered.body, keysets[c.to[0]])),
                strangerOpens: stranger ? await refusal(m.open(c.envelope, keysets[stranger])) : "everyone",
            });
        }
        return results;
        """,
        {"people": VECTORS["people"], "cases": cases},
    )

    for vector, result in zip(VECTORS["envelopes"], got, strict=True):
        # Then every recipient gets the content back
        assert result["opened"] == {name: vector["content"] for name in vector["to"]}
        # And the signature holds, and holds no more once anything changed
        assert result["verified"] is True
        assert result["verifiedAltered"] == {
            "body": False,
            "sig": False,
            "last sig character": False,
            "meta": False,
        }
        # And a changed body, or keys it was not sealed for, do not open, with a reason
        assert (
            result["alteredBodyOpens"]
            == "The message does not decrypt: it was altered or is not for these keys."
        )
        assert result["strangerOpens"] in ("This message was not encrypted to these keys.", "everyone")


def test_it_unwraps_keys_non_extractable_and_refuses_weak_bundles(browser_crypto):
    # Given Ash's keys wrapped under the first sign-in vector, and the same bundle claiming fewer iterations
    bundle = VECTORS["wrapped_keys_of_ash_under_first_sign_in"]
    weak = {**bundle, "kdf": {**bundle["kdf"], "iterations": 100000}}
    other_kdf = {**bundle, "kdf": {"name": "scrypt", "iterations": 600000}}
    sign_in = VECTORS["sign_in"][0]

    # When the browser derives the wrapping key from the passphrase and unwraps them
    got = browser_crypto.run(
        """
        const refusal = async (promise) => {
            try { await promise; return null; } catch (error) { return error.message; }
        };
        const {wrapKey} = await m.deriveSignIn(arg.sign_in.identifier, arg.sign_in.secret);
        const keys = await m.unwrapKeys(wrapKey, arg.bundle, arg.ash);
        const other = await m.deriveSignIn(arg.other.identifier, arg.other.secret);
        const fresh = await m.generateKeys();
        const recovery = await m.deriveRecovery(arg.recovery_code);
        return {
            keyId: keys.keyId,
            extractable: [keys.encPrivate.extractable, keys.signPrivate.extractable, wrapKey.extractable],
            exportEnc: await refusal(crypto.subtle.exportKey("pkcs8", keys.encPrivate)),
            exportSign: await refusal(crypto.subtle.exportKey("jwk", keys.signPrivate)),
            opened: await m.open(arg.envelope, keys),
            weak: await refusal(m.unwrapKeys(wrapKey, arg.weak, arg.ash)),
            otherKdf: await refusal(m.unwrapKeys(wrapKey, arg.other_kdf, arg.ash)),
            wrongPassphrase: await refusal(m.unwrapKeys(other.wrapKey, arg.bundle, arg.ash)),
            wrongPublic: await refusal(m.unwrapKeys(wrapKey, arg.bundle, arg.birch)),
            rewrapLocked: await refusal(m.wrapKeys(wrapKey, keys)),
            fresh: await m.publicOf(fresh),
            freshWrapped: await m.wrapKeys(wrapKey, fresh),
            freshRecoveryCopy: await m.wrapKeys(recovery.wrapKey, fresh),
        };
        """,
        {
            "sign_in": sign_in,
            "other": VECTORS["sign_in"][1],
            "bundle": bundle,
            "weak": weak,
            "other_kdf": other_kdf,
            "ash": VECTORS["people"]["ash"],
            "birch": VECTORS["people"]["birch"],
            "envelope": VECTORS["envelopes"][1]["envelope"],
            "recovery_code": VECTORS["recovery"]["code"],
        },
    )

    # Then they are Ash's keys, they open a message to Ash, and nothing can read them back out
    assert got["keyId"] == VECTORS["people"]["ash"]["key_id"]
    assert got["opened"] == VECTORS["envelopes"][1]["content"]
    assert got["extractable"] == [False, False, False]
    assert got["exportEnc"] and got["exportSign"]
    # And a bundle with fewer iterations or another KDF is refused, as are the wrong passphrase and keys
    assert got["weak"] == "Refusing keys wrapped with fewer than 600000 PBKDF2 iterations."
    assert "only PBKDF2-SHA-256 is accepted" in got["otherKdf"]
    assert got["wrongPassphrase"] == "These keys do not open with that passphrase or code."
    assert got["wrongPublic"] == "The encryption public key does not belong to these private keys."
    assert "not extractable" in got["rewrapLocked"]
    # And Python unwraps fresh keys the browser wrapped, under the passphrase and under the recovery code
    for wrapped, wrap_key in [
        (got["freshWrapped"], sign_in["wrap_key"]),
        (got["freshRecoveryCopy"], VECTORS["recovery"]["wrap_key"]),
    ]:
        assert wrapped["kdf"] == {"name": "PBKDF2-SHA-256", "iterations": 600000}
        keys = e.unwrap_keys(e.unb64u(wrap_key), wrapped)
        assert keys.public() == {k: got["fresh"][k] for k in ("enc_public", "sign_public")}
        assert keys.key_id == got["fresh"]["key_id"]
        assert e.safety_code_of(keys.enc_public, keys.sign_public) == got["fresh"]["safety_code"]


def test_it_seals_envelopes_that_python_opens_and_opens_those_python_seals(browser_crypto):
    # Given a person with keys in Python and a browser with fresh keys of its own
    python_keys = e.KeyPair.generate()
    browser_public = browser_crypto.run(
        "globalThis.testKeys = await m.generateKeys(); return await m.publicOf(globalThis.testKeys);"
    )
    browser_recipient = {"key_id": browser_public["key_id"], "enc_public": browser_public["enc_public"]}
    file_id = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c"
    content = {"text": "From the browser: ünïcödé ✓ \U0001f33f\n" * 40, "files": [{"id": file_id, "size": 3}]}
    meta = {"kind": "for_relay", "approved": True, "files": [file_id]}

    # When the browser seals a message to both and Python receives it
    sealed = browser_crypto.run(
        """
        const sealed = await m.seal({
            sender: globalThis.testKeys, conversation: arg.conversation, content: arg.content,
            recipients: arg.recipients, meta: arg.meta,
        });
        return {sealed, selfOpened: await m.open(sealed, globalThis.testKeys)};
        """,
        {
            "conversation": CONVERSATION,
            "content": content,
            "meta": meta,
            "recipients": [_recipient(python_keys), browser_recipient],
        },
    )
    envelope = sealed["sealed"]

    # Then Python accepts its form, verifies its signature and opens it
    assert e.check_form(envelope) is envelope
    assert envelope["sender"] == browser_public["key_id"]
    assert [k["to"] for k in envelope["keys"]] == sorted([python_keys.key_id, browser_public["key_id"]])
    e.verify(envelope, e.unb64u(browser_public["sign_public"]))
    assert e.open_envelope(envelope, python_keys) == content
    assert sealed["selfOpened"] == content
    with pytest.raises(e.EnvelopeError):
        e.verify({**envelope, "meta": {**meta, "approved": False}}, e.unb64u(browser_public["sign_public"]))

    # When Python seals a message to the browser
    reply = {"text": "From Python, with a file.", "files": [{"id": file_id, "name": "a.pdf"}]}
    from_python = e.seal(
        sender=python_keys,
        conversation=CONVERSATION,
        content=reply,
        recipients=[e.Recipient(browser_public["key_id"], e.unb64u(browser_public["enc_public"]))],
        meta={"kind": "message", "files": [file_id]},
    )

    # Then the browser verifies and opens it
    got = browser_crypto.run(
        """
        return {
            verified: await m.verify(arg.envelope, arg.sign_public),
            opened: await m.open(arg.envelope, globalThis.testKeys),
        };
        """,
        {"envelope": from_python, "sign_public": python_keys.public()["sign_public"]},
    )
    assert got == {"verified": True, "opened": reply}


def test_it_encrypts_files_that_python_decrypts_and_decrypts_those_python_encrypts(browser_crypto):
    # Given a small file of every byte value
    data = bytes(range(256)) * 5
    file_id = "7c6b5a49-3827-4165-9473-829102a3b4c5"

    # When the browser encrypts it and Python decrypts it
    got = browser_crypto.run(
        """
        const {ciphertext, entry} = await m.encryptFile(m.unb64u(arg.data), {
            conversation: arg.conversation, fileId: arg.fileId,
        });
        return {ciphertext: m.b64u(ciphertext), entry};
        """,
        {"data": e.b64u(data), "conversation": CONVERSATION, "fileId": file_id},
    )
    entry = got["entry"]
    assert entry["id"] == file_id
    assert e.decrypt_file(e.unb64u(got["ciphertext"]), conversation=CONVERSATION, entry=entry) == data
    with pytest.raises(e.EnvelopeError):
        e.decrypt_file(e.unb64u(got["ciphertext"]), conversation="D-ELSE-WHER", entry=entry)

    # And when Python encrypts it and the browser decrypts it
    ciphertext, python_entry = e.encrypt_file(data, conversation=CONVERSATION, file_id=file_id)
    back = browser_crypto.run(
        """
        const refusal = async (promise) => {
            try { await promise; return null; } catch (error) { return error.message; }
        };
        const ciphertext = m.unb64u(arg.ciphertext);
        const plain = await m.decryptFile(ciphertext, {conversation: arg.conversation, entry: arg.entry});
        const moved = await refusal(m.decryptFile(ciphertext, {
            conversation: arg.conversation, entry: {...arg.entry, id: crypto.randomUUID()},
        }));
        return {plain: m.b64u(plain), moved};
        """,
        {"ciphertext": e.b64u(ciphertext), "conversation": CONVERSATION, "entry": python_entry},
    )

    # Then both sides get the same bytes, and a file moved to another id does not decrypt
    assert back == {
        "plain": e.b64u(data),
        "moved": "The file does not decrypt: it was altered or the key is wrong.",
    }


def test_it_keeps_the_keys_in_indexeddb_until_cleared(new_context):
    # Given fresh keys stored for the signed-in person, in a page that does not clear them on load
    # (the sign-in page does, on purpose)
    context = new_context()
    first = _crypto_page(context, ELSEWHERE)
    stored = first.run(
        """
        const keys = await m.generateKeys();
        const kept = await m.storeKeyset(keys);
        return {
            public: await m.publicOf(keys),
            extractable: [keys.encPrivate.extractable, kept.encPrivate.extractable],
        };
        """
    )
    assert stored["extractable"] == [True, False]
    public = stored["public"]

    # And a message sealed to them in Python
    content = {"text": "Still yours on the next page."}
    envelope = e.seal(
        sender=e.KeyPair.generate(),
        conversation=CONVERSATION,
        content=content,
        recipients=[e.Recipient(public["key_id"], e.unb64u(public["enc_public"]))],
    )

    # When another page of the same browser reads the keys back, opens the message and clears them
    later = _crypto_page(context, ELSEWHERE)
    got = later.run(
        """
        const keys = await m.loadKeyset();
        const opened = await m.open(arg, keys);
        await m.clearKeyset();
        return {
            public: await m.publicOf(keys),
            extractable: [keys.encPrivate.extractable, keys.signPrivate.extractable],
            exported: await crypto.subtle.exportKey("pkcs8", keys.encPrivate).then(() => true, () => false),
            opened,
            afterClear: await m.loadKeyset(),
        };
        """,
        envelope,
    )

    # Then they are the same keys, still non-extractable, and they still decrypt
    assert got["public"] == public
    assert got["extractable"] == [False, False]
    assert got["exported"] is False
    assert got["opened"] == content
    # And once cleared there are none, for the first page too
    assert got["afterClear"] is None
    assert first.run("return await m.loadKeyset();") is None


def test_it_does_not_pin_first_keys_in_a_conversation_that_differ_from_those_pinned_elsewhere(browser_crypto):
    # Given ash is pinned with one key in one conversation, and was seen in another before having keys
    got = browser_crypto.run(
        """
        const ash = {user: 1, role: "harmed_party", name: "Ash", keyId: "key-of-ash"};
        const summary = ({changes}) => changes.map(({person, change}) => `${person.name}:${change}`);
        await m.pinMembers("C-1", [ash]);
        const withoutKeys = await m.pinMembers("C-2", [{...ash, keyId: null}]);
        // When ash first has keys in the second conversation, and they are other keys
        const other = await m.pinMembers("C-2", [{...ash, keyId: "other-key"}]);
        const again = await m.pinMembers("C-2", [{...ash, keyId: "other-key"}]);
        // And, for comparison, the keys pinned elsewhere are taken as first seen
        await m.pinMembers("C-3", [{...ash, keyId: null}]);
        const same = await m.pinMembers("C-3", [ash]);
        return {
            withoutKeys: summary(withoutKeys), other: summary(other), again: summary(again),
            pinned: again.record.members["1|harmed_party"].keys, same: summary(same),
            samePinned: same.record.members["1|harmed_party"].keys,
        };
        """
    )

    # Then the other keys are a change to check, and stay unpinned until the person has checked
    assert got["withoutKeys"] == []
    assert got["other"] == got["again"] == ["Ash:changed"]
    assert got["pinned"] == []
    assert got["same"] == [] and got["samePinned"] == ["key-of-ash"]


def test_it_leaves_a_conversation_never_opened_here_unpinned_when_asked_not_to_trust_it(browser_crypto):
    # Given a conversation this device has never opened (the facilitator's pass-on target)
    got = browser_crypto.run(
        """
        const ash = {user: 1, role: "harmed_party", name: "Ash", keyId: "key-of-ash"};
        const unopened = await m.pinMembers("C-9", [ash], {pinFirst: false});
        const opened = await m.pinMembers("C-9", [ash]);
        return {unopened, first: opened.first, changes: opened.changes.length};
        """
    )

    # Then nothing there is pinned on the server's word, and the page's own first visit still pins
    assert got["unopened"] == {"changes": [], "record": None, "first": True}
    assert got["first"] is True and got["changes"] == 0


def test_it_reproduces_the_safety_codes_of_the_vector_people(browser_crypto):
    # Given the safety code of each pair of vector people, as Python worked them out
    # When the browser works them out from the same public keys, both ways round
    got = browser_crypto.run(
        """
        const side = (p) => ({encPublic: p.enc_public, signPublic: p.sign_public});
        const codes = [];
        for (const {between: [a, b]} of arg.safety_codes) {
            codes.push([
                await m.safetyCodeBetween(side(arg.people[a]), side(arg.people[b])),
                await m.safetyCodeBetween(side(arg.people[b]), side(arg.people[a])),
            ]);
        }
        return codes;
        """,
        {"people": VECTORS["people"], "safety_codes": VECTORS["safety_codes"]},
    )

    # Then each pair's code is Python's, byte for byte, whoever of the two works it out
    assert got == [[vector["code"], vector["code"]] for vector in VECTORS["safety_codes"]]


def test_it_tells_new_members_and_changed_keys_apart_per_conversation(browser_crypto):
    # Given a conversation first seen with ash and birch, then with a new member and a changed key
    got = browser_crypto.run(
        """
        const ash = {user: 1, role: "facilitator", name: "Ash", keyId: "key-of-ash"};
        const birch = {user: 2, role: "harmed_party", name: "Birch", keyId: "key-of-birch"};
        const cedar = {user: 3, role: "co_facilitator", name: "Cedar", keyId: "key-of-cedar"};
        const summary = ({changes}) => changes.map(({person, change}) => `${person.name}:${change}`);
        const first = await m.pinMembers("C-1", [ash, birch]);
        const again = await m.pinMembers("C-1", [ash, birch]);
        const later = await m.pinMembers("C-1", [{...ash, keyId: "new-key-of-ash"}, birch, cedar]);
        const still = await m.pinMembers("C-1", [{...ash, keyId: "new-key-of-ash"}, birch, cedar]);
        await m.pinAcceptMember("C-1", {...ash, keyId: "new-key-of-ash"});
        const record = await m.pinAcceptMember("C-1", cedar);
        // Elsewhere, on a first visit, ash's old key is noticed as a change: the new one is pinned now
        const elsewhere = await m.pinMembers("C-2", [birch, {...ash, keyId: "key-of-ash"}]);
        // And birch in another role is someone new
        const otherRole = await m.pinMembers("C-1", [{...birch, role: "supporter"}]);
        return {
            first: summary(first), again: summary(again), later: summary(later), still: summary(still),
            elsewhere: summary(elsewhere), otherRole: summary(otherRole),
            after: summary(await m.pinMembers("C-1", [{...ash, keyId: "new-key-of-ash"}, birch, cedar])),
            states: [
                m.pinStateOf(record, 1, "key-of-ash"), m.pinStateOf(record, 1, "new-key-of-ash"),
                m.pinStateOf(record, 2, "key-of-cedar"), m.pinStateOf(record, 9, "key-of-ash"),
            ],
        };
        """
    )

    # Then the first visit pins what it sees, and later a new member and a changed key are told apart
    assert got["first"] == [] and got["again"] == []
    assert got["later"] == got["still"] == ["Ash:changed", "Cedar:new"]
    # And once checked they are pinned; the old key still counts for old messages
    assert got["after"] == []
    assert got["states"] == ["pinned", "pinned", "changed", "unknown"]
    assert got["elsewhere"] == ["Ash:changed"]
    assert got["otherRole"] == ["Birch:new"]


def test_it_writes_canonical_json_and_normalises_phrases_as_python_does(browser_crypto):
    # Given values whose canonical form is easy to get wrong, and phrases typed in odd ways
    values = [
        {"\u20ac": 1, "\r": 2, "\U0001f600": 3, "\ufb33": 4, "1": 5, "a": [True, False, None, -0, 10**15]},
        {"text": 'quote " backslash \\ control \u0001 \u007f \u2028 é ✓', "nested": {"b": {}, "a": []}},
        "\u00e9\U0001f33f",
        9007199254740991,
    ]
    phrases = [
        "  Amble-Crisp__dolphin. rustic,velvet YONDER\u3000",
        "\u00a0amble\u2003crisp\x1cdolphin\x85rustic\tvelvet\nyonder ",
        "--amble..crisp",
        "",
    ]

    # When the browser writes them
    got = browser_crypto.run(
        "return {values: arg.values.map(m.canonical), phrases: arg.phrases.map(m.normalisePhrase)};",
        {"values": values, "phrases": phrases},
    )

    # Then it writes what Python writes
    assert got["values"] == [rfc8785.dumps(v).decode() for v in values]
    assert got["phrases"] == [normalise_phrase(p) for p in phrases]


def test_it_normalises_the_phrase_and_identifier_when_deriving_the_sign_in_keys(browser_crypto):
    # Given a participant who types their sign-in name and phrase untidily
    vector = VECTORS["sign_in"][1]

    # When the browser derives their sign-in keys
    got = browser_crypto.run(
        """
        const tidy = await m.deriveSignIn(arg.identifier, arg.secret);
        const untidy = await m.deriveSignIn(" " + arg.identifier.toUpperCase() + " ", arg.untidy);
        return {
            tidy: tidy.authKey,
            untidy: untidy.authKey,
            wrap: [untidy.wrapKey.algorithm.name, untidy.wrapKey.extractable],
        };
        """,
        {**vector, "untidy": "  Amble-Crisp__dolphin. rustic,velvet YONDER "},
    )

    # Then they get the same authentication key, and a wrapping key that never leaves WebCrypto
    assert got == {"tidy": vector["auth_key"], "untidy": vector["auth_key"], "wrap": ["AES-GCM", False]}


def test_it_derives_the_sign_in_keys_with_the_installs_salt_as_python_does(browser_crypto):
    # Given the version 2 sign-in vectors: the same person on two installs, and a participant
    # When the browser derives the salt and the keys with each install's id, and with none (version 1)
    got = browser_crypto.run(
        """
        const found = [];
        for (const v of arg.v2) {
            const keys = await m.deriveSignInRaw(v.identifier, v.secret, v.install_id);
            found.push({salt: m.b64u(await m.signInSalt(v.identifier, v.install_id)), ...keys});
        }
        const v1 = await m.deriveSignInRaw(arg.v1.identifier, arg.v1.secret);
        let empty = "";
        try {
            await m.deriveSignIn(arg.v1.identifier, arg.v1.secret, "");
        } catch (error) {
            empty = error.message;
        }
        return {found, v1, empty};
        """,
        {"v2": VECTORS["sign_in_v2"], "v1": VECTORS["sign_in"][0]},
    )

    # Then every salt, sign-in key and wrapping key is Python's, byte for byte
    assert got["found"] == [
        {"salt": v["salt"], "authKey": v["auth_key"], "wrapKeyBytes": v["wrap_key"]}
        for v in VECTORS["sign_in_v2"]
    ]
    # And another install, or the older salt, gives other keys; an empty install id is refused, not ignored
    keys = {v["auth_key"] for v in VECTORS["sign_in_v2"]} | {got["v1"]["authKey"]}
    assert len(keys) == 4 and got["v1"]["authKey"] == VECTORS["sign_in"][0]["auth_key"]
    assert got["empty"] == "The install id is empty."


# --- envelope v2: every recipient checks every other's entry --------------------------------------------


def test_it_reproduces_the_version_2_vectors_byte_for_byte(browser_crypto):
    # Given the version 2 vectors Python made, where only the content key and the body's nonce are random
    # When the browser seals the same messages with the same content key and nonce
    got = browser_crypto.run(
        """
        const keysets = {};
        for (const [name, file] of Object.entries(arg.people)) {
            keysets[name] = await m.importKeysetFromFile(file);
        }
        const sealed = [];
        for (const vector of arg.envelopes) {
            const envelope = await m.seal({
                sender: keysets[vector.sender],
                conversation: vector.envelope.conversation,
                content: vector.content,
                recipients: vector.to.map((name) => arg.people[name]),
                meta: vector.meta,
                id: vector.envelope.id,
                randomness: vector.randomness,
            });
            sealed.push(m.canonical(envelope));
        }
        return sealed;
        """,
        {"people": VECTORS["people"], "envelopes": VECTORS["envelopes_v2"]},
    )

    # Then every envelope is Python's, byte for byte: the entries follow from the content key alone
    assert got == [_canonical(vector["envelope"]) for vector in VECTORS["envelopes_v2"]]


def _listed(names: list[str]) -> dict:
    people = VECTORS["people"]
    return {
        people[n]["key_id"]: {"enc_public": people[n]["enc_public"], "sign_public": people[n]["sign_public"]}
        for n in names
    }


def test_it_checks_every_entry_of_version_2_and_refuses_a_message_with_junk_for_someone(browser_crypto):
    # Given the version 2 vectors, the one with junk in cedar's entry, and a version 1 vector
    junk = VECTORS["envelope_v2_not_for_everyone"]
    old = VECTORS["envelopes"][0]
    people = VECTORS["people"]

    def frame(vector: dict, listed: dict | None = None) -> dict:
        sender = people[vector["sender"]]
        return {
            "envelope": vector["envelope"],
            "from": {"enc_public": sender["enc_public"], "sign_public": sender["sign_public"]},
            "recipient_keys": _listed(vector["to"]) if listed is None else listed,
        }

    # A server that pairs cedar's key id with birch's keys
    birch_keys = _listed(["birch"])[people["birch"]["key_id"]]
    swapped = {**_listed(junk["to"]), people["cedar"]["key_id"]: birch_keys}
    first = VECTORS["envelopes_v2"][0]
    absent = next(k["to"] for k in first["envelope"]["keys"] if k["to"] != people["birch"]["key_id"])
    left_out = {key_id: keys for key_id, keys in _listed(first["to"]).items() if key_id != absent}

    # When each recipient opens each as the pages do (openFrame)
    got = browser_crypto.run(
        """
        const keysets = {};
        for (const [name, file] of Object.entries(arg.people)) {
            keysets[name] = await m.importKeysetFromFile(file);
        }
        const openAll = async (f, names) => {
            const out = {};
            for (const name of names) out[name] = await m.openFrame(f, keysets[name]);
            return out;
        };
        const good = [];
        for (const [i, f] of arg.good.entries()) good.push(await openAll(f, arg.goodTo[i]));
        return {
            good,
            junk: await openAll(arg.junk, ["birch", "cedar"]),
            // Without the check, birch's own copy opens: the check is what refuses it
            junkUnchecked: await m.open(arg.junk.envelope, keysets.birch),
            swapped: await m.openFrame({...arg.good[0], recipient_keys: arg.swapped}, keysets.birch),
            // A server that leaves a recipient out of the keys it lists, or lists them as null (closed)
            leftOut: await m.openFrame({...arg.good[0], recipient_keys: arg.leftOut}, keysets.birch),
            closed: await m.openFrame({...arg.good[0], recipient_keys: arg.closed}, keysets.birch),
            old: await openAll(arg.old, ["birch", "cedar"]),
        };
        """,
        {
            "people": people,
            "good": [frame(v) for v in VECTORS["envelopes_v2"]],
            "goodTo": [v["to"] for v in VECTORS["envelopes_v2"]],
            "junk": frame(junk),
            "swapped": swapped,
            "leftOut": left_out,
            "closed": {**left_out, absent: None},
            "old": frame(old),
        },
    )

    # Then every recipient of a version 2 vector opens it with every entry checked
    for vector, opened in zip(VECTORS["envelopes_v2"], got["good"], strict=True):
        assert opened == {name: {"content": vector["content"], "unchecked": []} for name in vector["to"]}
    # And the message with junk for cedar is shown to no one: birch is told why, cedar that it is not for them
    assert got["junkUnchecked"] == junk["content"]
    assert got["junk"] == {
        "birch": {
            "problem": "This message was not sealed correctly for everyone in this conversation, "
            "so it is not shown.",
            "reason": "not_for_everyone",
        },
        "cedar": {
            "problem": "This message was not sealed so that you can read it: "
            "your copy of its key does not open.",
            "reason": "unreadable",
        },
    }
    # And keys the server paired with the wrong key id are refused, never used
    assert got["swapped"] == {
        "problem": "A recipient's keys do not match their key id, so this message is not shown.",
        "reason": "altered",
    }
    # And a recipient left out of the listed keys makes the message refused; listed as null (an account
    # closed), it opens with that entry reported as not checked
    assert got["leftOut"]["reason"] == "not_for_everyone"
    assert got["closed"] == {"content": VECTORS["envelopes_v2"][0]["content"], "unchecked": [absent]}
    # And a version 1 message still opens, marked as not checked for everyone
    entries = [k["to"] for k in old["envelope"]["keys"]]
    assert got["old"] == {name: {"content": old["content"], "unchecked": entries} for name in old["to"]}


def test_it_seals_version_2_that_python_checks_for_every_recipient(browser_crypto):
    # Given two people with keys in Python
    first, second = e.KeyPair.generate(), e.KeyPair.generate()
    # When the browser seals a message to both
    envelope = browser_crypto.run(
        """
        const sender = await m.generateKeys();
        return await m.seal({sender, conversation: arg.conversation, content: {text: "Checked by all."},
                             recipients: arg.recipients});
        """,
        {"conversation": CONVERSATION, "recipients": [_recipient(first), _recipient(second)]},
    )
    # Then it is version 2, the server's form check accepts it, and each recipient checks every entry
    assert envelope["v"] == 2 and e.check_form(envelope) is envelope
    listed = e.recipient_keys({k.key_id: k.public() for k in (first, second)})
    for keys in (first, second):
        assert e.open_checked(envelope, keys, listed) == ({"text": "Checked by all."}, [])
