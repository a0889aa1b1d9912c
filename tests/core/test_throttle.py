"""Rate limits and lock-out, per account and per address: sign-in, recovery, invitation links and the
keys a passphrase unlocks. A paused name gets the same calm answer whether or not it is an account."""

import json
import time

import pytest
from django.test import Client

from mend.accounts.keys import RECOVERY_FAILED
from mend.accounts.views import SIGN_IN_FAILED
from mend.audit.models import AuditEvent
from mend.cases import services as case_services
from mend.cases.models import Participant, Role
from mend.core import envelope as env
from mend.core.throttle import PAUSED, TOO_MANY_TRIES
from tests.accounts.helpers import JSON, participant_with_phrase, sign_in, signed_in_as
from tests.builders import PASSWORD
from tests.test_permission_matrix import join_form

STAFF = "fac@riverbend.test"
PHRASE = "quiet harbour lantern morning cedar tide"
FAILED = {"errors": {"__all__": [SIGN_IN_FAILED]}}
FAILED_AND_PAUSED = {"errors": {"__all__": [SIGN_IN_FAILED, PAUSED]}}
WRONG = "not the password at all"


def at(address: str) -> Client:
    """A browser at this network address."""
    return Client(REMOTE_ADDR=address)


_next_address = iter(range(1, 250))


def anywhere() -> Client:
    """A browser at an address of its own, so that only per-account counts apply."""
    return at(f"198.51.100.{next(_next_address)}")


def limits(settings, **rates):
    settings.MEND_RATE_LIMITS = {
        **settings.MEND_RATE_LIMITS,
        **{k.replace("__", "."): v for k, v in rates.items()},
    }


def locked_events():
    return list(
        AuditEvent.objects.filter(code="account.locked").values_list("actor_id", "target_id", "payload")
    )


def shown(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


# --- sign-in, per account ------------------------------------------------------------------------------


def test_it_pauses_a_name_for_an_address_after_five_failed_sign_ins_from_it_and_says_so_calmly(cast):
    guesser = at("203.0.113.66")
    answers = [sign_in(guesser, STAFF, WRONG, json=True).json() for _ in range(5)]
    assert answers == [FAILED] * 4 + [FAILED_AND_PAUSED]
    # From that address even the right password is refused until the pause ends.
    response = sign_in(guesser, STAFF, PASSWORD, json=True)
    assert (response.status_code, response.json()) == (400, FAILED_AND_PAUSED)
    assert signed_in_as(guesser) is None


def test_it_lets_the_owner_sign_in_from_another_address_while_their_name_is_paused_for_a_guesser(cast):
    guesser = at("203.0.113.66")
    for _ in range(10):
        sign_in(guesser, STAFF, WRONG)
    assert sign_in(guesser, STAFF, PASSWORD, json=True).json() == FAILED_AND_PAUSED
    owner = at("192.0.2.10")
    assert sign_in(owner, STAFF, PASSWORD).status_code == 302
    assert signed_in_as(owner) == cast.facilitator.pk


def test_it_counts_failures_of_one_name_from_many_addresses_each_on_its_own(cast):
    # Four tries from each of many addresses pause the name nowhere; the owner still gets in.
    for _ in range(6):
        guesser = anywhere()
        assert [sign_in(guesser, STAFF, WRONG, json=True).json() for _ in range(4)] == [FAILED] * 4
    assert locked_events() == []
    assert sign_in(anywhere(), STAFF, PASSWORD).status_code == 302


def test_it_audits_a_name_paused_for_an_address_once_without_what_was_typed(cast, settings):
    guesser = at("203.0.113.66")
    for _ in range(7):
        sign_in(guesser, STAFF, WRONG)
    assert locked_events() == [(None, str(cast.facilitator.pk), {"scope": "sign_in"})]


def test_it_gives_an_unknown_name_the_same_pause_and_audits_nothing(cast):
    guesser = at("203.0.113.66")
    unknown = [sign_in(guesser, "nobody@riverbend.test", WRONG, json=True) for _ in range(6)]
    known = [sign_in(guesser, STAFF, WRONG, json=True) for _ in range(6)]
    assert [r.status_code for r in unknown] == [r.status_code for r in known] == [400] * 6
    assert [r.json() for r in unknown] == [r.json() for r in known]
    assert locked_events() == [(None, str(cast.facilitator.pk), {"scope": "sign_in"})]


def test_it_shows_the_pause_on_the_page_without_javascript_too(cast):
    guesser = at("203.0.113.66")
    for _ in range(5):
        response = sign_in(guesser, STAFF, WRONG)
    assert response.status_code == 400
    assert SIGN_IN_FAILED in shown(response) and PAUSED in shown(response)


def test_it_pauses_each_name_on_its_own(cast):
    guesser = at("203.0.113.66")
    for _ in range(5):
        sign_in(guesser, STAFF, WRONG)
    assert sign_in(guesser, "coord@riverbend.test", PASSWORD).status_code == 302


def test_it_counts_a_name_however_it_is_typed(cast):
    guesser = at("203.0.113.66")
    for typed in ("FAC@riverbend.test", " fac@riverbend.test", "Fac@Riverbend.Test", STAFF, STAFF.upper()):
        sign_in(guesser, typed, WRONG)
    assert sign_in(guesser, STAFF, PASSWORD, json=True).json() == FAILED_AND_PAUSED


def test_it_counts_an_ipv6_network_as_one_address_for_a_name_too(cast):
    for n in range(5):
        sign_in(at(f"2001:db8:1:2::{n + 10}"), STAFF, WRONG)
    assert sign_in(at("2001:db8:1:2::99"), STAFF, PASSWORD).status_code == 400
    assert sign_in(at("2001:db8:1:3::10"), STAFF, PASSWORD).status_code == 302


def test_it_lets_the_name_in_again_once_the_pause_is_over(cast, settings):
    settings.MEND_LOCKOUT_MINUTES = 0.03  # about two seconds
    guesser = at("203.0.113.66")
    for _ in range(5):
        sign_in(guesser, STAFF, WRONG)
    assert sign_in(guesser, STAFF, PASSWORD).status_code == 400
    time.sleep(2.2)
    assert sign_in(guesser, STAFF, PASSWORD).status_code == 302


def test_it_pauses_a_participant_name_and_the_phrase_no_longer_opens_it_from_there(cast):
    user, _made = participant_with_phrase(cast, "Rata", PHRASE)
    guesser = at("203.0.113.66")
    for _ in range(5):
        sign_in(guesser, user.username, "wrong words in a row here now")
    response = sign_in(guesser, user.username, PHRASE, json=True)
    assert response.json() == FAILED_AND_PAUSED
    assert "keys" not in response.json()
    assert "keys" in sign_in(anywhere(), user.username, PHRASE, json=True).json()


def _legacy(user):
    user.set_password(PASSWORD)
    user.auth_scheme = "legacy"
    user.save()


def test_it_counts_the_legacy_question_as_a_failed_try_then_answers_it_like_an_unknown_name(cast):
    _legacy(cast.facilitator)
    prober = at("203.0.113.66")
    # Asking whether a name is an account of the old scheme (409) is a try like any other...
    asked = [sign_in(prober, STAFF, PASSWORD, json=True) for _ in range(6)]
    unknown = [sign_in(prober, "nobody@riverbend.test", WRONG, json=True) for _ in range(6)]
    assert [r.status_code for r in asked] == [409] * 4 + [400] * 2
    # ...and once it has used up the tries, the answer is an unknown name's: the same words, the same pause.
    assert [r.json() for r in asked[4:]] == [r.json() for r in unknown[4:]] == [FAILED_AND_PAUSED] * 2
    # Paused: not even asked for the old password, which would tell that the account exists.
    paused = sign_in(prober, STAFF, PASSWORD, json=True, legacy_secret=PASSWORD)
    assert (paused.status_code, paused.json()) == (400, FAILED_AND_PAUSED)
    cast.facilitator.refresh_from_db()
    assert cast.facilitator.auth_scheme == "legacy"


def test_it_counts_a_wrong_old_password_of_a_legacy_account(cast):
    _legacy(cast.facilitator)
    guesser = at("203.0.113.66")
    for _ in range(5):
        sign_in(guesser, STAFF, WRONG, json=True, legacy_secret=WRONG)
    paused = sign_in(guesser, STAFF, PASSWORD, json=True, legacy_secret=PASSWORD)
    assert (paused.status_code, paused.json()) == (400, FAILED_AND_PAUSED)
    cast.facilitator.refresh_from_db()
    assert cast.facilitator.auth_scheme == "legacy"


def test_it_still_converts_a_legacy_account_whose_owner_asks_once(cast):
    _legacy(cast.facilitator)
    owner = at("192.0.2.10")
    assert sign_in(owner, STAFF, PASSWORD, json=True).status_code == 409
    assert sign_in(owner, STAFF, PASSWORD, json=True, legacy_secret=PASSWORD).status_code == 200


def test_it_does_not_count_successful_sign_ins(cast):
    client = at("203.0.113.9")
    for _ in range(40):
        assert sign_in(client, STAFF, PASSWORD).status_code == 302


# --- sign-in, per address ------------------------------------------------------------------------------


def test_it_answers_429_with_retry_after_once_an_address_has_failed_too_often(cast, settings):
    limits(settings, sign_in__address="3/15m")
    client = at("203.0.113.7")
    names = ["a@riverbend.test", "b@riverbend.test", "c@riverbend.test"]
    assert [sign_in(client, name, WRONG, json=True).status_code for name in names] == [400] * 3
    refused = sign_in(client, STAFF, PASSWORD, json=True)
    assert refused.status_code == 429
    assert refused.json() == {"errors": {"__all__": [TOO_MANY_TRIES]}}
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    assert signed_in_as(client) is None
    page = sign_in(client, STAFF, PASSWORD)
    assert page.status_code == 429 and TOO_MANY_TRIES in shown(page)
    # Another address is not held back.
    assert sign_in(at("203.0.113.8"), STAFF, PASSWORD).status_code == 302


def test_it_counts_an_ipv6_network_as_one_address(cast, settings):
    limits(settings, sign_in__address="2/15m")
    sign_in(at("2001:db8:1:2::10"), "a@riverbend.test", WRONG)
    sign_in(at("2001:db8:1:2::20"), "b@riverbend.test", WRONG)
    assert sign_in(at("2001:db8:1:2:ffff::1"), STAFF, PASSWORD).status_code == 429
    assert sign_in(at("2001:db8:1:3::10"), STAFF, PASSWORD).status_code == 302


def test_it_does_not_count_forms_the_page_did_not_complete(cast, settings):
    limits(settings, sign_in__address="2/15m")
    client = at("203.0.113.7")
    for _ in range(5):
        assert client.post("/account/sign-in/", {"identifier": STAFF}).status_code == 400
    assert sign_in(client, STAFF, PASSWORD).status_code == 302


def test_it_has_limits_for_every_door(settings):
    assert set(settings.MEND_RATE_LIMITS) == {
        "sign_in.address",
        "sign_in.account",
        "recover.address",
        "recover.account",
        "join.address",
        "join.invitation",
        "keys.account",
        "message.person",
        "upload.person",
    }
    assert settings.MEND_RATE_LIMITS["sign_in.account"].startswith("5/")
    assert settings.MEND_LOCKOUT_MINUTES >= 5


# --- recovery ------------------------------------------------------------------------------------------


def recover(client: Client, identifier: str, code: str):
    body = {"identifier": identifier, "recovery_auth": env.derive_recovery(code)[0]}
    return client.post("/account/recover/", json.dumps(body), content_type="application/json", headers=JSON)


def test_it_pauses_recovery_for_a_name_from_an_address_after_five_wrong_codes_from_it(cast):
    user, made = participant_with_phrase(cast, "Rata", PHRASE)
    guesser = at("203.0.113.66")
    answers = [recover(guesser, user.username, env.new_recovery_code()).json() for _ in range(5)]
    paused = {"error": f"{RECOVERY_FAILED} {PAUSED}"}
    assert answers == [{"error": RECOVERY_FAILED}] * 4 + [paused]
    right = recover(guesser, user.username, made.recovery_code)
    assert (right.status_code, right.json()) == (400, paused)
    assert locked_events() == [(None, str(user.pk), {"scope": "recover"})]
    # Recovery being paused there does not stop signing in with the phrase, nor the owner's recovery.
    assert sign_in(guesser, user.username, PHRASE).status_code == 302
    assert recover(anywhere(), user.username, made.recovery_code).status_code == 200


def test_it_pauses_recovery_for_an_unknown_name_just_the_same(cast):
    guesser = at("203.0.113.66")
    answers = [recover(guesser, "nobody-abcd1234", env.new_recovery_code()).json() for _ in range(6)]
    assert answers[-1] == {"error": f"{RECOVERY_FAILED} {PAUSED}"}
    assert locked_events() == []


def test_it_answers_429_to_an_address_that_tried_too_many_codes(cast, settings):
    limits(settings, recover__address="2/h")
    user, made = participant_with_phrase(cast, "Rata", PHRASE)
    client = at("203.0.113.7")
    recover(client, "nobody-aaaa1111", env.new_recovery_code())
    recover(client, "nobody-bbbb2222", env.new_recovery_code())
    refused = recover(client, user.username, made.recovery_code)
    assert refused.status_code == 429 and refused.json() == {"error": TOO_MANY_TRIES}
    assert int(refused["Retry-After"]) > 0
    assert recover(at("203.0.113.8"), user.username, made.recovery_code).status_code == 200


# --- invitation links ----------------------------------------------------------------------------------


@pytest.fixture
def invitation(cast):
    made, raw = case_services.participant_invite(
        actor=cast.facilitator, case=cast.case, role=Role.SUPPORTER, supports=cast.harmed
    )
    made.raw = raw
    return made


def test_it_answers_429_to_an_address_that_opened_too_many_unusable_links(cast, settings, invitation):
    limits(settings, join__address="3/h")
    client = at("203.0.113.7")
    assert [client.get(f"/join/guess-{n}/").status_code for n in range(3)] == [410] * 3
    # Past the limit, even a good link waits: a guesser cannot tell which one was good.
    refused = client.get(f"/join/{invitation.raw}/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert TOO_MANY_TRIES in shown(refused)
    assert client.post(f"/join/{invitation.raw}/", join_form(), headers=JSON).json() == {
        "error": TOO_MANY_TRIES
    }
    assert at("203.0.113.8").get(f"/join/{invitation.raw}/").status_code == 200


def test_it_does_not_count_a_good_link_opened_again_and_again(cast, settings, invitation):
    limits(settings, join__address="3/h")
    client = at("203.0.113.7")
    for _ in range(10):
        assert client.get(f"/join/{invitation.raw}/").status_code == 200


def test_it_answers_429_to_a_link_sent_back_wrong_too_often_from_anywhere(cast, settings, invitation):
    limits(settings, join__invitation="3/h")
    for _ in range(3):
        assert anywhere().post(f"/join/{invitation.raw}/", {}).status_code == 400
    refused = anywhere().post(f"/join/{invitation.raw}/", join_form())
    assert refused.status_code == 429 and TOO_MANY_TRIES in shown(refused)
    assert Participant.objects.get(pk=invitation.participant_id).joined_at is None
    # Reading the page is still fine, and another link is not held back.
    assert anywhere().get(f"/join/{invitation.raw}/").status_code == 200
    _other, raw = case_services.participant_invite(
        actor=cast.facilitator, case=cast.case, role=Role.INTERPRETER
    )
    assert anywhere().post(f"/join/{raw}/", join_form(), headers=JSON).status_code == 200


# --- the keys a passphrase unlocks -------------------------------------------------------------------


def test_it_answers_429_once_a_person_has_fetched_their_keys_too_often(cast, settings):
    limits(settings, keys__account="3/15m")
    harmed = cast.client("harmed")
    assert [harmed.get("/account/keys/").status_code for _ in range(3)] == [200] * 3
    refused = harmed.get("/account/keys/")
    assert refused.status_code == 429 and refused.json() == {"error": TOO_MANY_TRIES}
    assert int(refused["Retry-After"]) > 0
    # Per person, wherever they are: a second browser of theirs waits too; somebody else does not.
    assert cast.client("harmed").get("/account/keys/").status_code == 429
    assert cast.client("responsible").get("/account/keys/").status_code == 200
