"""Signing in: staff by email, password and a second factor; participants by name and phrase. The page
sends a key derived from the password or phrase (docs/crypto.md), never the password or phrase itself."""

import base64
import json
import re
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

import mend
from mend.accounts import credentials, sealing
from mend.accounts.forms import NEEDS_JAVASCRIPT
from mend.accounts.models import User
from mend.accounts.views import SIGN_IN_FAILED
from mend.audit.models import AuditEvent
from tests.accounts.helpers import (
    JSON,
    auth_key,
    derived,
    made_keys,
    participant_with_phrase,
    pass_second_step,
    sign_in,
    signed_in_as,
)
from tests.builders import PASSWORD

PHRASE = "quiet harbour lantern morning cedar tide"
STAFF = "fac@riverbend.test"


def _sign_in(client, identifier, secret):
    return sign_in(client, identifier, secret)


def _legacy(user: User, secret: str) -> User:
    """An account from before the derived-key scheme: its hash is of the password or phrase itself."""
    user.set_password(secret)
    user.auth_scheme = "legacy"
    user.save()
    return user


def test_it_keeps_only_a_sealed_argon2_hash_of_the_derived_key(cast):
    assert cast.facilitator.password.startswith("sealed$")
    inner = sealing.unseal_hash(sealing.accounts_key(), cast.facilitator.password)
    assert inner.startswith("argon2")
    assert cast.facilitator.check_password(auth_key(STAFF, PASSWORD))
    assert not cast.facilitator.check_password(PASSWORD)
    assert cast.facilitator.auth_scheme == "install"


def test_it_sends_staff_to_the_second_step_before_any_case(cast):
    client = Client()
    assert _sign_in(client, STAFF, PASSWORD).status_code == 302
    response = client.get(f"/cases/{cast.case.reference}/")
    assert response.status_code == 302 and response.url.startswith("/account/two-factor/")
    assert client.get("/cases/").url.startswith("/account/two-factor/")


def test_it_lets_staff_in_after_a_correct_code(cast):
    client = Client()
    # The page trims and lower-cases the email before deriving the key, as the server does.
    _sign_in(client, "FAC@riverbend.test ", PASSWORD)
    device = TOTPDevice.objects.get(user=cast.facilitator)
    response = client.post("/account/two-factor/", {"code": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 302
    assert client.get(f"/cases/{cast.case.reference}/").status_code == 200


def test_it_opens_staff_keys_on_the_unlock_page_after_the_second_step_then_goes_on(cast):
    client = Client()
    client.post(
        "/account/sign-in/", {"identifier": STAFF, "auth_key": auth_key(STAFF, PASSWORD), "next": "/cases/"}
    )
    assert client.get("/account/keys/unlock/?next=/cases/").url.startswith("/account/two-factor/")
    device = TOTPDevice.objects.get(user=cast.facilitator)
    response = client.post("/account/two-factor/?next=/cases/", {"code": f"{totp(device.bin_key):06d}"})
    assert response.url == "/account/keys/unlock/?next=%2Fcases%2F"
    page = client.get(response.url)
    assert page.status_code == 200 and page.context["next"] == "/cases/"
    assert b"data-unlock" in page.content and b'data-next="/cases/"' in page.content
    # Somewhere else than this site is never where the page goes on to.
    assert client.get("/account/keys/unlock/?next=https://elsewhere.example/").context["next"] == "/"


def test_it_refuses_a_wrong_code_with_a_clear_message(cast):
    client = Client()
    _sign_in(client, STAFF, PASSWORD)
    response = client.post("/account/two-factor/", {"code": "000000"})
    assert response.status_code == 400
    assert b"did not match" in response.content
    assert client.get("/cases/").status_code == 302


def test_it_enrols_a_new_authenticator_with_a_current_code(cast):
    TOTPDevice.objects.filter(user=cast.coordinator).delete()
    client = Client()
    _sign_in(client, "coord@riverbend.test", PASSWORD)
    page = client.get("/account/two-factor/")
    assert page.status_code == 200 and b"data:image/svg+xml;base64," in page.content
    secret = page.context["secret"]
    code = totp(base64.b32decode(secret))
    response = client.post("/account/two-factor/", {"code": f"{code:06d}"})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=cast.coordinator).confirmed
    assert client.get("/cases/").status_code == 200


def test_it_keeps_the_enrolment_key_across_a_wrong_code(cast):
    TOTPDevice.objects.filter(user=cast.coordinator).delete()
    client = Client()
    _sign_in(client, "coord@riverbend.test", PASSWORD)
    secret = client.get("/account/two-factor/").context["secret"]
    assert client.post("/account/two-factor/", {"code": "12"}).status_code == 400
    assert client.get("/account/two-factor/").context["secret"] == secret
    assert not TOTPDevice.objects.filter(user=cast.coordinator).exists()


def test_it_gives_one_answer_for_any_failed_sign_in(cast):
    wrong_password = _sign_in(Client(), STAFF, "not the password")
    no_such_user = _sign_in(Client(), "nobody@riverbend.test", "not the password")
    assert wrong_password.status_code == no_such_user.status_code == 400
    assert SIGN_IN_FAILED.encode() in wrong_password.content
    assert (
        wrong_password.context["form"].non_field_errors() == no_such_user.context["form"].non_field_errors()
    )
    as_json = [
        sign_in(Client(), who, "not the password", json=True) for who in (STAFF, "nobody@riverbend.test")
    ]
    assert [r.status_code for r in as_json] == [400, 400]
    assert as_json[0].json() == as_json[1].json() == {"errors": {"__all__": [SIGN_IN_FAILED]}}


def test_it_refuses_the_password_itself_in_place_of_the_derived_key(cast):
    client = Client()
    response = client.post("/account/sign-in/", {"identifier": STAFF, "auth_key": PASSWORD})
    assert response.status_code == 400
    assert signed_in_as(client) is None


@pytest.mark.parametrize(
    "posted",
    [
        pytest.param({"identifier": STAFF, "secret": PASSWORD}, id="the old form, no key"),
        pytest.param({"identifier": STAFF, "auth_key": ""}, id="empty key"),
        pytest.param({"identifier": STAFF, "auth_key": "x" * 42 + "="}, id="not base64url"),
    ],
)
def test_it_tells_someone_without_javascript_that_sign_in_needs_it(cast, posted):
    client = Client()
    response = client.post("/account/sign-in/", posted)
    assert response.status_code == 400
    assert str(NEEDS_JAVASCRIPT) in response.content.decode().replace("&#x27;", "'")
    assert signed_in_as(client) is None
    as_json = Client().post("/account/sign-in/", posted, headers=JSON)
    assert as_json.status_code == 400
    assert as_json.json() == {"errors": {"auth_key": [str(NEEDS_JAVASCRIPT)]}}


def test_it_never_shows_the_passphrase_field_a_name_that_would_send_it(cast):
    page = Client().get("/account/sign-in/").content.decode()
    field = re.search(r'<input[^>]*id="id_secret"[^>]*>', page)
    assert field is not None and 'type="password"' in field.group(0)
    assert "name=" not in field.group(0)


def test_it_answers_the_sign_in_page_in_json_with_the_next_page_and_no_keys_yet(cast):
    client = Client()
    response = sign_in(client, STAFF, PASSWORD, json=True, next="/cases/")
    assert response.status_code == 200
    answer = response.json()
    # Staff get their keys after the second step: the page keeps the wrapping key until then.
    assert {k: answer[k] for k in ("next", "keys", "unlock")} == {
        "next": "/cases/",
        "keys": None,
        "unlock": True,
    }
    assert set(answer) == {"next", "keys", "unlock", "wrapped_salt", "csrf"}
    assert signed_in_as(client) == cast.facilitator.pk


def test_it_gives_the_page_the_new_csrf_token_for_sending_the_first_keys(cast):
    # Signing in rotates the CSRF token, so the token in the sign-in form no longer works.
    client = Client(enforce_csrf_checks=True)
    page = client.get("/account/sign-in/")
    old_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = client.post(
        "/account/sign-in/",
        {"identifier": STAFF, "auth_key": auth_key(STAFF, PASSWORD), "csrfmiddlewaretoken": old_token},
        headers=JSON,
    )
    assert response.status_code == 200
    pass_second_step(client, cast.facilitator)
    made = made_keys(derived(STAFF, PASSWORD)[1]).fields

    def send_keys(token):
        return client.post(
            "/account/keys/",
            json.dumps(made),
            content_type="application/json",
            headers={**JSON, "X-CSRFToken": token},
        )

    assert send_keys(old_token).status_code == 403
    assert send_keys(response.json()["csrf"]).status_code == 201


def test_it_gives_a_participant_their_wrapped_keys_on_signing_in(cast):
    user, made = participant_with_phrase(cast, "Rata", PHRASE)
    response = sign_in(Client(), user.username, PHRASE, json=True)
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys["key_id"] == made.pair.key_id
    assert keys["wrapped"] == made.fields["wrapped"]
    assert (keys["enc_public"], keys["sign_public"]) == (
        made.fields["enc_public"],
        made.fields["sign_public"],
    )
    assert "recovery_wrapped" not in keys


def test_it_signs_a_participant_in_with_their_phrase_however_it_is_typed(cast):
    user, _made = participant_with_phrase(cast, "Rata", PHRASE)
    client = Client()
    # The page normalises the phrase before deriving the key, so these all give the same key.
    typed = "  " + PHRASE.upper().replace(" ", "-") + " "
    response = _sign_in(client, " " + user.username.upper(), typed)
    assert response.status_code == 302
    page = client.get(f"/cases/{cast.case.reference}/")
    assert page.status_code == 200 and b"Rata" in page.content


def test_it_refuses_a_participant_with_a_different_phrase(cast):
    user, _made = participant_with_phrase(cast, "Rata", PHRASE)
    client = Client()
    response = _sign_in(client, user.username, PHRASE.replace("cedar", "willow"))
    assert response.status_code == 400
    assert signed_in_as(client) is None


def test_it_draws_phrases_and_names_from_the_same_list_of_letter_only_words():
    # The join page draws six words from this list: about 77 bits. Letters only, so that a phrase is six
    # space-separated words and every sign-in name has the shape the join check expects.
    words = json.loads((Path(mend.__file__).parent / "static" / "mend" / "words.json").read_text())
    assert len(words) == len(set(words)) == len(credentials._wordlist()) > 7700
    assert sorted(words) == sorted(credentials._wordlist())
    assert all(re.fullmatch(r"[a-z]{3,9}", word) for word in words)
    assert all(credentials.is_sign_in_name(credentials.new_sign_in_name()) for _ in range(2000))


def test_it_never_asks_participants_for_a_second_factor(cast):
    client = Client()
    client.force_login(cast.harmed.user)
    assert client.get(f"/cases/{cast.case.reference}/").status_code == 200


@pytest.mark.parametrize(("demo", "expected"), [(True, 200), (False, 302)])
def test_it_exempts_demo_accounts_only_in_demo_mode(cast, demo, expected):
    User.objects.filter(pk=cast.facilitator.pk).update(is_demo=True)
    client = Client()
    with override_settings(MEND_DEMO=demo):
        _sign_in(client, STAFF, PASSWORD)
        response = client.get("/cases/")
        assert response.status_code == expected
        if demo:
            assert b"Demo mode" in response.content


def test_it_signs_out_with_a_post_only(cast):
    client = cast.client("facilitator")
    assert client.get("/account/sign-out/").status_code == 405
    assert client.post("/account/sign-out/").status_code == 302
    assert client.get("/cases/").status_code == 302


def test_it_only_follows_safe_next_addresses(cast):
    response = sign_in(Client(), STAFF, PASSWORD, next="https://evil.example/")
    assert response.url == "/"
    as_json = sign_in(Client(), STAFF, PASSWORD, json=True, next="https://evil.example/")
    assert as_json.json()["next"] == "/"


# --- accounts from before the derived-key scheme -------------------------------------------------------


def test_it_asks_a_legacy_account_for_its_old_password_once(cast):
    _legacy(cast.facilitator, PASSWORD)
    client = Client()
    response = sign_in(client, STAFF, PASSWORD, json=True)
    assert response.status_code == 409
    assert response.json() == {"convert": "legacy"}
    assert signed_in_as(client) is None


def test_it_converts_a_legacy_account_to_the_derived_key(cast):
    user = _legacy(cast.facilitator, PASSWORD)
    client = Client()
    response = sign_in(client, STAFF, PASSWORD, json=True, legacy_secret=PASSWORD)
    assert response.status_code == 200
    assert signed_in_as(client) == user.pk
    user.refresh_from_db()
    assert user.auth_scheme == "install"
    assert user.check_password(auth_key(STAFF, PASSWORD))
    assert not user.check_password(PASSWORD)
    converted = AuditEvent.objects.filter(code="account.sign_in_converted")
    assert list(converted.values_list("actor_id", "target_id")) == [(user.pk, str(user.pk))]
    # From now on the derived key alone signs in, and the old password is never accepted again.
    assert _sign_in(Client(), STAFF, PASSWORD).status_code == 302
    again = Client()
    refused = sign_in(again, STAFF, "something else entirely", json=True, legacy_secret=PASSWORD)
    assert refused.status_code == 400
    assert refused.json() == {"errors": {"__all__": [SIGN_IN_FAILED]}}
    assert signed_in_as(again) is None
    assert converted.count() == 1


def test_it_converts_a_legacy_participant_however_the_phrase_is_typed(cast):
    user, _made = participant_with_phrase(cast, "Rata", PHRASE)
    _legacy(user, PHRASE)
    typed = PHRASE.upper().replace(" ", "-")
    assert sign_in(Client(), user.username, typed, json=True).status_code == 409
    client = Client()
    assert sign_in(client, user.username, typed, json=True, legacy_secret=typed).status_code == 200
    user.refresh_from_db()
    assert user.auth_scheme == "install" and user.check_password(auth_key(user.username, PHRASE))
    assert signed_in_as(client) == user.pk


def test_it_refuses_a_legacy_account_with_a_wrong_old_password_and_changes_nothing(cast):
    user = _legacy(cast.facilitator, PASSWORD)
    client = Client()
    response = sign_in(client, STAFF, "a wrong old password", json=True, legacy_secret="a wrong old password")
    assert response.status_code == 400
    assert response.json() == {"errors": {"__all__": [SIGN_IN_FAILED]}}
    assert signed_in_as(client) is None
    user.refresh_from_db()
    assert user.auth_scheme == "legacy" and user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(code="account.sign_in_converted").exists()


@pytest.mark.parametrize("legacy_secret", ["", PASSWORD])
def test_it_never_asks_an_unknown_or_converted_account_for_an_old_password(cast, legacy_secret):
    extra = {"legacy_secret": legacy_secret} if legacy_secret else {}
    unknown = sign_in(Client(), "nobody@riverbend.test", PASSWORD, json=True, **extra)
    wrong_key = sign_in(Client(), STAFF, "not the password", json=True, **extra)
    assert unknown.status_code == wrong_key.status_code == 400
    assert unknown.json() == wrong_key.json() == {"errors": {"__all__": [SIGN_IN_FAILED]}}


def test_it_does_not_convert_an_account_that_was_switched_off(cast):
    user = _legacy(cast.facilitator, PASSWORD)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert sign_in(Client(), STAFF, PASSWORD, json=True).status_code == 400
    refused = sign_in(Client(), STAFF, PASSWORD, json=True, legacy_secret=PASSWORD)
    assert refused.status_code == 400
    user.refresh_from_db()
    assert user.auth_scheme == "legacy"
