"""Browser journeys of the keys: the passphrase never leaves the page, the unlocked keys stay on this device
and cannot be read out of it, signing out forgets them, and a recovery code sets a new phrase."""

from urllib.parse import unquote_plus, urlsplit

import pytest
from playwright.sync_api import Page

from tests.e2e.navigators import Invitee, StaffMember

pytestmark = pytest.mark.e2e

SIGN_IN_SCRIPT = "**/static/mend/signin.js"

# What the page's IndexedDB holds for the person signed in, as seen by a script of the page itself.
READ_KEYSET = """async () => {
    const m = await import('/static/mend/e2e.js');
    const keys = await m.loadKeyset();
    if (!keys) return null;
    let exported = true;
    try { await crypto.subtle.exportKey('pkcs8', keys.encPrivate); } catch { exported = false; }
    return {
        keyId: keys.keyId,
        encExtractable: keys.encPrivate.extractable,
        signExtractable: keys.signPrivate.extractable,
        encType: keys.encPrivate.type,
        exported,
    };
}"""


def stored_keyset(page: Page) -> dict | None:
    return page.evaluate(READ_KEYSET)


def server_key_id(page: Page) -> str:
    answer = page.request.get("/account/keys/")
    assert answer.status == 200, answer.status
    return answer.json()["keys"]["key_id"]


class RequestRecorder:
    """Every request a page sends, with its body, so that a test can look for a secret in them."""

    def __init__(self, page: Page):
        self.sent: list[tuple[str, str, str]] = []
        page.on("request", lambda r: self.sent.append((r.method, urlsplit(r.url).path, r.post_data or "")))

    def posts_to(self, path: str) -> list[str]:
        return [body for method, where, body in self.sent if method == "POST" and where == path]

    def bodies_containing(self, *secrets: str) -> list[str]:
        found = []
        for _method, path, body in self.sent:
            readable = {body, unquote_plus(body)}
            if any(secret and secret in text for secret in secrets for text in readable):
                found.append(path)
        return found


def forms_of(secret: str) -> list[str]:
    """A secret as it might be sent: as typed, or as the first two words of it."""
    words = secret.split()
    return [secret, secret.replace(" ", "-"), " ".join(words[:2])]


def test_it_never_sends_the_passphrase_when_joining_or_signing_in(new_context, invitation_link, mend_server):
    # Given an invitee whose every request is recorded
    invitee = Invitee(new_context().new_page())
    joining = RequestRecorder(invitee.page)

    # When they join
    invitee.open_link(invitation_link)
    invitee.choose_pseudonym("Curlew")
    name, phrase = invitee.sign_in_details()
    code = invitee.recovery_code()

    # Then the join was sent, with the derived key and the wrapped keys, but not the phrase or the code
    (join_body,) = joining.posts_to(urlsplit(invitation_link).path)
    assert "auth_key=" in join_body and "keys=" in join_body
    assert joining.bodies_containing(*forms_of(phrase), code, code.replace("-", "")) == []

    # When they sign in again in another browser, typing the phrase as they like
    later = Invitee(new_context().new_page())
    signing_in = RequestRecorder(later.page)
    later.sign_in(name.upper(), phrase.replace(" ", "-").title())

    # Then the sign-in sent the derived key and nothing of the phrase
    (sign_in_body,) = signing_in.posts_to("/account/sign-in/")
    assert "auth_key=" in sign_in_body and "legacy_secret" not in sign_in_body
    assert signing_in.bodies_containing(*forms_of(phrase), phrase.replace(" ", "-").title()) == []

    # And the same holds for staff and their password
    staff = StaffMember(new_context().new_page(), mend_server.facilitator)
    staff_requests = RequestRecorder(staff.page)
    staff.sign_in()
    assert len(staff_requests.posts_to("/account/sign-in/")) == 1
    assert staff_requests.bodies_containing(mend_server.facilitator.password) == []


def test_it_keeps_unlocked_keys_unreadable_and_forgets_them_on_sign_out(new_context, invitation_link):
    # Given a participant who joined in one browser
    joined = Invitee(new_context().new_page())
    joined.open_link(invitation_link)
    joined.choose_pseudonym("Plover")
    name, phrase = joined.sign_in_details()

    # When they sign in in another
    context = new_context()
    invitee = Invitee(context.new_page())
    invitee.sign_in(name, phrase)

    # Then this browser holds their keys, the ones the server knows them by, and cannot export them
    kept = stored_keyset(invitee.page)
    assert kept is not None, "no keys were kept after signing in"
    assert kept["keyId"] == server_key_id(invitee.page)
    assert (kept["encExtractable"], kept["signExtractable"], kept["encType"]) == (False, False, "private")
    assert kept["exported"] is False
    # And the keys made when joining are those same keys
    assert stored_keyset(joined.page)["keyId"] == kept["keyId"]

    # When they sign out (with the sign-in page's own clean-up held back, to see what signing out did)
    context.route(SIGN_IN_SCRIPT, lambda route: route.abort())
    invitee.sign_out()

    # Then the keys are gone from this browser
    assert stored_keyset(invitee.page) is None


def test_it_lets_a_participant_set_a_new_phrase_with_their_recovery_code(new_context, invitation_link):
    # Given a participant who joined and kept their recovery code, but has lost their phrase
    joined = Invitee(new_context().new_page())
    joined.open_link(invitation_link)
    joined.choose_pseudonym("Dunlin")
    name, old_phrase = joined.sign_in_details()
    code = joined.recovery_code()
    key_id = stored_keyset(joined.page)["keyId"]

    # When, in a fresh browser, they use the recovery code
    rescued = Invitee(new_context().new_page())
    new_phrase = rescued.recover(name, code)

    # Then they get a new phrase of six words, and are signed in with the same keys as before
    assert len(new_phrase.split()) == 6, new_phrase
    assert new_phrase != old_phrase
    assert stored_keyset(rescued.page)["keyId"] == key_id == server_key_id(rescued.page)
    rescued.continue_after_recovery()
    assert rescued.greeting() == "Hello, Dunlin"

    # And the new phrase signs them in elsewhere, unlocking those keys
    later = Invitee(new_context().new_page())
    later.sign_in(name, new_phrase)
    assert later.greeting() == "Hello, Dunlin"
    assert stored_keyset(later.page)["keyId"] == key_id

    # And the old phrase no longer does
    refused = Invitee(new_context().new_page())
    assert "did not match an account" in refused.try_to_sign_in(name, old_phrase)


def test_it_refuses_a_wrong_recovery_code_in_the_same_words_as_an_unknown_name(new_context, invitation_link):
    # Given a participant who joined
    joined = Invitee(new_context().new_page())
    joined.open_link(invitation_link)
    joined.choose_pseudonym("Knot")
    name, _phrase = joined.sign_in_details()
    code = joined.recovery_code()
    wrong = ("A" if code[0] != "A" else "B") + code[1:]

    # When someone tries a wrong code for them, and the right code for a name that does not exist
    said = []
    for who, tried in [(name, wrong), ("nobody-zzzz9999", code)]:
        page = new_context().new_page()
        page.goto("/account/recover/")
        page.get_by_label("Email or sign-in name").fill(who)
        page.get_by_label("Recovery code").fill(tried)
        page.get_by_role("button", name="Set it up again").click()
        errors = page.locator("[data-errors]")
        errors.wait_for(state="visible", timeout=30_000)
        said.append(errors.inner_text().strip())

    # Then both hear the same thing, and nobody is signed in
    assert said[0] == said[1] and "did not match" in said[0]
