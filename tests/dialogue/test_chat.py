"""`mend chat`, the command-line client: key file, list, read and send, with Django's test client standing in
for the network (and one run against a live server over real HTTP)."""

import json
import os
import stat
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from mend.accounts import keys as account_keys
from mend.accounts import services as account_services
from mend.cases import services as case_services
from mend.core import envelope as env
from mend.dialogue import chat, services
from mend.dialogue.management.commands.chat import Command
from mend.dialogue.models import Conversation, Message, Recipient
from tests.builders import PASSWORD, consent, prepare_for_encounter
from tests.dialogue import helpers

URL = "https://testserver"


def through_django(method: str, url: str, headers: dict, body: bytes | None) -> tuple[int, bytes]:
    """A transport for chat.Api that hands each request to Django's test client, Bearer header and all."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    extra = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    kwargs = {"content_type": headers["Content-Type"]} if body is not None else {}
    response = Client().generic(
        method, path, body or b"", secure=parts.scheme == "https", headers=extra, **kwargs
    )
    return response.status_code, response.content


@pytest.fixture(autouse=True)
def _django_as_network(monkeypatch):
    monkeypatch.setattr(Command, "transport", through_django)
    monkeypatch.delenv("MEND_API_TOKEN", raising=False)


def mend_chat(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("chat", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def facilitator_token(cast) -> str:
    """The facilitator's keys as their browser made them at first sign-in, and a personal API token."""
    _auth, fields = account_keys.credentials_from_secret(cast.facilitator.username, PASSWORD)
    account_keys.key_bundle_create(actor=cast.facilitator, **fields)
    return account_services.api_token_create(actor=cast.facilitator, label="terminal")[1]


@pytest.fixture
def passphrase_file(tmp_path):
    path = tmp_path / "passphrase"
    path.write_text(PASSWORD + "\n")
    return path


@pytest.fixture
def key_file(cast, facilitator_token, passphrase_file, tmp_path):
    out = tmp_path / "fen.keys"
    mend_chat(
        "keyfile",
        "--url", URL,
        "--token", facilitator_token,
        "--identifier", cast.facilitator.username,
        "--passphrase-file", str(passphrase_file),
        "--out", str(out),
    )  # fmt: skip
    return out


@pytest.fixture
def support(cast) -> Conversation:
    """The conversation between the facilitator and Wren, who agreed to be contacted."""
    consent(cast.harmed, "take_part", "facilitator_contact")
    return services.conversation_open(case=cast.case, kind=Conversation.Kind.SUPPORT, party=cast.harmed)


def party_sends(place, keys, conversation, text, **meta) -> Message:
    conversation = Conversation.objects.select_related("case__program").get(pk=conversation.pk)
    envelope = helpers.seal(conversation, keys, text, meta={"kind": "message", **meta})
    return services.message_post(actor=place.user, conversation=conversation, envelope=envelope)[0]


def opened_by(keys, message: Message) -> str:
    return env.open_envelope(json.loads(message.envelope), keys)["text"]


# keyfile


def test_it_saves_the_keys_in_a_file_only_its_owner_can_read(cast, key_file, capsys):
    bundle = account_keys.current_bundle(cast.facilitator)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    saved = json.loads(key_file.read_text())
    assert saved["key_id"] == bundle.key_id
    assert (saved["enc_public"], saved["sign_public"]) == (bundle.enc_public, bundle.sign_public)
    assert env.KeyPair.from_file(saved).key_id == bundle.key_id
    assert chat.keyfile_read(key_file).key_id == bundle.key_id


def test_it_never_prints_the_keys_or_the_passphrase(cast, facilitator_token, passphrase_file, tmp_path):
    out, err = mend_chat(
        "keyfile",
        "--url", URL,
        "--token", facilitator_token,
        "--identifier", cast.facilitator.username,
        "--passphrase-file", str(passphrase_file),
        "--out", str(tmp_path / "k"),
    )  # fmt: skip
    saved = json.loads((tmp_path / "k").read_text())
    assert "saved in" in out
    for secret in (PASSWORD, saved["enc_private"], saved["sign_private"]):
        assert secret not in out + err


def test_it_refuses_to_overwrite_a_key_file(cast, facilitator_token, passphrase_file, tmp_path):
    out = tmp_path / "fen.keys"
    out.write_text("something precious")
    with pytest.raises(CommandError, match="already a file"):
        mend_chat(
            "keyfile",
            "--url", URL,
            "--token", facilitator_token,
            "--identifier", cast.facilitator.username,
            "--passphrase-file", str(passphrase_file),
            "--out", str(out),
        )  # fmt: skip
    assert out.read_text() == "something precious"


def test_it_says_plainly_when_the_passphrase_is_wrong(cast, facilitator_token, tmp_path, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt: "not the passphrase at all")
    out = tmp_path / "fen.keys"
    with pytest.raises(CommandError, match="That passphrase does not open your keys") as raised:
        mend_chat(
            "keyfile",
            "--url", URL,
            "--token", facilitator_token,
            "--identifier", cast.facilitator.username,
            "--out", str(out),
        )  # fmt: skip
    assert "not the passphrase" not in str(raised.value)
    assert not out.exists()


def test_it_asks_for_the_passphrase_when_no_file_is_given(cast, facilitator_token, tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or PASSWORD)
    monkeypatch.setenv("MEND_API_TOKEN", facilitator_token)
    out = tmp_path / "fen.keys"
    mend_chat("keyfile", "--url", URL, "--identifier", cast.facilitator.username, "--out", str(out))
    assert asked == ["Passphrase: "]
    assert json.loads(out.read_text())["key_id"] == account_keys.current_bundle(cast.facilitator).key_id


def test_it_tells_someone_without_keys_to_sign_in_once_first(cast, passphrase_file, tmp_path):
    token = account_services.api_token_create(actor=cast.facilitator, label="terminal")[1]
    with pytest.raises(CommandError, match="no keys yet. Sign in once in the browser"):
        mend_chat(
            "keyfile",
            "--url", URL,
            "--token", token,
            "--identifier", cast.facilitator.username,
            "--passphrase-file", str(passphrase_file),
            "--out", str(tmp_path / "k"),
        )  # fmt: skip


def test_it_refuses_a_key_file_others_can_read(cast, key_file, facilitator_token, support):
    key_file.chmod(0o644)
    with pytest.raises(CommandError, match="chmod 600"):
        mend_chat(
            "read", "--url", URL, "--token", facilitator_token, "--keys", str(key_file), support.public_id
        )


# list


def test_it_lists_the_conversations_of_a_case(cast, facilitator_token, support):
    out, _err = mend_chat("list", "--url", URL, "--token", facilitator_token, cast.case.reference)
    lines = out.splitlines()
    assert f"{support.public_id}  support  With Wren" in lines
    assert any("team" in line and "Case team" in line for line in lines)


def test_it_says_when_a_case_is_not_one_you_can_see(cast, facilitator_token):
    stranger = account_services.api_token_create(actor=cast.other_program_facilitator, label="t")[1]
    with pytest.raises(CommandError, match=f"no case {cast.case.reference} that you can see"):
        mend_chat("list", "--url", URL, "--token", stranger, cast.case.reference)


def test_it_passes_on_the_servers_word_about_a_bad_token(cast):
    with pytest.raises(CommandError, match="This API token is not valid"):
        mend_chat("list", "--url", URL, "--token", "mend_nonsense", cast.case.reference)


def test_it_needs_a_token(cast):
    with pytest.raises(CommandError, match="MEND_API_TOKEN"):
        mend_chat("list", "--url", URL, cast.case.reference)


def test_it_keeps_the_token_off_plain_http_to_another_machine(cast, facilitator_token):
    with pytest.raises(CommandError, match="https://"):
        mend_chat("list", "--url", "http://mend.example.org", "--token", facilitator_token, "C-AAAA-BBBB")


# send and read


def test_it_sends_to_a_party_and_reads_their_answer(cast, key_file, facilitator_token, support):
    wren = helpers.give_keys(cast.harmed.user)
    common = ("--url", URL, "--token", facilitator_token, "--keys", str(key_file), support.public_id)

    out, _err = mend_chat("send", *common, "Hello Wren, how are you finding things?")
    assert out.strip() == "Sent as message 1."
    sent = Message.objects.get(conversation=support, seq=1)
    assert opened_by(wren, sent) == "Hello Wren, how are you finding things?"
    assert "Hello Wren" not in sent.envelope
    assert {r.user_id for r in sent.recipients.all()} == {cast.harmed.user_id, cast.facilitator.pk}

    party_sends(cast.harmed, wren, support, "Better, thank you.\nSlowly.")
    out, _err = mend_chat("read", *common)
    lines = out.splitlines()
    assert lines[0].startswith("1  ")
    assert lines[0].endswith("Fen Facilitator: Hello Wren, how are you finding things?")
    assert lines[1].startswith("2  ") and lines[1].endswith("Wren: Better, thank you.")
    assert lines[2] == "    Slowly."

    out, _err = mend_chat("read", *common[:-1], "--after", "1", support.public_id)
    assert [line[:3] for line in out.splitlines()] == ["2  ", "   "]


def test_it_exits_non_zero_with_the_servers_message_when_a_send_is_refused(cast, key_file, facilitator_token):
    support = services.conversation_open(case=cast.case, kind=Conversation.Kind.SUPPORT, party=cast.harmed)
    with pytest.raises(
        CommandError, match="cannot be sent yet. Still needed: consent to take part from the"
    ) as raised:
        mend_chat(
            "send", "--url", URL, "--token", facilitator_token, "--keys", str(key_file),
            support.public_id, "Hi",
        )  # fmt: skip
    assert raised.value.returncode == 1
    assert not Message.objects.filter(conversation=support).exists()


def test_it_sends_again_with_the_same_message_id_after_a_network_error(
    cast, key_file, facilitator_token, support, monkeypatch
):
    posts = []

    def answer_lost_once(method, url, headers, body):
        status, content = through_django(method, url, headers, body)
        if method == "POST":
            posts.append(json.loads(body)["id"])
            if len(posts) == 1:
                raise chat.NetworkError("The connection dropped.")
        return status, content

    monkeypatch.setattr(Command, "transport", answer_lost_once)
    out, _err = mend_chat(
        "send", "--url", URL, "--token", facilitator_token, "--keys", str(key_file), support.public_id, "Hi"
    )  # fmt: skip
    assert len(posts) == 2 and posts[0] == posts[1]
    assert out.strip() == "Sent as message 1 (it had arrived already)."
    assert Message.objects.filter(conversation=support).count() == 1


def test_it_does_not_show_a_message_whose_signature_does_not_hold(cast, key_file, facilitator_token, support):
    wren = helpers.give_keys(cast.harmed.user)
    party_sends(cast.harmed, wren, support, "First")
    second = party_sends(cast.harmed, wren, support, "Second")
    # Someone with the database swaps the content of the second message and cannot sign it again.
    tampered = json.loads(second.envelope)
    other = helpers.seal(support, wren, "Something Wren never wrote", message_id=tampered["id"])
    tampered["body"], tampered["nonce"], tampered["keys"] = other["body"], other["nonce"], other["keys"]
    Message.objects.filter(pk=second.pk).update(envelope=env.canonical(tampered).decode())

    out = StringIO()
    with pytest.raises(CommandError, match="1 message could not be checked and was not shown"):
        call_command(
            "chat", "read", "--url", URL, "--token", facilitator_token, "--keys", str(key_file),
            support.public_id, stdout=out,
        )  # fmt: skip
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("Wren: First")
    assert "[not shown: The signature does not match" in lines[1]
    assert "never wrote" not in out.getvalue()


def test_it_does_not_show_a_message_from_keys_that_do_not_match_their_id(
    cast, key_file, facilitator_token, support, monkeypatch
):
    wren = helpers.give_keys(cast.harmed.user)
    party_sends(cast.harmed, wren, support, "Hello")
    impostor = env.KeyPair.generate().public()

    def served_other_keys(method, url, headers, body):
        status, content = through_django(method, url, headers, body)
        if url.split("?")[0].endswith("/messages") and method == "GET" and status == 200:
            frames = json.loads(content)
            for frame in frames:
                frame["from"]["sign_public"] = impostor["sign_public"]
            content = json.dumps(frames).encode()
        return status, content

    monkeypatch.setattr(Command, "transport", served_other_keys)
    out = StringIO()
    with pytest.raises(CommandError, match="could not be checked"):
        call_command(
            "chat", "read", "--url", URL, "--token", facilitator_token, "--keys", str(key_file),
            support.public_id, stdout=out,
        )  # fmt: skip
    assert "do not match the key id" in out.getvalue() and "Hello" not in out.getvalue()


def test_it_returns_and_relays_through_the_facilitator_and_marks_both(cast, key_file, facilitator_token):
    prepare_for_encounter(cast, mode="indirect")
    case_services.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    kestrel = helpers.give_keys(cast.responsible.user)
    wren = helpers.give_keys(cast.harmed.user)
    theirs = services.conversation_open(case=cast.case, kind=Conversation.Kind.RELAY, party=cast.responsible)
    hers = services.conversation_open(case=cast.case, kind=Conversation.Kind.RELAY, party=cast.harmed)
    common = ("--url", URL, "--token", facilitator_token, "--keys", str(key_file))

    # The writer did not allow passing this one on.
    first = party_sends(cast.responsible, kestrel, theirs, "Sorry if it upset you.", kind="for_relay")
    out, _err = mend_chat("read", *common, theirs.public_id)
    assert (
        f"Kestrel (for the other side, not to be passed on, waiting for review; id {first.message_id})" in out
    )

    mend_chat(
        "send", *common, "--kind", "returned", "--ref", first.message_id, theirs.public_id,
        "Could you say it without the 'if'?",
    )  # fmt: skip
    second = party_sends(
        cast.responsible, kestrel, theirs, "I am sorry that I hurt you.", kind="for_relay", approved=True
    )
    out, _err = mend_chat("send", *common, "--kind", "relayed", "--ref", second.message_id, hers.public_id,
                          "I am sorry that I hurt you.")  # fmt: skip
    assert out.strip() == "Sent as message 1."
    relayed = Message.objects.get(conversation=hers, seq=1)
    assert opened_by(wren, relayed) == "I am sorry that I hurt you."
    assert relayed.ref_id == second.pk

    out, _err = mend_chat("read", *common, theirs.public_id)
    lines = out.splitlines()
    assert "not to be passed on, returned; id" in lines[0]
    assert lines[1].endswith("Fen Facilitator (returned #1 with a note): Could you say it without the 'if'?")
    assert "may be passed on, passed on; id" in lines[2]
    out, _err = mend_chat("read", *common, hers.public_id)
    assert out.splitlines()[0].endswith(
        "Fen Facilitator (relayed by the facilitator): I am sorry that I hurt you."
    )


def test_it_refuses_a_returned_message_without_a_ref(cast, key_file, facilitator_token, support):
    with pytest.raises(CommandError, match="needs --ref"):
        mend_chat(
            "send", "--url", URL, "--token", facilitator_token, "--keys", str(key_file), "--kind", "returned",
            support.public_id, "Have another go",
        )  # fmt: skip


def test_it_says_when_the_conversation_is_not_yours(cast, key_file, facilitator_token):
    with pytest.raises(CommandError, match="no conversation D-ZZZZ-ZZZZ that you are in"):
        mend_chat("read", "--url", URL, "--token", facilitator_token, "--keys", str(key_file), "D-ZZZZ-ZZZZ")


def test_it_keeps_terminal_control_characters_out_of_what_it_prints(
    cast, key_file, facilitator_token, support
):
    wren = helpers.give_keys(cast.harmed.user)
    party_sends(cast.harmed, wren, support, "look\x1b[2J\x1b]0;owned\x07 here")
    out, _err = mend_chat(
        "read", "--url", URL, "--token", facilitator_token, "--keys", str(key_file), support.public_id
    )
    assert "\x1b" not in out and "\x07" not in out and "look\ufffd[2J" in out


# The real command over real HTTP.


def test_it_does_not_follow_a_redirect_that_would_carry_the_token_elsewhere():
    asked = []

    class Redirecting(BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append((self.path, self.headers.get("Authorization")))
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{server.server_port}/collect")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = chat.Api(f"http://127.0.0.1:{server.server_port}", "mend_secret")
        with pytest.raises(chat.ChatError, match="sent this call to another address"):
            api.conversations("C-AAAA-BBBB")
    finally:
        server.shutdown()
        server.server_close()
    assert asked == [("/api/v1/cases/C-AAAA-BBBB/conversations", "Bearer mend_secret")]


@pytest.mark.django_db(transaction=True)
def test_it_reads_and_sends_over_http_against_a_live_server(cast, live_server, tmp_path, monkeypatch):
    monkeypatch.setattr(Command, "transport", None)  # urllib, as in a terminal
    _auth, fields = account_keys.credentials_from_secret(cast.facilitator.username, PASSWORD)
    account_keys.key_bundle_create(actor=cast.facilitator, **fields)
    monkeypatch.setenv(
        "MEND_API_TOKEN", account_services.api_token_create(actor=cast.facilitator, label="t")[1]
    )
    consent(cast.harmed, "take_part", "facilitator_contact")
    support = services.conversation_open(case=cast.case, kind=Conversation.Kind.SUPPORT, party=cast.harmed)
    wren = helpers.give_keys(cast.harmed.user)
    passphrase = tmp_path / "passphrase"
    passphrase.write_text(PASSWORD)
    keys = tmp_path / "fen.keys"
    url = live_server.url

    mend_chat("keyfile", "--url", url, "--identifier", cast.facilitator.username,
              "--passphrase-file", str(passphrase), "--out", str(keys))  # fmt: skip
    out, _err = mend_chat("list", "--url", url, cast.case.reference)
    assert support.public_id in out
    out, _err = mend_chat("send", "--url", url, "--keys", str(keys), support.public_id, "Over the wire")
    assert out.strip() == "Sent as message 1."
    assert opened_by(wren, Message.objects.get(conversation=support, seq=1)) == "Over the wire"
    out, _err = mend_chat("read", "--url", url, "--keys", str(keys), support.public_id)
    assert out.strip().endswith("Fen Facilitator: Over the wire")


def test_it_pins_each_persons_keys_and_refuses_to_send_when_they_change(
    cast, key_file, facilitator_token, support
):
    helpers.give_keys(cast.harmed.user)
    common = ("--url", URL, "--token", facilitator_token, "--keys", str(key_file), support.public_id)
    mend_chat("send", *common, "First.")
    pins = Path(f"{key_file}.pins")
    assert stat.S_IMODE(pins.stat().st_mode) == 0o600
    assert json.loads(pins.read_text())[str(cast.harmed.user_id)]

    # Given the person harmed's keys change (a new device, or keys slipped in by someone else)
    new_keys = helpers.give_keys(cast.harmed.user)

    # Then nothing is sent until the facilitator has compared the safety code
    with pytest.raises(CommandError, match="The keys of Wren .safety code .* changed since you last wrote"):
        mend_chat("send", *common, "Second.")
    assert Message.objects.filter(conversation=support).count() == 1

    # And once they have, it goes, and the new key is the one pinned
    out, _err = mend_chat("send", *common[:-1], "--accept-key-change", support.public_id, "Second.")
    assert out.strip() == "Sent as message 2."
    assert json.loads(pins.read_text())[str(cast.harmed.user_id)] == new_keys.key_id
    out, _err = mend_chat("send", *common, "Third.")
    assert out.strip() == "Sent as message 3."


def _colleague_joins(cast) -> env.KeyPair:
    """The case's coordinator puts a colleague on the team as co-facilitator; the colleague has keys."""
    keys = helpers.give_keys(cast.other_facilitator_same_program)
    case_services.facilitator_assign(
        actor=cast.coordinator,
        case=cast.case,
        user=cast.other_facilitator_same_program,
        role="co_facilitator",
    )
    return keys


def test_it_refuses_to_send_when_someone_new_joined_until_told(cast, key_file, facilitator_token, support):
    wren = helpers.give_keys(cast.harmed.user)
    common = ("--url", URL, "--token", facilitator_token, "--keys", str(key_file))
    mend_chat("send", *common, support.public_id, "First.")

    # Given a colleague joins the team, and so this conversation
    gil = _colleague_joins(cast)

    # Then nothing is sent until the facilitator says they checked, and they are told who, in what role,
    # and the safety code they share, worked out on this machine from both people's keys
    fen = chat.keyfile_read(key_file)
    code = env.safety_code_between((fen.enc_public, fen.sign_public), (gil.enc_public, gil.sign_public))
    with pytest.raises(CommandError, match="a new co-facilitator, Gil Colleague") as refused:
        mend_chat("send", *common, support.public_id, "Second.")
    assert f"(safety code {code})" in str(refused.value)
    assert "--accept-new-member" in str(refused.value)
    assert Message.objects.filter(conversation=support).count() == 1

    # And a changed key is not enough to let it through
    with pytest.raises(CommandError, match="Someone new joined"):
        mend_chat("send", *common, "--accept-key-change", support.public_id, "Second.")

    # When they say so, it goes to everyone, the new member included, and the next one needs nothing more
    out, _err = mend_chat("send", *common, "--accept-new-member", support.public_id, "Second.")
    assert out.strip() == "Sent as message 2."
    second = Message.objects.get(conversation=support, seq=2)
    assert opened_by(gil, second) == opened_by(wren, second) == "Second."
    out, _err = mend_chat("send", *common, support.public_id, "Third.")
    assert out.strip() == "Sent as message 3."


def test_it_pins_what_it_sees_on_first_use_of_a_conversation(cast, key_file, facilitator_token, support):
    # Given a colleague was on the team before the facilitator ever wrote here
    helpers.give_keys(cast.harmed.user)
    _colleague_joins(cast)
    common = ("--url", URL, "--token", facilitator_token, "--keys", str(key_file))

    # Then the first message goes (trust on first use), and the members are pinned for this conversation
    out, _err = mend_chat("send", *common, support.public_id, "First.")
    assert out.strip() == "Sent as message 1."
    pinned = json.loads(Path(f"{key_file}.pins").read_text())["conversations"][support.public_id]
    assert set(pinned) == {
        f"{cast.harmed.user_id}|harmed_party",
        f"{cast.other_facilitator_same_program.pk}|co_facilitator",
    }


def test_it_shows_the_safety_code_both_people_see_when_a_key_changed(
    cast, key_file, facilitator_token, support
):
    helpers.give_keys(cast.harmed.user)
    common = ("--url", URL, "--token", facilitator_token, "--keys", str(key_file))
    mend_chat("send", *common, support.public_id, "First.")

    # Given the person harmed's key is changed
    wren = helpers.give_keys(cast.harmed.user)

    # Then the refusal gives the 16-group code shared with Wren's new keys, as Wren's own screen would
    fen = chat.keyfile_read(key_file)
    code = env.safety_code_between((wren.enc_public, wren.sign_public), (fen.enc_public, fen.sign_public))
    assert len(code.split(" ")) == 16
    with pytest.raises(CommandError, match=f"The keys of Wren \\(safety code {code}\\) changed"):
        mend_chat("send", *common, support.public_id, "Second.")


def test_it_refuses_a_member_whose_listed_key_is_swapped_in_the_database(
    cast, key_file, facilitator_token, support
):
    from mend.accounts.models import KeyBundle

    helpers.give_keys(cast.harmed.user)
    common = ("--url", URL, "--token", facilitator_token, "--keys", str(key_file))

    # Given someone with the database puts their own encryption key in place of Wren's
    attacker = env.KeyPair.generate()
    KeyBundle.objects.filter(user=cast.harmed.user, replaced_at__isnull=True).update(
        enc_public=env.b64u(attacker.enc_public)
    )

    # Then nothing is sealed to it
    with pytest.raises(CommandError, match="do not match their key id"):
        mend_chat("send", *common, support.public_id, "Secret.")
    assert not Message.objects.filter(conversation=support).exists()


def test_it_marks_messages_signed_with_keys_not_checked_here(cast, key_file, facilitator_token, support):
    wren = helpers.give_keys(cast.harmed.user)
    common = ("--url", URL, "--token", facilitator_token, "--keys", str(key_file))
    mend_chat("send", *common, support.public_id, "First.")
    party_sends(cast.harmed, wren, support, "With the keys you know.")

    # Given Wren's keys change, and a message comes signed with the new ones
    new_wren = helpers.give_keys(cast.harmed.user)
    party_sends(cast.harmed, new_wren, support, "With new keys.")

    # Then reading shows both, the second marked, until the change is accepted
    reading = ("read", "--url", URL, "--token", facilitator_token, "--keys", str(key_file))
    out, _err = mend_chat(*reading, support.public_id)
    lines = out.strip().splitlines()
    assert lines[1].endswith("Wren: With the keys you know.")
    assert "[signed with keys that changed]: With new keys." in lines[2]


def test_it_marks_an_older_message_as_not_checked_for_everyone(cast, key_file, facilitator_token, support):
    # Given a version 1 message Wren sent before version 2, as the server stored them then
    wren = helpers.give_keys(cast.harmed.user)
    fen = chat.keyfile_read(key_file)
    old = env.seal(
        sender=wren,
        conversation=support.public_id,
        content={"text": "Sent before version 2."},
        recipients=helpers.recipients_now(support),
        version=1,
    )
    support.last_seq += 1
    support.save(update_fields=["last_seq"])
    stored = Message.objects.create(
        conversation=support,
        seq=support.last_seq,
        message_id=old["id"],
        sender=cast.harmed.user,
        sender_key_id=wren.key_id,
        kind="message",
        envelope=env.canonical(old).decode(),
    )
    for user, key_id in ((cast.facilitator, fen.key_id), (cast.harmed.user, wren.key_id)):
        Recipient.objects.create(message=stored, user=user, key_id=key_id)

    # Then reading shows it, marked as the pages mark it
    out, _err = mend_chat(
        "read", "--url", URL, "--token", facilitator_token, "--keys", str(key_file), support.public_id
    )
    assert "[not checked for everyone here: an older message]: Sent before version 2." in out


def test_it_does_not_pin_first_keys_here_that_differ_from_the_ones_pinned_elsewhere(tmp_path):
    pins = chat.Pins(tmp_path / "keys.pins")
    wren = {"user": 7, "role": "harmed_party", "name": "Wren"}

    # Given Wren's keys are pinned in one conversation, and she was seen without keys in another
    assert pins.changes("conversation-a", [{**wren, "key_id": "first-key"}]) == []
    assert pins.changes("conversation-b", [{**wren, "key_id": None}]) == []

    # When she first has keys in the second, and they are not the ones pinned for her elsewhere
    changes = pins.changes("conversation-b", [{**wren, "key_id": "other-key"}])

    # Then that is a change to check, and nothing is pinned until then
    assert [change for _person, change in changes] == ["changed"]
    assert pins.conversations["conversation-b"]["7|harmed_party"]["keys"] == []
    assert pins.known["7"] == "first-key"
