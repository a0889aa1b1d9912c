"""Browser journeys: a facilitator invites a harmed party, who joins, finds their case, and can leave fast.

The journeys share one server, and the first one enrols the facilitator's authenticator, so they are
written to run in file order.
"""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.navigators import (
    NEUTRAL_START_URL,
    QUICK_EXIT_URL,
    RECOVERY_CODE,
    CspWatcher,
    Invitee,
    StaffMember,
)

pytestmark = pytest.mark.e2e


def test_it_lets_staff_enrol_a_second_factor_and_invite_a_harmed_party(
    new_context, mend_server, facilitator_login
):
    assert facilitator_login.storage_state is None, "another journey enrolled the facilitator first"
    context = new_context()
    staff = StaffMember(context.new_page(), mend_server.facilitator)

    # Given a facilitator who has never signed in, nor set up an authenticator app
    # When they sign in with their email and password
    staff.sign_in_for_the_first_time()

    # Then Mend asks them to enrol a second factor before anything else, their keys included
    assert staff.page.url.endswith("/account/two-factor/")
    assert staff.sees_second_factor_enrolment()
    expect(staff.page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()

    # And the case stays out of reach until they have done so
    staff.page.goto(f"/cases/{mend_server.case_reference}/")
    assert staff.page.url.endswith("/account/two-factor/")

    # When they enrol with the code their authenticator shows
    code = staff.enrol_second_factor_for_the_first_time()

    # Then their browser makes their keys, and the page shows their recovery code, this once
    assert RECOVERY_CODE.fullmatch(code), code
    expect(staff.page.get_by_text("We show it only this once")).to_be_visible()

    # When they have kept it and continue
    staff.keep_recovery_code_and_continue()

    # Then they reach their dashboard
    assert staff.dashboard_greeting() == f"Hello, {mend_server.facilitator.name}"
    facilitator_login.remember(context)

    # When they open their case and invite a harmed party
    staff.open_case(mend_server.case_reference)
    link = staff.invite("harmed_party")

    # Then they are shown a one-time link on this server, and the case lists the open invitation
    assert re.fullmatch(rf"{re.escape(mend_server.url)}/join/[A-Za-z0-9_-]{{20,}}/", link), link
    assert "invited, link open until" in staff.people_in_case()

    # And the link is shown once only
    staff.page.reload()
    expect(staff.page.get_by_test_id("invite-link")).to_have_count(0)


def test_it_welcomes_an_invitee_and_shows_them_their_case(new_context, invitation_link, mend_server):
    # Given a harmed party with an invitation link, in a browser of their own
    invitee = Invitee(new_context().new_page())

    # When they open the link and choose a pseudonym
    response = invitee.open_link(invitation_link)
    assert response.status == 200
    invitee.choose_pseudonym("Heron")

    # Then they see their sign-in name, a phrase of six words and a recovery code, once
    name, phrase = invitee.sign_in_details()
    assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)+", name), name
    assert len(phrase.split()) == 6, phrase
    assert RECOVERY_CODE.fullmatch(invitee.recovery_code()), invitee.recovery_code()

    # When they go to their case
    invitee.go_to_my_case()

    # Then they are greeted by their pseudonym, see their facilitator's pseudonym and what happens next
    assert invitee.greeting() == "Hello, Heron"
    assert invitee.facilitator() == mend_server.facilitator.name
    assert invitee.next_step()
    # And nothing of the facilitator's account beyond the pseudonym
    assert mend_server.facilitator.email not in invitee.page.content()

    # And the name and phrase sign them in again later, in another browser
    later = Invitee(new_context().new_page())
    later.sign_in(name, phrase)
    assert later.greeting() == "Hello, Heron"


def test_it_serves_the_stylesheet_and_the_quick_exit_script(new_context):
    # Given someone who is not signed in as staff, so that pages carry the quick exit
    page = new_context().new_page()

    # When they open the sign-in page
    page.goto("/account/sign-in/")
    linked = page.eval_on_selector_all(
        "link[rel=stylesheet], script[src]", "els => els.map(e => e.href || e.src)"
    )
    linked = {urlsplit(url).path: url for url in linked}

    # Then its stylesheet and the quick-exit script arrive, as CSS and as JavaScript
    for path, kind in [("/static/mend/mend.css", "text/css"), ("/static/mend/quick-exit.js", "javascript")]:
        assert path in linked, f"the page does not link {path}"
        answer = page.request.get(linked[path])
        assert answer.status == 200, f"{path} answered {answer.status}"
        assert kind in answer.headers.get("content-type", ""), answer.headers


@pytest.mark.parametrize("leave", ["button", "escape twice"])
def test_it_leaves_quickly_and_keeps_mend_out_of_the_back_history(leave, new_context, invitation_link):
    # Given an invitee whose tab showed an ordinary news site before they opened their link
    invitee = Invitee(new_context().new_page())
    invitee.visit(NEUTRAL_START_URL)
    invitee.open_link(invitation_link)
    invitee.choose_pseudonym("Sorrel" if leave == "button" else "Linnet")
    invitee.go_to_my_case()
    expect(invitee.page.locator("#quick-exit")).to_have_text("Leave this site quickly")

    # When they leave quickly
    if leave == "button":
        invitee.quick_exit()
    else:
        invitee.press_escape_twice()

    # Then the tab shows the neutral site
    assert invitee.page.url == QUICK_EXIT_URL
    assert invitee.heading() == "Weather"

    # And Back leads to the page they were on before Mend, not to any Mend page
    invitee.go_back()
    assert invitee.page.url == NEUTRAL_START_URL
    assert invitee.heading() == "Morning news"

    # And Forward, all the way, finds no case page: leaving also signed them out
    for _step in range(4):
        invitee.go_forward()
        assert not invitee.heading().startswith("Hello"), invitee.page.url
    assert invitee.heading() == "Sign in"


def test_escape_twice_while_typing_keeps_the_person_and_their_words(new_context):
    # Given someone typing on the sign-in page (screen-reader users leave a field's focus mode with Escape)
    page = new_context().new_page()
    page.goto("/account/sign-in/")
    field = page.locator("#id_identifier")
    field.fill("still typing")

    # When they press Escape twice in the field, they stay, and so do their words
    field.press("Escape")
    field.press("Escape")
    page.wait_for_timeout(1200)
    assert urlsplit(page.url).path == "/account/sign-in/"
    expect(field).to_have_value("still typing")

    # And outside a field, Escape twice still leaves at once
    page.locator("h1").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url(QUICK_EXIT_URL)


def test_it_refuses_an_invitation_link_that_was_used(new_context, invitation_link):
    # Given an invitation link that its invitee has already used
    first = Invitee(new_context().new_page())
    first.open_link(invitation_link)
    first.choose_pseudonym("Wicket")

    # When the same link is opened again, in another browser
    second = Invitee(new_context().new_page())
    response = second.open_link(invitation_link)

    # Then it says that the link cannot be used any more, and offers no way to join
    assert response.status == 410
    assert second.heading() == "This link is not available"
    expect(second.page.get_by_text("This link cannot be used any more.")).to_be_visible()
    expect(second.page.get_by_label("The name others in the case will see")).to_have_count(0)


def test_it_shows_pages_without_content_security_policy_violations(
    new_context, facilitator, invitation_link, mend_server
):
    # Given browsers that report every Content-Security-Policy violation
    visitor_page = new_context().new_page()
    invitee = Invitee(new_context().new_page())
    watchers = {
        "sign-in": CspWatcher(visitor_page),
        "staff case": CspWatcher(facilitator.page),
        "participant": CspWatcher(invitee.page),
    }

    # When someone opens the sign-in page
    visitor_page.goto("/account/sign-in/")
    expect(visitor_page.get_by_role("heading", name="Sign in")).to_be_visible()
    # And the facilitator opens the case page
    facilitator.open_case(mend_server.case_reference)
    # And an invitee joins and opens their case page
    invitee.open_link(invitation_link)
    invitee.choose_pseudonym("Thrift")
    invitee.go_to_my_case()

    # Then no page broke the policy
    assert {where: w.violations for where, w in watchers.items() if w.violations} == {}


def test_it_notices_a_content_security_policy_violation(new_context):
    # Given a watched page (this checks the watcher itself, so that the test above can fail)
    page = new_context().new_page()
    watcher = CspWatcher(page)
    page.goto("/account/sign-in/")

    # When an inline script is put into the page
    page.evaluate(
        """() => new Promise((resolve) => {
            document.addEventListener("securitypolicyviolation", resolve, {once: true});
            document.head.append(Object.assign(document.createElement("script"), {textContent: "1"}));
        })"""
    )

    # Then the violation is reported
    assert any("script-src" in v for v in watcher.violations), watcher.violations
