"""Envelope v2 in the pages: every recipient checks every other's entry (docs/crypto.md).

In a direct conversation a party could seal a message whose entry for the facilitator is junk: with
envelope v1 the person harmed read it, the facilitator could not, and nobody was told. With v2 each reader's
browser recomputes every entry from the content key, so such a message is shown to no one, and the
facilitator's page marks it as not readable for them. Messages stored as v1 still open.
"""

import json
import re
import secrets
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import servers
from tests.e2e.navigators import (
    LIVE_SECONDS,
    DialogueCase,
    Facilitator,
    HarmedParty,
    ResponsibleParty,
    loads_last_line,
)

pytestmark = pytest.mark.e2e

SEED = Path(__file__).with_name("envelope_seed.py")
DIRECT = "Direct conversation"


def _server_environment(server_database_url, tmp_path_factory) -> dict[str, str]:
    # The e2e server keeps its var dir (its SQLite file and secret key) under pytest's base temp directory.
    base = tmp_path_factory.getbasetemp()
    var_dirs = [d for d in base.glob("mend-var*") if not d.is_symlink() and (d / "server.log").exists()]
    assert len(var_dirs) == 1, f"expected the e2e server's one var dir, found {var_dirs}"
    return servers.server_env(var_dirs[0], server_database_url)


@pytest.fixture
def server_env(mend_server, server_database_url, tmp_path_factory) -> dict[str, str]:
    return _server_environment(server_database_url, tmp_path_factory)


@pytest.fixture
def direct_case(server_env) -> DialogueCase:
    """A fresh case at the encounter stage whose person harmed chose to write to the other party directly."""
    output = servers.run(
        [sys.executable, str(SEED), secrets.token_hex(3)], server_env, "Seeding a direct case"
    )
    return DialogueCase.from_seed(loads_last_line(output))


@pytest.fixture
def people(new_context, direct_case):
    """The facilitator and both parties, each signed in in a browser of their own, in the direct one."""
    facilitator = Facilitator(new_context().new_page(), direct_case)
    harmed = HarmedParty(new_context().new_page(), direct_case)
    responsible = ResponsibleParty(new_context().new_page(), direct_case)
    for person in (facilitator, harmed, responsible):
        person.sign_in()
        person.open_case_messages()
        person.open_conversation(DIRECT)
    return facilitator, harmed, responsible


# What a party with a modified page could do: seal a message as the page does, then put junk in the
# facilitators' entries and sign it again. The server cannot tell: it never sees the content key.
SEAL_WITH_JUNK_FOR_STAFF = """
async (text) => {
    const m = await import("/static/mend/e2e.js");
    const root = document.querySelector("[data-conversation]");
    const keyset = await m.loadKeyset();
    const listed = await fetch(`${root.dataset.membersUrl}?kind=message`, {
        credentials: "same-origin", headers: {Accept: "application/json"},
    });
    const members = (await listed.json()).members.filter((person) => person.key_id);
    const staff = new Set(members.filter((person) => person.facilitator).map((person) => person.key_id));
    const sealed = await m.seal({
        sender: keyset,
        conversation: root.dataset.conversation,
        content: {text},
        recipients: members.map((person) => ({key_id: person.key_id, enc_public: person.enc_public})),
        meta: {kind: "message"},
    });
    const {sig: _sig, ...envelope} = sealed;
    envelope.keys = envelope.keys.map((entry) =>
        staff.has(entry.to) ? {...entry, ck: m.b64u(crypto.getRandomValues(new Uint8Array(48)))} : entry);
    const signed = await crypto.subtle.sign(
        "Ed25519", keyset.signPrivate, new TextEncoder().encode(m.canonical(envelope)));
    envelope.sig = m.b64u(new Uint8Array(signed));
    const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
    const response = await fetch(`${root.dataset.sendBase}${root.dataset.conversation}/send/`, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf},
        body: JSON.stringify(envelope),
    });
    return {status: response.status, id: envelope.id, v: envelope.v};
}
"""

# A message sealed in the first format (v1) by the page's own keys, as it was before version 2.
SEAL_V1 = """
async (text) => {
    const m = await import("/static/mend/e2e.js");
    const root = document.querySelector("[data-conversation]");
    const listed = await fetch(`${root.dataset.membersUrl}?kind=message`, {
        credentials: "same-origin", headers: {Accept: "application/json"},
    });
    const members = (await listed.json()).members.filter((person) => person.key_id);
    return m.seal({
        sender: await m.loadKeyset(),
        conversation: root.dataset.conversation,
        content: {text},
        recipients: members.map((person) => ({key_id: person.key_id, enc_public: person.enc_public})),
        meta: {kind: "message"},
        version: 1,
    });
}
"""


def message_by_id(page: Page, message_id: str):
    return page.locator(f"[data-messages] > li[data-id='{message_id}']")


def test_it_shows_no_one_a_message_sealed_with_junk_for_the_facilitator_and_tells_the_facilitator(people):
    facilitator, harmed, responsible = people
    honest = "Thank you for agreeing to talk with me directly."
    attack = "Only you will read this, the facilitator will not."

    # Given a direct conversation where an honest message reaches everyone, checked for everyone
    responsible.write(honest)
    for person in (harmed, facilitator):
        message = person.sees_message(honest)
        expect(message.locator("[data-problem]")).to_have_count(0)
        expect(message.locator("[data-unchecked]")).to_have_count(0)

    # When the person responsible sends a message whose entry for the facilitator is junk, signed as theirs
    sent = responsible.page.evaluate(SEAL_WITH_JUNK_FOR_STAFF, attack)

    # Then the server takes it (it cannot open entries, so it cannot tell)
    assert sent["status"] == 201, sent

    # And the person harmed is not shown it: a calm line says why, instead of its words
    harmed_view = message_by_id(harmed.page, sent["id"])
    expect(harmed_view).to_have_count(1, timeout=LIVE_SECONDS)
    expect(harmed_view.locator("[data-problem='not_for_everyone']")).to_have_text(
        "This message was not sealed correctly for everyone in this conversation, so it is not shown."
    )
    expect(harmed.message(attack)).to_have_count(0)

    # And the facilitator sees it marked as not readable for them, rather than nothing
    facilitator_view = message_by_id(facilitator.page, sent["id"])
    expect(facilitator_view).to_have_count(1, timeout=LIVE_SECONDS)
    expect(facilitator_view.locator("[data-problem='unreadable']")).to_contain_text("Not readable for you")
    expect(facilitator_view.locator("[data-problem='unreadable']")).to_contain_text(
        "The others in this conversation are not shown it either."
    )

    # And after a reload, from the stored copy, the same holds
    harmed.reload()
    harmed.wait_until_connected()
    expect(message_by_id(harmed.page, sent["id"]).locator("[data-problem='not_for_everyone']")).to_have_count(
        1
    )
    expect(harmed.message(attack)).to_have_count(0)
    harmed.sees_message(honest)


def test_it_refuses_a_new_version_1_message_so_that_no_one_can_dodge_the_check(people):
    _facilitator, harmed, responsible = people

    # Given a message sealed in the first format, which no reader can check for the others
    envelope = responsible.page.evaluate(SEAL_V1, "An old-style message.")
    assert envelope["v"] == 1

    # When the person responsible sends it
    status = responsible.page.evaluate(
        """async (envelope) => {
            const root = document.querySelector("[data-conversation]");
            const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
            const response = await fetch(`${root.dataset.sendBase}${root.dataset.conversation}/send/`, {
                method: "POST", credentials: "same-origin",
                headers: {
                    "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf,
                },
                body: JSON.stringify(envelope),
            });
            return {status: response.status, body: await response.json()};
        }""",
        envelope,
    )

    # Then the server refuses it and says which version it takes
    assert status["status"] == 400, status
    assert "version 2" in json.dumps(status["body"])
    expect(harmed.message("An old-style message.")).to_have_count(0)


def test_it_still_opens_a_version_1_message_stored_before_version_2(people, server_env):
    facilitator, harmed, responsible = people
    text = "Written before the new envelopes, and still readable."

    # Given a version 1 message the person responsible sent before version 2, as the server stored it
    envelope = responsible.page.evaluate(SEAL_V1, text)
    stored = loads_last_line(
        servers.run(
            [sys.executable, str(SEED), "--store-v1", json.dumps(envelope)],
            server_env,
            "Storing a v1 message",
        )
    )
    assert stored["id"] == envelope["id"]

    # When the person harmed and the facilitator open the conversation again
    for person in (harmed, facilitator):
        person.reload()
        person.wait_until_connected()

        # Then they read it, marked as an older message that could not be checked for everyone
        message = person.sees_message(text)
        expect(message.locator("[data-unchecked='v1']")).to_have_text(
            "Not checked for everyone here: an older message."
        )
        expect(message.locator("[data-problem]")).to_have_count(0)


def test_it_does_not_show_an_older_format_message_stored_after_a_newer_one(people, server_env):
    facilitator, harmed, responsible = people
    newer = "Sealed the new way, and checked for everyone."
    text = "Made to look older, but stored after a newer message."

    # Given the person harmed has read a version 2 message here
    responsible.write(newer)
    harmed.sees_message(newer)

    # When a version 1 message is stored after it (the server, or someone with its database, could
    # store one to skip the check of every entry)
    envelope = responsible.page.evaluate(SEAL_V1, text)
    stored = loads_last_line(
        servers.run(
            [sys.executable, str(SEED), "--store-v1", json.dumps(envelope)],
            server_env,
            "Storing a v1 message",
        )
    )

    # Then the page that has seen the newer one does not show it, and says why, each time it is opened
    for _ in range(2):
        harmed.reload()
        harmed.wait_until_connected()
        view = message_by_id(harmed.page, stored["id"])
        expect(view.locator("[data-problem='v1_late']")).to_have_text(
            "This message is in the older format but came after newer ones, so it is not shown.",
            timeout=LIVE_SECONDS,
        )
        expect(harmed.message(text)).to_have_count(0)


# What a page kept in its outbox before the upgrade: an envelope sealed in the first format, not yet sent.
PUT_IN_OUTBOX = """
async (envelope) => {
    const root = document.querySelector("[data-conversation]");
    const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open("mend-outbox", 1);
        request.onupgradeneeded = () => request.result.createObjectStore("outbox", {keyPath: "id"});
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    await new Promise((resolve, reject) => {
        const tx = db.transaction("outbox", "readwrite");
        tx.objectStore("outbox").put({
            id: envelope.id, conversation: root.dataset.conversation, user: Number(root.dataset.me), envelope,
        });
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
    });
    db.close();
}
"""


def test_it_offers_to_send_again_a_message_left_in_the_outbox_in_the_older_format(people):
    _facilitator, harmed, responsible = people
    text = "Written just before the update, and never sent."

    # Given the person harmed's outbox kept a message sealed in the first format, from before the update
    harmed.page.evaluate(PUT_IN_OUTBOX, harmed.page.evaluate(SEAL_V1, text))

    # When they open the conversation again, the server refuses it for its format
    harmed.reload()
    harmed.wait_until_connected()
    message = harmed.message(text)
    expect(message.locator(".error")).to_contain_text("locked in an older format", timeout=LIVE_SECONDS)
    expect(responsible.message(text)).to_have_count(0)

    # Then they can send it again, sealed the new way, and it arrives
    message.get_by_role("button", name="Send again").click()
    expect(harmed.status_of(text)).to_have_text(re.compile("Sent|Delivered|Read"), timeout=LIVE_SECONDS)
    expect(responsible.sees_message(text).locator("[data-unchecked]")).to_have_count(0)
