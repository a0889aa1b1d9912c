"""Invariant 6 against a server that lies (issue 14): someone who can write to the database swaps a person's
key, adds a member nobody assigned, joins a case's team themselves, or moves an envelope to another
conversation. The conversation page works keys out from the public keys it is given, remembers who it has
seen in each conversation, and holds sending, names the change, or does not show the message.

Each test seeds a case of its own (dialogue_seed.py) and tampers with it through key_attacks.py, run in the
e2e server's environment.
"""

import re
import secrets
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

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

HERE = Path(__file__).parent


class Database:
    """The e2e server's database, as an attacker with write access to it."""

    def __init__(self, env: dict[str, str]):
        self.env = env

    def seed(self) -> DialogueCase:
        output = servers.run(
            [sys.executable, str(HERE / "dialogue_seed.py"), secrets.token_hex(3)], self.env, "Seeding"
        )
        return DialogueCase.from_seed(loads_last_line(output))

    def __call__(self, action: str, *args: str) -> dict:
        output = servers.run([sys.executable, str(HERE / "key_attacks.py"), action, *args], self.env, action)
        return loads_last_line(output)


@pytest.fixture
def database(mend_server, server_database_url, tmp_path_factory) -> Database:
    base = tmp_path_factory.getbasetemp()
    var_dirs = [d for d in base.glob("mend-var*") if not d.is_symlink() and (d / "server.log").exists()]
    assert len(var_dirs) == 1, f"expected the e2e server's one var dir, found {var_dirs}"
    return Database(servers.server_env(var_dirs[0], server_database_url))


@pytest.fixture
def case(database) -> DialogueCase:
    return database.seed()


def test_it_refuses_to_encrypt_to_a_key_swapped_in_the_database(new_context, database, case):
    # Given the facilitator has opened their conversation with the person harmed
    facilitator = Facilitator(new_context().new_page(), case)
    facilitator.sign_in()
    facilitator.open_conversation_with(case.harmed_pseudonym)
    facilitator.write("Hello Sorrel, this is where we can talk.")
    before = database("count", case.case_reference, case.harmed_pseudonym, "support")["messages"]

    # When someone with the database puts their own encryption key in place of the person harmed's
    assert database("substitute", case.case_reference, case.harmed_pseudonym)["changed"] == 1
    facilitator.reload()
    facilitator.wait_until_connected()

    # Then the page refuses those keys, and says so
    expect(facilitator.key_warnings()).to_contain_text(
        "The keys listed for Sorrel do not match their key id", timeout=LIVE_SECONDS
    )
    expect(facilitator.sending_is_held()).to_have_count(1)

    # And nothing more is sealed or sent to them
    facilitator.try_to_write("The address of the safe house is 12 Kōwhai Lane.")
    expect(facilitator.key_warnings()).to_be_focused()  # Send points to the reasons, said once
    expect(facilitator.sending_is_held()).to_contain_text("Sending is paused in this conversation")
    assert facilitator.message("safe house").count() == 0
    assert database("count", case.case_reference, case.harmed_pseudonym, "support")["messages"] == before


def test_it_names_a_ghost_member_and_holds_sending_until_the_person_has_checked(new_context, database, case):
    # Given the person harmed has written to their facilitator before
    facilitator = Facilitator(new_context().new_page(), case)
    facilitator.sign_in()  # their first sign-in makes their keys
    harmed = HarmedParty(new_context().new_page(), case)
    harmed.sign_in()
    harmed.open_conversation_with_facilitator()
    harmed.write("Thank you for Tuesday.")
    expect(harmed.status_of("Thank you for Tuesday.")).not_to_have_text("Sending…", timeout=LIVE_SECONDS)

    # When a co-facilitator nobody assigned is written into the database, with keys of their own
    database("ghost", case.case_reference, "Sam Hollow")
    harmed.reload()
    harmed.wait_until_connected()

    # Then the page names the new member and their role, and holds sending
    expect(harmed.key_warnings()).to_contain_text(
        "A new co-facilitator, Sam Hollow, has joined this conversation", timeout=LIVE_SECONDS
    )
    expect(harmed.sending_is_held()).to_have_count(1)
    harmed.try_to_write("Something private.")
    expect(harmed.key_warnings()).to_be_focused()  # Send points to the reasons, said once
    expect(harmed.sending_is_held()).to_contain_text("Sending is paused in this conversation")
    count = database("count", case.case_reference, case.harmed_pseudonym, "support")["messages"]
    assert count == 1

    # And their safety code with the new member is there to compare
    assert len(harmed.safety_code_of("Sam Hollow").split(" ")) == 16

    # When they say they have checked, they can send again
    harmed.say_i_have_checked()
    harmed.write("I checked with Rowan.")
    expect(harmed.status_of("I checked with Rowan.")).not_to_have_text("Sending…", timeout=LIVE_SECONDS)
    assert database("count", case.case_reference, case.harmed_pseudonym, "support")["messages"] == 2


def test_it_warns_the_parties_when_a_coordinator_joins_the_team_themselves(new_context, database, case):
    # Given both parties have their conversations with the facilitator open
    facilitator = Facilitator(new_context().new_page(), case)
    facilitator.sign_in()
    harmed = HarmedParty(new_context().new_page(), case)
    responsible = ResponsibleParty(new_context().new_page(), case)
    for party in (harmed, responsible):
        party.sign_in()
        party.open_conversation_with_facilitator()
        expect(party.key_warnings()).to_be_hidden()

    # When a coordinator assigns themselves to the case as co-facilitator
    database("self_assign", case.case_reference, "Cole Overseer")

    # Then each party's page says someone new joined, in what role, and holds sending until they checked
    for party in (harmed, responsible):
        party.reload()
        party.wait_until_connected()
        expect(party.key_warnings()).to_contain_text(
            "A new co-facilitator, Cole Overseer, has joined this conversation", timeout=LIVE_SECONDS
        )
        expect(party.sending_is_held()).to_have_count(1)


def test_it_does_not_show_an_envelope_moved_from_another_conversation(new_context, database, case):
    # Given the person harmed wrote something meant for their facilitator only
    facilitator = Facilitator(new_context().new_page(), case)
    facilitator.sign_in()
    harmed = HarmedParty(new_context().new_page(), case)
    harmed.sign_in()
    harmed.open_conversation_with_facilitator()
    private = "Only for you: I am not ready to meet him."
    harmed.write(private)
    expect(harmed.status_of(private)).not_to_have_text("Sending…", timeout=LIVE_SECONDS)

    # When its envelope is copied into their exchange through the facilitator, for the same people
    moved = database("move", case.case_reference, case.harmed_pseudonym)
    facilitator.open_exchange_of(case.harmed_pseudonym)

    # Then that conversation does not show it, and says why
    problem = facilitator.page.locator(f"[data-messages] > li[data-id='{moved['id']}'] .error")
    expect(problem).to_contain_text("written for another conversation", timeout=LIVE_SECONDS)
    expect(facilitator.message(private)).to_have_count(0)


def test_it_holds_sending_and_marks_messages_when_a_known_persons_keys_change(new_context, database, case):
    # Given the facilitator has written with the person harmed before
    facilitator = Facilitator(new_context().new_page(), case)
    facilitator.sign_in()
    facilitator.open_conversation_with(case.harmed_pseudonym)
    facilitator.write("How was the walk today?")

    # When the person harmed's keys change, and a message comes signed with the new ones
    database("new_keys_and_write", case.case_reference, case.harmed_pseudonym, "It was good, thank you.")
    facilitator.reload()
    facilitator.wait_until_connected()

    # Then the page says so and holds sending, and the message is shown, marked
    expect(facilitator.key_warnings()).to_contain_text(
        "Sorrel's keys have changed since you last saw them", timeout=LIVE_SECONDS
    )
    expect(facilitator.sending_is_held()).to_have_count(1)
    marker = facilitator.sees_message("It was good, thank you.").locator("[data-key-mark]")
    expect(marker).to_have_text("Signed with keys that changed")

    # When the facilitator has compared their safety code and says so, the mark goes and writing works
    assert len(facilitator.safety_code_of(case.harmed_pseudonym).split(" ")) == 16
    facilitator.say_i_have_checked()
    expect(marker).to_have_count(0)
    facilitator.write("Glad to hear it.")
    expect(facilitator.status_of("Glad to hear it.")).not_to_have_text("Sending…", timeout=LIVE_SECONDS)


def test_it_does_not_seal_again_by_itself_when_the_members_changed_while_writing(new_context, database, case):
    # Given the person harmed has their conversation with the facilitator open
    facilitator = Facilitator(new_context().new_page(), case)
    facilitator.sign_in()
    harmed = HarmedParty(new_context().new_page(), case)
    harmed.sign_in()
    harmed.open_conversation_with_facilitator()
    harmed.write("Are you there?")
    expect(harmed.status_of("Are you there?")).not_to_have_text("Sending…", timeout=LIVE_SECONDS)

    # When a member is added behind their back, and they send what they were writing
    database("ghost", case.case_reference, "Sam Hollow")
    harmed.write("Something I only want Rowan to read.")

    # Then the server's refusal is not answered by sealing again for the new member: it is not sent, and
    # the page names who joined
    message = harmed.message("Something I only want Rowan to read.")
    expect(message.locator(".error")).to_contain_text("Not sent", timeout=LIVE_SECONDS)
    expect(harmed.key_warnings()).to_contain_text("A new co-facilitator, Sam Hollow, has joined")
    assert database("count", case.case_reference, case.harmed_pseudonym, "support")["messages"] == 1

    # When they have checked, they send it again themselves
    harmed.say_i_have_checked()
    message.get_by_role("button", name="Send again").click()
    status = harmed.status_of("Something I only want Rowan to read.")
    expect(status).to_have_text(re.compile("Sent|Delivered|Read"), timeout=LIVE_SECONDS)
    assert database("count", case.case_reference, case.harmed_pseudonym, "support")["messages"] == 2


def test_it_does_not_pass_on_words_the_writer_did_not_agree_to_share(new_context, database, case):
    # Given the person responsible wrote for the other side, without agreeing to have it passed on
    facilitator = Facilitator(new_context().new_page(), case)
    facilitator.sign_in()
    responsible = ResponsibleParty(new_context().new_page(), case)
    responsible.sign_in()
    responsible.open_my_exchange()
    words = "I am not ready for Sorrel to read this yet."
    responsible.write_for_the_other_side(words, may_pass_on=False)
    expect(responsible.status_of(words)).to_have_text(
        "Waiting for your facilitator to review", timeout=LIVE_SECONDS
    )

    # When someone with the database marks it as agreed to be passed on
    flipped = database("approve", case.case_reference, case.responsible_pseudonym)

    # Then the facilitator's page goes by what the writer signed: it is not shown, and nothing offers to pass
    # it on
    facilitator.open_exchange_of(case.responsible_pseudonym)
    message = facilitator.page.locator(f"[data-messages] > li[data-id='{flipped['id']}']")
    expect(message.locator(".error")).to_contain_text(
        "differs from what its sender signed", timeout=LIVE_SECONDS
    )
    expect(facilitator.message(words)).to_have_count(0)
    expect(facilitator.page.locator("[data-forward]")).to_have_count(0)


def test_it_passes_nothing_on_to_a_conversation_this_device_has_never_opened(new_context, database, case):
    # Given the person responsible wrote for the other side and agreed to have it passed on
    facilitator = Facilitator(new_context().new_page(), case)
    facilitator.sign_in()
    responsible = ResponsibleParty(new_context().new_page(), case)
    responsible.sign_in()
    responsible.open_my_exchange()
    words = "I am sorry for what I did."
    responsible.write_for_the_other_side(words, may_pass_on=True)

    # When the facilitator, who has never opened the person harmed's exchange on this device, passes it on
    facilitator.open_exchange_of(case.responsible_pseudonym)
    message = facilitator.sees_message(words)
    message.get_by_role("button", name=f"Pass on to person harmed {case.harmed_pseudonym}").click()

    # Then nothing is sealed to whoever the server lists there: the page asks them to open it once first
    expect(facilitator.errors()).to_contain_text("this device has not opened that conversation before")
    assert database("count", case.case_reference, case.harmed_pseudonym, "relay")["messages"] == 0

    # When they have opened it and come back, it goes
    facilitator.open_exchange_of(case.harmed_pseudonym)
    facilitator.wait_until_connected()
    facilitator.open_exchange_of(case.responsible_pseudonym)
    facilitator.pass_on(words, to_pseudonym=case.harmed_pseudonym)
    assert database("count", case.case_reference, case.harmed_pseudonym, "relay")["messages"] == 1


def test_it_asks_staff_to_check_a_new_member_with_a_colleague_rather_than_their_facilitator(
    new_context, database, case
):
    # Given the facilitator has opened their conversation with the person harmed
    facilitator = Facilitator(new_context().new_page(), case)
    facilitator.sign_in()
    facilitator.open_conversation_with(case.harmed_pseudonym)

    # When a co-facilitator nobody assigned is written into the database
    database("ghost", case.case_reference, "Sam Hollow")
    facilitator.reload()
    facilitator.wait_until_connected()

    # Then the notice asks them to check with a colleague, not with "your facilitator"
    expect(facilitator.key_warnings()).to_contain_text(
        "or ask a colleague who runs the case", timeout=LIVE_SECONDS
    )
    expect(facilitator.key_warnings()).not_to_contain_text("ask your facilitator")


def test_it_does_not_pass_on_words_signed_with_keys_not_checked_here(new_context, database, case):
    # Given the facilitator has opened both exchanges on this device
    facilitator = Facilitator(new_context().new_page(), case)
    facilitator.sign_in()
    facilitator.open_exchange_of(case.harmed_pseudonym)
    facilitator.open_exchange_of(case.responsible_pseudonym)

    # When a message comes for the other side signed with keys the person responsible never had here
    words = "Please tell Sorrel to meet me alone."
    database("new_keys_and_write_for_relay", case.case_reference, case.responsible_pseudonym, words)
    facilitator.reload()
    facilitator.wait_until_connected()
    message = facilitator.sees_message(words)
    expect(message.locator("[data-key-mark]")).to_have_text("Signed with keys that changed")

    # Then passing it on is refused, and nothing reaches the person harmed
    message.get_by_role("button", name=f"Pass on to person harmed {case.harmed_pseudonym}").click()
    expect(facilitator.errors()).to_contain_text("signed with keys that have not been checked here")
    assert database("count", case.case_reference, case.harmed_pseudonym, "relay")["messages"] == 0
