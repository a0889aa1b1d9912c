"""Envelope v2 (and v1, which still opens) and the sign-in keys: shared vectors, round trips, tampering,
every recipient checking every other's entry, and the server's form check."""

import base64
import copy
import functools
import hashlib
import json
import math

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mend.core import envelope as e
from mend.core.envelope import EnvelopeError
from tests.dialogue import vectors

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

WRAPPED = "wrapped_keys_of_ash_under_first_sign_in"
CONVERSATION = "D-TEST-HYPO"


# PBKDF2 at 600,000 iterations costs about 0.1 s, so each derivation is made once per run.
@functools.cache
def _built() -> dict:
    return vectors.build()


@functools.cache
def _stored() -> dict:
    return json.loads(vectors.PATH.read_text())


@functools.cache
def _derived(identifier: str, secret: str) -> tuple[str, bytes]:
    return e.derive_sign_in(identifier, secret)


def _seeded(name: str) -> e.KeyPair:
    seed = hashlib.sha256(f"tests/envelope/{name}".encode()).digest()
    return e.KeyPair(X25519PrivateKey.from_private_bytes(seed), Ed25519PrivateKey.from_private_bytes(seed))


CAST = [_seeded(name) for name in ("alder", "bramble", "clover", "dune", "elm", "flint", "gorse")]
OUTSIDER = _seeded("outsider")
BY_KEY_ID = {keys.key_id: keys for keys in CAST}


def _recipient(keys: e.KeyPair) -> e.Recipient:
    return e.Recipient(keys.key_id, keys.enc_public)


def _vector_keys(name: str) -> e.KeyPair:
    return e.KeyPair.from_file(_stored()["people"][name])


def _vector_envelope(index: int = 0) -> dict:
    return copy.deepcopy(_stored()["envelopes_v2"][index]["envelope"])


def _public_keys(people: list[e.KeyPair]) -> dict:
    """The recipients' keys as the server lists them beside a message."""
    return {keys.key_id: {**keys.public()} for keys in people}


def _seal(sender: e.KeyPair, recipients: list[e.KeyPair], text: str, meta=None, conversation=CONVERSATION):
    return e.seal(
        sender=sender,
        conversation=conversation,
        content={"text": text},
        recipients=[_recipient(keys) for keys in recipients],
        meta=meta,
    )


uuid4s = st.uuids(version=4).map(str)
metas = st.one_of(
    st.fixed_dictionaries({"kind": st.just("message")}, optional={"files": st.lists(uuid4s, max_size=4)}),
    st.fixed_dictionaries({"kind": st.just("for_relay"), "approved": st.booleans()}),
    st.fixed_dictionaries({"kind": st.sampled_from(["relayed", "returned"]), "ref": uuid4s}),
)


# The shared vectors.


def test_it_reproduces_every_deterministic_vector():
    built, stored = _built(), _stored()
    assert set(built) == set(stored)
    sections = ("people", "sign_in", "recovery", "envelopes", "envelopes_v2", "envelope_v2_not_for_everyone")
    for section in (*sections, "file"):
        assert built[section] == stored[section], section


def test_it_reproduces_vectors_json_byte_for_byte_apart_from_the_fresh_wrapping():
    # The wrapped keys use fresh ivs each time; everything else is fixed by seeds.
    built = {**_built(), WRAPPED: _stored()[WRAPPED]}
    assert json.dumps(built, indent=1, ensure_ascii=False) + "\n" == vectors.PATH.read_text()


def test_it_wraps_keys_in_the_recorded_shape_with_fresh_randomness():
    built, stored = _built()[WRAPPED], _stored()[WRAPPED]
    assert built["v"] == stored["v"] == 1
    assert built["kdf"] == stored["kdf"] == {"name": "PBKDF2-SHA-256", "iterations": 600_000}
    for kind in ("enc_private", "sign_private"):
        assert set(built[kind]) == set(stored[kind]) == {"iv", "ct"}
        assert len(e.unb64u(built[kind]["iv"])) == len(e.unb64u(stored[kind]["iv"])) == 12
        assert len(e.unb64u(built[kind]["ct"])) == len(e.unb64u(stored[kind]["ct"]))
        assert built[kind]["iv"] != stored[kind]["iv"]


@pytest.mark.parametrize("source", [_stored, _built], ids=["vectors.json", "build()"])
def test_it_unwraps_the_vector_keys_to_ash_with_the_first_sign_in_wrap_key(source):
    wrap_key = e.unb64u(_stored()["sign_in"][0]["wrap_key"])
    keys = e.unwrap_keys(wrap_key, source()[WRAPPED])
    ash = _stored()["people"]["ash"]
    assert keys.to_file() == {"v": 1, "enc_private": ash["enc_private"], "sign_private": ash["sign_private"]}
    assert keys.public() == {"enc_public": ash["enc_public"], "sign_public": ash["sign_public"]}


def test_it_derives_key_ids_and_safety_codes_from_the_public_halves():
    for person in _stored()["people"].values():
        enc_public, sign_public = e.unb64u(person["enc_public"]), e.unb64u(person["sign_public"])
        assert e.key_id_of(enc_public, sign_public) == person["key_id"]
        assert len(person["key_id"]) == 22
        assert e.safety_code_of(enc_public, sign_public) == person["safety_code"]
        groups = person["safety_code"].split(" ")
        assert [len(g) for g in groups] == [5] * 8 and all(g.isdigit() for g in groups)


def test_it_gives_two_people_the_same_safety_code_of_at_least_128_bits_from_both_their_keys():
    people = _stored()["people"]
    for vector in _stored()["safety_codes"]:
        a, b = (people[name] for name in vector["between"])
        keys_a = (e.unb64u(a["enc_public"]), e.unb64u(a["sign_public"]))
        keys_b = (e.unb64u(b["enc_public"]), e.unb64u(b["sign_public"]))
        # Both people's screens show the same code, whichever of them works it out
        code = e.safety_code_between(keys_a, keys_b)
        assert code == e.safety_code_between(keys_b, keys_a) == vector["code"]
        # Made of both people's parts, each eight groups of five digits: log2(10^5) * 8 > 132 bits each
        assert sorted([a["safety_code"], b["safety_code"]]) == [vector["code"][:47], vector["code"][48:]]
    assert 8 * math.log2(100_000) > 132


@pytest.mark.parametrize("index", [0, 1, 2])
def test_it_still_verifies_and_opens_every_version_1_vector_envelope(index):
    case = _stored()["envelopes"][index]
    envelope = case["envelope"]
    assert envelope["v"] == 1
    assert e.check_form(envelope, versions=e.ENVELOPE_VERSIONS) is envelope
    e.verify(envelope, _vector_keys(case["sender"]).sign_public)
    recipients = e.recipient_keys(_public_keys([_vector_keys(name) for name in case["to"]]))
    for name in case["to"]:
        assert e.open_envelope(envelope, _vector_keys(name)) == case["content"]
        # Opened, but its entries cannot be checked: every one is reported as unchecked
        content, unchecked = e.open_checked(envelope, _vector_keys(name), recipients)
        assert (content, unchecked) == (case["content"], [k["to"] for k in envelope["keys"]])
    assert [k["to"] for k in envelope["keys"]] == sorted(k["to"] for k in envelope["keys"])
    with pytest.raises(EnvelopeError, match="not encrypted to these keys"):
        e.open_envelope(envelope, OUTSIDER)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_it_verifies_opens_and_checks_every_version_2_vector_envelope(index):
    case = _stored()["envelopes_v2"][index]
    envelope = case["envelope"]
    assert envelope["v"] == 2 and all(set(k) == {"to", "epk", "ck"} for k in envelope["keys"])
    assert e.check_form(envelope) is envelope
    e.verify(envelope, _vector_keys(case["sender"]).sign_public)
    recipients = e.recipient_keys(_public_keys([_vector_keys(name) for name in case["to"]]))
    for name in case["to"]:
        # Every recipient opens it and recomputes every entry: nothing is left unchecked
        assert e.open_checked(envelope, _vector_keys(name), recipients) == (case["content"], [])
    with pytest.raises(EnvelopeError, match="not encrypted to these keys"):
        e.open_envelope(envelope, OUTSIDER)


def test_it_refuses_the_vector_message_sealed_with_junk_for_one_recipient():
    case = _stored()["envelope_v2_not_for_everyone"]
    envelope = case["envelope"]
    recipients = e.recipient_keys(_public_keys([_vector_keys(name) for name in case["to"]]))
    # Given a well-formed message, signed by its sender, whose entry for cedar is junk
    assert e.check_form(envelope) is envelope
    e.verify(envelope, _vector_keys(case["sender"]).sign_public)
    # Then birch could decrypt it, but recomputing cedar's entry refuses it
    assert e.open_envelope(envelope, _vector_keys("birch")) == case["content"]
    with pytest.raises(e.NotSealedForEveryone, match="not sealed correctly for everyone"):
        e.open_checked(envelope, _vector_keys("birch"), recipients)
    # And cedar is told it was not sealed so that they can read it
    with pytest.raises(e.NotReadableForMe, match="not sealed so that you can read it"):
        e.open_checked(envelope, _vector_keys("cedar"), recipients)


def test_it_refuses_new_version_1_envelopes_but_checks_the_form_of_stored_ones():
    envelope = copy.deepcopy(_stored()["envelopes"][0]["envelope"])
    with pytest.raises(EnvelopeError, match="Only envelope version 2 is accepted"):
        e.check_form(envelope)
    assert e.check_form(envelope, versions=(1, 2)) is envelope
    envelope["keys"][0]["nonce"] = e.b64u(bytes(11))
    with pytest.raises(EnvelopeError, match="recipient nonce must be 12 bytes"):
        e.check_form(envelope, versions=(1, 2))
    # A version 1 envelope relabelled as version 2 has the wrong entries, and no longer verifies anyway
    relabelled = {**copy.deepcopy(_stored()["envelopes"][0]["envelope"]), "v": 2}
    with pytest.raises(EnvelopeError, match="exactly: to, epk, ck"):
        e.check_form(relabelled)
    with pytest.raises(EnvelopeError, match="signature does not match"):
        e.verify(relabelled, _vector_keys("ash").sign_public)


def test_it_never_trusts_the_servers_pairing_of_a_key_id_with_keys():
    birch, cedar = _vector_keys("birch"), _vector_keys("cedar")
    listed = _public_keys([birch, cedar])
    # A server that lists cedar's key id with keys of its own choosing
    listed[cedar.key_id] = {**OUTSIDER.public()}
    with pytest.raises(EnvelopeError, match="do not match their key id"):
        e.recipient_keys(listed)
    with pytest.raises(EnvelopeError, match="missing"):
        e.recipient_keys(None)


def test_it_reports_entries_whose_keys_are_no_longer_kept_as_unchecked():
    case = _stored()["envelopes_v2"][0]
    birch, cedar = _vector_keys("birch"), _vector_keys("cedar")
    listed = {**_public_keys([birch]), cedar.key_id: None}
    content, unchecked = e.open_checked(case["envelope"], birch, e.recipient_keys(listed))
    assert (content, unchecked) == (case["content"], [cedar.key_id])


def test_it_decrypts_the_vector_file():
    file = _stored()["file"]
    plain = e.decrypt_file(
        e.unb64u(file["ciphertext"]), conversation=file["conversation"], entry=file["entry"]
    )
    assert plain == e.unb64u(file["plaintext"]) == b"%PDF-1.4 vector"


# Round trips.


@FAST
@given(
    text=st.text(max_size=400),
    chosen=st.lists(st.integers(0, len(CAST) - 1), min_size=1, max_size=5, unique=True),
    sender=st.integers(0, len(CAST) - 1),
    meta=metas,
    conversation=st.text(min_size=1, max_size=40),
)
@example(text="", chosen=[0], sender=0, meta={"kind": "message"}, conversation=CONVERSATION)
@example(text="🙂🌿✓ Ünïcödé", chosen=[1, 2], sender=0, meta={"kind": "message"}, conversation=CONVERSATION)
@example(text="🌿" * 20_000, chosen=[0, 1, 2, 3, 4], sender=5, meta={"kind": "message"}, conversation="D-X")
@example(text="x" * 20_000, chosen=[6], sender=6, meta={"kind": "message"}, conversation=CONVERSATION)
def test_it_round_trips_any_text_to_every_recipient(text, chosen, sender, meta, conversation):
    recipients = [CAST[i] for i in chosen]
    content = {"text": text}
    envelope = _seal(CAST[sender], recipients, text, meta=meta, conversation=conversation)

    assert e.check_form(envelope) is envelope
    e.verify(envelope, CAST[sender].sign_public)
    for keys in recipients:
        assert e.open_envelope(envelope, keys) == content
    with pytest.raises(EnvelopeError):
        e.open_envelope(envelope, OUTSIDER)
    if CAST[sender] not in recipients:
        with pytest.raises(EnvelopeError):
            e.open_envelope(envelope, CAST[sender])

    body = e.unb64u(envelope["body"])
    assert (len(body) - 16) % e.PAD_BLOCK == 0
    assert len(body) - 16 == len(e.pad(e.canonical(content)))
    assert len(body) - 16 - len(e.canonical(content)) in range(1, e.PAD_BLOCK + 1)
    assert [k["to"] for k in envelope["keys"]] == sorted(keys.key_id for keys in recipients)


@FAST
@given(
    text=st.text(max_size=200),
    chosen=st.lists(st.integers(0, len(CAST) - 1), min_size=1, max_size=6, unique=True),
    sender=st.integers(0, len(CAST) - 1),
    content_key=st.binary(min_size=32, max_size=32),
)
def test_it_makes_every_version_2_entry_from_the_content_key_so_every_recipient_checks_all(
    text, chosen, sender, content_key
):
    recipients = [CAST[i] for i in chosen]
    listed = e.recipient_keys(_public_keys(recipients))

    def sealed(nonce: bytes) -> dict:
        return e.seal(
            sender=CAST[sender],
            conversation=CONVERSATION,
            content={"text": text},
            recipients=[_recipient(keys) for keys in recipients],
            message_id="3e5f7a9b-1c2d-4e3f-8a4b-5c6d7e8f9a0b",
            randomness={"content_key": content_key, "nonce": nonce},
        )

    envelope = sealed(bytes(12))
    # The entries depend on the content key, the message and the recipient only
    assert envelope["keys"] == sealed(b"\x01" * 12)["keys"]
    assert len({k["epk"] for k in envelope["keys"]}) == len(recipients)
    for keys in recipients:
        assert e.open_checked(envelope, keys, listed) == ({"text": text}, [])


@settings(FAST, max_examples=60)
@given(
    chosen=st.lists(st.integers(1, len(CAST) - 1), min_size=2, max_size=5, unique=True),
    field=st.sampled_from(["ck", "epk", "both"]),
    data=st.data(),
)
def test_it_lets_no_recipient_show_a_message_with_junk_in_anyones_entry(chosen, field, data):
    sender, recipients = CAST[0], [CAST[i] for i in chosen]
    listed = e.recipient_keys(_public_keys(recipients))
    envelope = _seal(sender, recipients, "the same for everyone")
    # Given a sender who replaces one recipient's entry (by another valid one, or junk) and signs it all
    index = data.draw(st.integers(0, len(recipients) - 1), label="harmed entry")
    junked = copy.deepcopy(envelope)
    entry = junked["keys"][index]
    if field in ("ck", "both"):
        entry["ck"] = e.b64u(data.draw(st.binary(min_size=48, max_size=48), label="ck"))
    if field in ("epk", "both"):
        entry["epk"] = e.b64u(X25519PrivateKey.generate().public_key().public_bytes_raw())
    junked = {k: v for k, v in junked.items() if k != "sig"}
    junked["sig"] = e.b64u(sender.sign.sign(e.signed_part(junked)))
    if junked["keys"] == envelope["keys"]:
        return  # the drawn junk happened to be the real entry
    e.check_form(junked)
    e.verify(junked, sender.sign_public)
    # Then whoever opens it, the one it was junked for included, is refused
    for keys in recipients:
        with pytest.raises(EnvelopeError) as refused:
            e.open_checked(junked, keys, listed)
        if keys.key_id == entry["to"]:
            assert isinstance(refused.value, (e.NotReadableForMe, e.NotSealedForEveryone))
        else:
            assert isinstance(refused.value, e.NotSealedForEveryone)


@FAST
@given(text=st.text(max_size=50))
def test_it_does_not_verify_with_another_persons_key(text):
    envelope = _seal(CAST[0], [CAST[1]], text)
    with pytest.raises(EnvelopeError, match="signature does not match"):
        e.verify(envelope, CAST[1].sign_public)


@FAST
@given(data=st.binary(max_size=1000))
def test_it_pads_to_whole_blocks_and_unpads_back(data):
    padded = e.pad(data)
    assert len(padded) % e.PAD_BLOCK == 0 and len(padded) > len(data)
    assert e.unpad(padded) == data


# Tampering: every field is bound by the signature, and the encrypted ones by their AES-GCM tags.


def _flip(text: str, data) -> str:
    raw = bytearray(e.unb64u(text))
    position = data.draw(st.integers(0, len(raw) - 1), label="byte")
    raw[position] ^= data.draw(st.integers(1, 255), label="xor")
    return e.b64u(bytes(raw))


TOP_FIELDS = ["body", "nonce", "sig", "sender", "conversation", "id", "meta"]
RECIPIENT_FIELDS = ["ck", "epk", "to"]


@settings(FAST, max_examples=120)
@given(
    field=st.sampled_from(TOP_FIELDS + RECIPIENT_FIELDS),
    chosen=st.lists(st.integers(1, len(CAST) - 1), min_size=1, max_size=4, unique=True),
    data=st.data(),
)
def test_it_refuses_a_tampered_envelope(field, chosen, data):
    sender, recipients = CAST[0], [CAST[i] for i in chosen]
    envelope = _seal(sender, recipients, "the part that must not change")
    tampered = copy.deepcopy(envelope)
    openers = recipients
    if field in ("body", "nonce", "sig", "sender"):
        tampered[field] = _flip(envelope[field], data)
    elif field == "conversation":
        tampered[field] = data.draw(st.text(min_size=1, max_size=40).filter(lambda c: c != CONVERSATION))
    elif field == "id":
        tampered[field] = data.draw(uuid4s.filter(lambda i: i != envelope["id"]))
    elif field == "meta":
        tampered[field] = data.draw(metas.filter(lambda m: m != envelope["meta"]))
    else:
        index = data.draw(st.integers(0, len(recipients) - 1), label="recipient")
        tampered["keys"][index][field] = _flip(envelope["keys"][index][field], data)
        openers = [BY_KEY_ID[envelope["keys"][index]["to"]]]

    assert tampered != envelope
    e.check_form(tampered)  # still well formed: only the cryptography can tell
    with pytest.raises(EnvelopeError):
        e.verify(tampered, sender.sign_public)
    if field not in ("sig", "meta"):  # these two are bound by the signature alone
        for keys in openers:
            with pytest.raises(EnvelopeError):
                e.open_envelope(tampered, keys)
    # The original is untouched and still fine.
    e.verify(envelope, sender.sign_public)
    assert e.open_envelope(envelope, recipients[0]) == {"text": "the part that must not change"}


# The form check, before any key is used.


def _without(*fields):
    return lambda env: {k: v for k, v in env.items() if k not in fields}


def _set(field, value):
    def change(env):
        env[field] = value
        return env

    return change


def _set_meta(meta):
    return _set("meta", meta)


def _set_in_first_key(field, value):
    def change(env):
        env["keys"][0][field] = value
        return env

    return change


def _keys_entries(count: int) -> list[dict]:
    return [
        {
            "to": e.b64u(hashlib.sha256(str(n).encode()).digest()[:16]),
            "epk": e.b64u(bytes(32)),
            "ck": e.b64u(bytes(48)),
        }
        for n in range(count)
    ]


def _duplicate_first_key(env):
    env["keys"].append(dict(env["keys"][0]))
    return env


FILE_IDS = [
    "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "7b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e",
    "8c3d4e5f-6a7b-4c8d-ae9f-1a2b3c4d5e6f",
    "9d4e5f6a-7b8c-4d9e-bfa0-2b3c4d5e6f7a",
    "ae5f6a7b-8c9d-4eaf-80b1-3c4d5e6f7a8b",
]

BAD_FORMS = [
    ("list", lambda env: [env], "must be a JSON object"),
    ("string", lambda env: json.dumps(env), "must be a JSON object"),
    ("none", lambda env: None, "must be a JSON object"),
    ("missing body and sig", _without("body", "sig"), "missing: body, sig"),
    ("missing v", _without("v"), "missing: v"),
    ("unknown field", _set("reply_to", "x"), "fields that its version does not know: reply_to"),
    ("version 1", _set("v", 1), "Only envelope version 2"),
    ("version 3", _set("v", 3), "Only envelope version 2"),
    ("version 0", _set("v", 0), "Only envelope version 2"),
    ("version as text", _set("v", "2"), "Only envelope version 2"),
    ("version True", _set("v", True), "Only envelope version 2"),
    ("version null", _set("v", None), "Only envelope version 2"),
    ("empty conversation", _set("conversation", ""), "conversation must be its id"),
    ("long conversation", _set("conversation", "D" * 41), "conversation must be its id"),
    ("conversation number", _set("conversation", 7), "conversation must be its id"),
    ("uppercase uuid", _set("id", "0B3C5D7E-1F2A-4B3C-9D4E-5F6A7B8C9D00"), "UUID (version 4) in lower case"),
    ("uuid v1", _set("id", "6fa459ea-ee8a-11e0-9b5b-0800200c9a66"), "UUID (version 4) in lower case"),
    ("uuid bad variant", _set("id", "0b3c5d7e-1f2a-4b3c-1d4e-5f6a7b8c9d00"), "UUID (version 4)"),
    ("uuid without dashes", _set("id", "0b3c5d7e1f2a4b3c9d4e5f6a7b8c9d00"), "UUID (version 4)"),
    ("uuid braces", _set("id", "{0b3c5d7e-1f2a-4b3c-9d4e-5f6a7b8c9d00}"), "UUID (version 4)"),
    ("id number", _set("id", 1), "UUID (version 4)"),
    ("oversize body", _set("body", e.b64u(bytes(385 * 256 + 16))), "too long"),
    ("body far too long", _set("body", "A" * 200_000), "too long"),
    ("body not text", _set("body", ["AAAA"]), "too long"),
    ("unpadded body", _set("body", e.b64u(bytes(300 + 16))), "not padded"),
    ("body without tag", _set("body", e.b64u(bytes(256))), "not padded"),
    ("empty body", _set("body", ""), "not padded"),
    ("body one byte short", _set("body", e.b64u(bytes(256 + 15))), "not padded"),
    ("no recipients", _set("keys", []), "between 1 and 64 recipients"),
    ("65 recipients", _set("keys", _keys_entries(65)), "between 1 and 64 recipients"),
    ("keys not a list", _set("keys", {"to": "x"}), "between 1 and 64 recipients"),
    ("duplicate recipient", _duplicate_first_key, "listed twice"),
    ("recipient entry extra", _set_in_first_key("name", "ash"), "exactly: to, epk, ck"),
    ("recipient entry not dict", _set("keys", ["birch"]), "exactly: to, epk, ck"),
    ("recipient nonce in v2", _set_in_first_key("nonce", e.b64u(bytes(12))), "exactly: to, epk, ck"),
    ("meta kind unknown", _set_meta({"kind": "shout"}), "meta.kind must be one of: message, for_relay"),
    ("meta without kind", _set_meta({}), "meta.kind must be one of"),
    ("meta not a dict", _set_meta("message"), "meta.kind must be one of"),
    ("meta unknown field", _set_meta({"kind": "message", "to": "x"}), "meta has fields that the envelope"),
    ("relayed without ref", _set_meta({"kind": "relayed"}), "must name the message it refers to in meta.ref"),
    ("returned without ref", _set_meta({"kind": "returned"}), "must name the message it refers to"),
    ("ref not a uuid", _set_meta({"kind": "relayed", "ref": "42"}), "meta.ref must be the id"),
    ("approved as text", _set_meta({"kind": "for_relay", "approved": "yes"}), "true or false"),
    (
        "files not a list",
        _set_meta({"kind": "message", "files": FILE_IDS[0]}),
        "meta.files must list at most 4",
    ),
    ("five files", _set_meta({"kind": "message", "files": FILE_IDS}), "meta.files must list at most 4"),
    ("file not a uuid", _set_meta({"kind": "message", "files": ["scan.pdf"]}), "attachment ids (UUIDs)"),
    ("file uuid uppercase", _set_meta({"kind": "message", "files": [FILE_IDS[0].upper()]}), "(UUIDs)"),
    ("sender with +", _set("sender", "vgpytFoVDErbpez6xYfh+g"), "sender key id is not base64url text"),
    ("sender with padding", _set("sender", "vgpytFoVDErbpez6xYfhVg=="), "sender key id is not base64url"),
    ("sender too short", _set("sender", "vgpytFoVDErbpez6xYfh"), "sender key id must be 16 bytes"),
    ("sender number", _set("sender", 16), "sender key id is not base64url text"),
    ("nonce with slash", _set("nonce", "gg1di692LsZt/Vb-"), "nonce is not base64url text"),
    ("nonce one char off", _set("nonce", "gg1di692LsZtzVb-A"), "nonce is not base64url text"),
    ("nonce too long", _set("nonce", e.b64u(bytes(16))), "nonce must be 12 bytes"),
    ("sig with space", _set("sig", "A" * 42 + " " + "A" * 43), "signature is not base64url text"),
    ("sig too short", _set("sig", e.b64u(bytes(63))), "signature must be 64 bytes"),
    ("body with !", _set("body", "!" * 363), "body is not base64url text"),
    ("to not base64", _set_in_first_key("to", "ash@example.org"), "recipient key id is not base64url"),
    ("epk not base64", _set_in_first_key("epk", "é" * 43), "ephemeral key is not base64url text"),
    ("epk too short", _set_in_first_key("epk", e.b64u(bytes(31))), "ephemeral key must be 32 bytes"),
    ("ck wrong length", _set_in_first_key("ck", e.b64u(bytes(32))), "wrapped content key must be 48 bytes"),
]


@pytest.mark.parametrize(("change", "words"), [c[1:] for c in BAD_FORMS], ids=[c[0] for c in BAD_FORMS])
def test_it_refuses_a_malformed_envelope_with_a_clear_message(change, words):
    envelope = change(_vector_envelope())
    with pytest.raises(EnvelopeError) as refused:
        e.check_form(envelope)
    assert words in str(refused.value)


def test_it_accepts_64_recipients_and_four_files():
    envelope = _vector_envelope()
    envelope["keys"] = _keys_entries(64)
    envelope["meta"] = {"kind": "message", "files": FILE_IDS[:4]}
    assert e.check_form(envelope) is envelope


def test_it_accepts_the_largest_body_it_measures():
    envelope = _vector_envelope()
    envelope["body"] = e.b64u(bytes(383 * 256 + 16))
    assert e.check_form(envelope) is envelope


def test_it_accepts_a_body_of_exactly_96_kib_padded():
    envelope = _vector_envelope()
    envelope["body"] = e.b64u(bytes(e.MAX_BODY_BYTES + 16))
    assert e.check_form(envelope) is envelope


def test_it_refuses_version_as_a_float():
    envelope = _vector_envelope()
    envelope["v"] = 2.0
    with pytest.raises(EnvelopeError, match="Only envelope version 2"):
        e.check_form(envelope)


@pytest.mark.parametrize("field", ["sender", "sig", "body"])
def test_it_refuses_base64_text_with_a_trailing_newline(field):
    envelope = _vector_envelope()
    envelope[field] += "\n"
    with pytest.raises(EnvelopeError, match="not base64url text"):
        e.check_form(envelope)


def test_it_refuses_a_signature_whose_spare_bits_were_changed():
    envelope = _vector_envelope()
    last = envelope["sig"][-1]
    # 64 bytes take 86 characters: the last one carries 2 bits of the signature and 4 unused ones.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    envelope["sig"] = envelope["sig"][:-1] + alphabet[alphabet.index(last) ^ 1]
    with pytest.raises(EnvelopeError):
        e.check_form(envelope)
        e.verify(envelope, _vector_keys("ash").sign_public)


def test_it_refuses_a_low_order_ephemeral_key_as_an_envelope_error():
    envelope = _vector_envelope()
    envelope["keys"][0]["epk"] = e.b64u(bytes(32))
    opener = next(
        _vector_keys(n) for n in ("birch", "cedar") if _vector_keys(n).key_id == envelope["keys"][0]["to"]
    )
    with pytest.raises(EnvelopeError):
        e.open_envelope(envelope, opener)


# Sign-in keys and recovery codes.

WILLOW = ("Willow-7QX2@example.org ", "correct horse battery staple")


def test_it_refuses_fewer_than_600000_iterations():
    with pytest.raises(EnvelopeError, match="fewer than 600000 iterations"):
        e.derive_sign_in(*WILLOW, iterations=599_999)
    with pytest.raises(EnvelopeError, match="fewer than 600000"):
        e.derive_sign_in(*WILLOW, iterations=1)


@pytest.mark.parametrize(
    "kdf",
    [
        {"name": "PBKDF2-SHA-256", "iterations": 599_999},
        {"name": "PBKDF2-SHA-256", "iterations": 100_000},
        {"name": "PBKDF2-SHA-256"},
        {"name": "PBKDF2-SHA-1", "iterations": 600_000},
        None,
    ],
    ids=["599999", "100000", "no count", "other kdf", "no kdf"],
)
def test_it_refuses_a_key_bundle_that_records_fewer_iterations(kdf):
    bundle = copy.deepcopy(_stored()[WRAPPED])
    bundle["kdf"] = kdf
    wrap_key = e.unb64u(_stored()["sign_in"][0]["wrap_key"])
    with pytest.raises(EnvelopeError, match="fewer than 600000 PBKDF2 iterations"):
        e.unwrap_keys(wrap_key, bundle)


def test_it_trims_and_lower_cases_the_identifier():
    auth, wrap = _derived("  willow-7qx2@EXAMPLE.ORG", WILLOW[1])
    stored = _stored()["sign_in"][0]
    assert (auth, e.b64u(wrap)) == (stored["auth_key"], stored["wrap_key"])
    assert len(auth) == 43


def test_it_does_not_unwrap_keys_with_a_wrong_passphrase():
    _auth, wrap = _derived(WILLOW[0], "correct horse battery stapler")
    with pytest.raises(EnvelopeError, match="do not open with that passphrase or code"):
        e.unwrap_keys(wrap, _stored()[WRAPPED])


@pytest.mark.parametrize("kind", ["enc_private", "sign_private"])
def test_it_does_not_unwrap_altered_or_swapped_keys(kind):
    wrap_key = e.unb64u(_stored()["sign_in"][0]["wrap_key"])
    altered = copy.deepcopy(_stored()[WRAPPED])
    ct = bytearray(e.unb64u(altered[kind]["ct"]))
    ct[0] ^= 1
    altered[kind]["ct"] = e.b64u(bytes(ct))
    with pytest.raises(EnvelopeError, match="do not open"):
        e.unwrap_keys(wrap_key, altered)
    swapped = copy.deepcopy(_stored()[WRAPPED])
    swapped["enc_private"], swapped["sign_private"] = swapped["sign_private"], swapped["enc_private"]
    with pytest.raises(EnvelopeError, match="do not open"):
        e.unwrap_keys(wrap_key, swapped)


def test_it_makes_recovery_codes_that_round_trip():
    for _ in range(25):
        code = e.new_recovery_code()
        groups = code.split("-")
        assert len(groups) == 8 and all(len(g) == 4 for g in groups)
        raw = e.recovery_code_bytes(code)
        assert len(raw) == 20
        assert base64.b32encode(raw).decode() == code.replace("-", "")


@pytest.mark.parametrize(
    "typed",
    [
        "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567",
        "abcd-efgh-ijkl-mnop-qrst-uvwx-yz23-4567",
        "abcd efgh ijkl mnop qrst uvwx yz23 4567",
        "  AbCdEfGh IjKl-MnOp\tqrstuvwxyz234567\n",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
    ],
)
def test_it_accepts_a_recovery_code_typed_lowercase_or_with_spaces(typed):
    recovery = _stored()["recovery"]
    assert e.recovery_code_bytes(typed) == e.recovery_code_bytes(recovery["code"])
    auth, wrap = e.derive_recovery(typed)
    assert (auth, e.b64u(wrap)) == (recovery["auth"], recovery["wrap_key"])


@FAST
@given(
    raw=st.binary(min_size=20, max_size=20), lower=st.booleans(), separator=st.sampled_from(["-", " ", ""])
)
def test_it_reads_any_recovery_code_however_it_is_grouped(raw, lower, separator):
    letters = base64.b32encode(raw).decode()
    typed = separator.join(letters[i : i + 4] for i in range(0, 32, 4))
    assert e.recovery_code_bytes(typed.lower() if lower else typed) == raw


@pytest.mark.parametrize(
    "typed",
    [
        "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-456",
        "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-45678",
        "ABCD-EFGH-IJKL-MNOP",
        "",
        None,
        "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4561",
        "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-456=",
    ],
    ids=["31 letters", "33 letters", "16 letters", "empty", "none", "digit 1", "padding"],
)
def test_it_refuses_a_recovery_code_of_the_wrong_length_or_alphabet(typed):
    with pytest.raises(EnvelopeError, match="32 letters and digits, in groups of four"):
        e.recovery_code_bytes(typed)


def test_it_wraps_a_second_copy_of_the_keys_under_the_recovery_code():
    _auth, recovery_wrap = e.derive_recovery(_stored()["recovery"]["code"])
    ash = _vector_keys("ash")
    assert e.unwrap_keys(recovery_wrap, e.wrap_keys(recovery_wrap, ash)).to_file() == ash.to_file()
    _auth, other_wrap = e.derive_recovery("QRST-UVWX-YZ23-4567-ABCD-EFGH-IJKL-MNOP")
    with pytest.raises(EnvelopeError, match="do not open"):
        e.unwrap_keys(other_wrap, e.wrap_keys(recovery_wrap, ash))


def test_it_keeps_only_a_hash_of_the_recovery_auth():
    verifier = e.recovery_verifier(_stored()["recovery"]["auth"])
    assert len(verifier) == 64 and _stored()["recovery"]["auth"] not in verifier


# Attachments.


@FAST
@given(data=st.binary(max_size=2000), file_id=uuid4s)
def test_it_round_trips_a_file(data, file_id):
    ciphertext, entry = e.encrypt_file(data, conversation=CONVERSATION, file_id=file_id)
    assert len(ciphertext) == len(data) + 16
    assert entry["id"] == file_id
    assert len(e.unb64u(entry["key"])) == 32 and len(e.unb64u(entry["nonce"])) == 12
    assert e.decrypt_file(ciphertext, conversation=CONVERSATION, entry=entry) == data


@FAST
@given(data=st.binary(max_size=500), position=st.integers(min_value=0), xor=st.integers(1, 255))
def test_it_refuses_an_altered_file(data, position, xor):
    ciphertext, entry = e.encrypt_file(data, conversation=CONVERSATION, file_id=FILE_IDS[0])
    altered = bytearray(ciphertext)
    altered[position % len(altered)] ^= xor
    with pytest.raises(EnvelopeError, match="does not decrypt"):
        e.decrypt_file(bytes(altered), conversation=CONVERSATION, entry=entry)


def test_it_refuses_a_file_in_another_conversation_or_under_another_id():
    ciphertext, entry = e.encrypt_file(b"%PDF-1.7 notes", conversation=CONVERSATION, file_id=FILE_IDS[0])
    with pytest.raises(EnvelopeError, match="does not decrypt"):
        e.decrypt_file(ciphertext, conversation="D-OTHR-CONV", entry=entry)
    with pytest.raises(EnvelopeError, match="does not decrypt"):
        e.decrypt_file(ciphertext, conversation=CONVERSATION, entry={**entry, "id": FILE_IDS[1]})
    with pytest.raises(EnvelopeError, match="does not decrypt"):
        e.decrypt_file(ciphertext, conversation=CONVERSATION, entry={**entry, "key": e.b64u(bytes(32))})


def test_it_refuses_files_over_10_mib():
    limit = 10 * 1024 * 1024
    ciphertext, entry = e.encrypt_file(bytes(limit), conversation=CONVERSATION, file_id=FILE_IDS[0])
    assert len(ciphertext) == limit + 16
    with pytest.raises(EnvelopeError, match="at most 10 MiB"):
        e.encrypt_file(bytes(limit + 1), conversation=CONVERSATION, file_id=FILE_IDS[0])
