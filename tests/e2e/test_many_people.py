"""Browser journeys of many people in one case (issue 16), in the demo's own cases (mend.demo), each person
in their own browser:

- the data breach: one of the five people harmed stops taking part; the other four and the person
  responsible go on to a conference and sign an agreement; the person responsible never learns who stopped;
  the person who stopped finds nothing new on her pages;
- the school: three youths, each with their own supporter, are to meet the two staff they harmed; each
  youth sees the staff and their own supporter only.
"""

import re
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e import servers
from tests.e2e.navigators import (
    CRYPTO_TIMEOUT_MS,
    LIVE_SECONDS,
    SIGN_IN_PATH,
    DialogueCase,
    Facilitator,
    Party,
    loads_last_line,
    send_sign_in,
)

pytestmark = pytest.mark.e2e

SEED = Path(__file__).with_name("many_seed.py")
FOUR = ["Heron", "Tern", "Plover", "Godwit"]
STOPPED = "Dotterel"
ITEM = "Pay for a year of identity monitoring for each person whose records were exposed."
YOUTHS = {"Sparrow": "Totara", "Finch": "Hinau", "Linnet": "Miro"}
STAFF_HARMED = ["Kauri", "Rimu"]
# What would tell someone what happened to a person, on a page that names her.
STEPPED_BACK = re.compile(r"stopped|withdr|paused|on a break|no longer|not taking part", re.IGNORECASE)


@pytest.fixture
def demo(mend_server, server_database_url, tmp_path_factory) -> dict:
    base = tmp_path_factory.getbasetemp()
    var_dirs = [d for d in base.glob("mend-var*") if not d.is_symlink() and (d / "server.log").exists()]
    assert len(var_dirs) == 1, f"expected the e2e server's one var dir, found {var_dirs}"
    env = servers.server_env(var_dirs[0], server_database_url)
    return loads_last_line(servers.run([sys.executable, str(SEED)], env, "Loading the demo"))


def staff(page: Page, demo: dict, reference: str, email: str, name: str) -> Facilitator:
    case = DialogueCase(
        case_reference=reference,
        facilitator_email=email,
        facilitator_password=demo["password"],
        facilitator_name=name,
        totp_key=demo["totp_keys"][email],
        harmed_sign_in="",
        harmed_pseudonym="",
        responsible_sign_in="",
        responsible_pseudonym="",
        phrase=demo["phrase"],
        direct_conversation="",
    )
    person = Facilitator(page, case)
    person.sign_in()
    return person


def party(new_context, demo: dict, pseudonym: str) -> Party:
    """A person of the demo, signed in on a browser of their own with the printed sign-in name and phrase."""
    person = Party(new_context().new_page())
    send_sign_in(person.page, f"{pseudonym.lower()}-demo", demo["phrase"])
    person.page.wait_for_url(lambda url: urlsplit(url).path != SIGN_IN_PATH, timeout=CRYPTO_TIMEOUT_MS)
    person.page.wait_for_load_state()
    return person


def main_text(page: Page, path: str) -> str:
    page.goto(path)
    return page.locator("main").inner_text()


def schedule_conference(
    page: Page, reference: str, me: str, people: list[str], not_offered: list[str]
) -> str:
    """Schedules a conference in a week with these people; returns what the page says back."""
    page.goto(f"/cases/{reference}/sessions/new/")
    page.get_by_label("Kind of session").select_option("conference")
    page.get_by_label("Date").fill((timezone.localdate() + timedelta(days=7)).isoformat())
    page.locator("#id_time").fill("10:30")
    page.get_by_label("Time zone of that time").select_option("Pacific/Auckland")
    for name in not_offered:
        expect(page.get_by_role("checkbox", name=re.compile(rf"\b{name}\b"))).to_have_count(0)
    page.get_by_label(me, exact=False).check()
    for name in people:
        page.get_by_role("checkbox", name=re.compile(rf"\b{name}\b")).check()
    page.get_by_role("button", name="Schedule").click()
    refusal = page.get_by_test_id("refusal")
    if refusal.count():
        return refusal.inner_text()
    return page.locator(".messages").inner_text()


def sign(page: Page, reference: str, typed_name: str) -> None:
    page.goto(f"/cases/{reference}/agreement/")
    page.get_by_test_id("read-to-sign").click()
    expect(page.get_by_test_id("item-description").first).to_have_text(ITEM)
    page.get_by_label("Type your name to sign").fill(typed_name)
    page.get_by_test_id("sign").click()
    expect(page.get_by_text("Thank you. Your signature is recorded.")).to_be_visible(timeout=LIVE_SECONDS)


def test_one_person_harmed_stops_and_the_four_others_meet_and_sign(new_context, demo):
    reference = demo["breach_reference"]
    # Given the demo's data-breach case, everyone prepared, and Dotterel signed in on her own device
    dotterel = party(new_context, demo, STOPPED)

    # When she stops taking part, in one click, no reason asked
    dotterel.stop_taking_part()
    before = {path: main_text(dotterel.page, path) for path in ("/", f"/cases/{reference}/messages/")}

    # Then the facilitator is not offered her for the conference, and schedules it for the others
    ilo = staff(new_context().new_page(), demo, reference, "facilitator2@demo.mend.test", "Ilo Marsh")
    said = schedule_conference(ilo.page, reference, "Ilo Marsh", [*FOUR, "Falcon"], not_offered=[STOPPED])
    assert "The session is scheduled." in said, said

    # And drafts an agreement with one item, and opens it for signing
    page = ilo.page
    page.goto(f"/cases/{reference}/agreement/")
    page.get_by_test_id("draft").click()
    page.get_by_label("Kind of item").select_option(label="Restitution")
    page.get_by_label("What will be done").fill(ITEM)
    page.get_by_label("Who does it").select_option(label="Falcon (person responsible)")
    page.get_by_label("Due by").fill((timezone.localdate() + timedelta(days=60)).isoformat())
    page.get_by_label("How it will be checked").fill("The facilitator sees the receipts.")
    page.get_by_label("Amount (restitution)").fill("120.00")
    page.get_by_label("Currency, like NZD (restitution)").fill("NZD")
    page.get_by_label("Payment schedule (restitution)").fill("One payment")
    page.get_by_role("button", name="Add the item").click()
    expect(page.get_by_test_id("item-description")).to_have_text(ITEM)
    page.get_by_test_id("open-for-signing").click()
    expect(page.get_by_test_id("version-state")).to_have_text("Waiting for signatures")

    # When the four others and the person responsible sign, each in their own browser
    falcon = party(new_context, demo, "Falcon")
    for name in FOUR:
        sign(party(new_context, demo, name).page, reference, name)
    sign(falcon.page, reference, "Falcon")

    # Then the agreement is in force for those who take part
    expect(falcon.page.get_by_test_id("version-state")).to_have_attribute("data-state", "signed")

    # And the person responsible never learns who stopped: she chose to meet him, so her name may be on his
    # pages, but never next to what happened; she is in neither the conference nor the agreement
    seen = {path: main_text(falcon.page, path) for path in ("/", f"/cases/{reference}/agreement/")}
    for start in (f"/cases/{reference}/", f"/cases/{reference}/messages/"):
        falcon.page.goto(start)
        links = falcon.page.locator("main a[href*='/sessions/'], main a[href*='/messages/D-']").all()
        for path in [link.get_attribute("href") for link in links]:
            if path and path not in seen:
                seen[path] = main_text(falcon.page, path)
    assert any("/sessions/" in path for path in seen), "the conference is on his pages"
    for path, text in seen.items():
        assert not STEPPED_BACK.search(text) or STOPPED not in text, f"{path} tells who stopped:\n{text}"
        if "/sessions/" in path or "/agreement/" in path:
            assert STOPPED not in text, f"{path} names {STOPPED}"

    # And the person who stopped finds nothing new: no meeting, no agreement to sign, no new message
    after = {path: main_text(dotterel.page, path) for path in before}
    assert after == before
    agreement = main_text(dotterel.page, f"/cases/{reference}/agreement/")
    assert ITEM not in agreement and "Waiting for signatures" not in agreement
    dotterel.page.goto(f"/cases/{reference}/")
    assert not dotterel.page.locator("a[href*='/sessions/']").count()


def test_three_youths_each_see_only_their_own_supporter_and_the_staff(new_context, demo):
    reference = demo["school_reference"]
    # Given the demo's school case, ready for its conference, and its facilitator
    tamsin = staff(new_context().new_page(), demo, reference, "facilitator@demo.mend.test", "Tamsin Reed")

    # When she schedules the conference: the two staff harmed, the three youths and their supporters
    people = [*STAFF_HARMED, *YOUTHS, *YOUTHS.values()]
    said = schedule_conference(tamsin.page, reference, "Tamsin Reed", people, not_offered=[])
    assert "The session is scheduled." in said, said
    meeting = tamsin.page.url if "/sessions/" in tamsin.page.url else ""
    if not meeting:
        tamsin.page.goto(f"/cases/{reference}/")
        meeting = tamsin.page.locator("a[href*='/sessions/']").first.get_attribute("href")

    # Then each youth, in their own browser, sees the staff and their own supporter, and no other youth
    for youth, supporter in YOUTHS.items():
        person = party(new_context, demo, youth)
        text = main_text(person.page, meeting)
        for name in STAFF_HARMED:
            assert name in text, f"{youth} does not see {name}"
        assert supporter in text, f"{youth} does not see their supporter {supporter}"
        others = [n for n in [*YOUTHS, *YOUTHS.values()] if n not in (youth, supporter)]
        for name in others:
            assert not re.search(rf"\b{name}\b", text), f"{youth} sees {name}"
        # And the same on their messages and case pages
        rest = main_text(person.page, "/") + main_text(person.page, f"/cases/{reference}/messages/")
        assert not [name for name in others if re.search(rf"\b{name}\b", rest)], f"{youth}: {rest}"

    # And each supporter sees the youth they came for, and no other youth nor supporter
    for youth, supporter in YOUTHS.items():
        person = party(new_context, demo, supporter)
        text = main_text(person.page, meeting)
        assert youth in text, f"{supporter} does not see {youth}"
        others = [n for n in [*YOUTHS, *YOUTHS.values()] if n not in (youth, supporter)]
        assert not [name for name in others if re.search(rf"\b{name}\b", text)], f"{supporter}: {text}"
