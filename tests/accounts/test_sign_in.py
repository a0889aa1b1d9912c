"""Signing in: staff by email, password and a second factor; participants by name and phrase."""

import base64

import pytest
from django.test import Client, override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from mend.accounts.models import User
from mend.cases import services as case_services
from tests.conftest import PASSWORD


def _sign_in(client, identifier, secret):
    return client.post("/account/sign-in/", {"identifier": identifier, "secret": secret})


def test_it_hashes_passwords_with_argon2(cast):
    assert cast.facilitator.password.startswith("argon2")


def test_it_sends_staff_to_the_second_step_before_any_case(cast):
    client = Client()
    assert _sign_in(client, "fac@riverbend.test", PASSWORD).status_code == 302
    response = client.get(f"/cases/{cast.case.reference}/")
    assert response.status_code == 302 and response.url.startswith("/account/two-factor/")
    assert client.get("/cases/").url.startswith("/account/two-factor/")


def test_it_lets_staff_in_after_a_correct_code(cast):
    client = Client()
    _sign_in(client, "FAC@riverbend.test ", PASSWORD)
    device = TOTPDevice.objects.get(user=cast.facilitator)
    response = client.post("/account/two-factor/", {"code": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 302
    assert client.get(f"/cases/{cast.case.reference}/").status_code == 200


def test_it_refuses_a_wrong_code_with_a_clear_message(cast):
    client = Client()
    _sign_in(client, "fac@riverbend.test", PASSWORD)
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
    wrong_password = _sign_in(Client(), "fac@riverbend.test", "not the password")
    no_such_user = _sign_in(Client(), "nobody@riverbend.test", "not the password")
    assert wrong_password.status_code == no_such_user.status_code == 400
    assert b"did not match an account" in wrong_password.content
    assert (
        wrong_password.context["form"].non_field_errors() == no_such_user.context["form"].non_field_errors()
    )


def test_it_signs_a_participant_in_with_their_phrase_however_it_is_typed(cast):
    invitation, raw = case_services.participant_invite(
        actor=cast.facilitator, case=cast.case, role="community_member"
    )
    user, phrase = case_services.invitation_accept(raw_token=raw, pseudonym="Rata")
    client = Client()
    typed = "  " + phrase.upper().replace(" ", "-") + " "
    response = _sign_in(client, user.username, typed)
    assert response.status_code == 302
    page = client.get(f"/cases/{cast.case.reference}/")
    assert page.status_code == 200 and b"Rata" in page.content


def test_it_gives_participants_a_phrase_of_six_words(cast):
    _invitation, raw = case_services.participant_invite(
        actor=cast.facilitator, case=cast.case, role="interpreter"
    )
    user, phrase = case_services.invitation_accept(raw_token=raw, pseudonym="Tawa")
    assert len(phrase.split()) == 6
    assert user.kind == User.Kind.PARTICIPANT and "@" not in user.username
    assert user.check_password(phrase)


def test_it_never_asks_participants_for_a_second_factor(cast):
    client = Client()
    client.force_login(cast.harmed.user)
    assert client.get(f"/cases/{cast.case.reference}/").status_code == 200


@pytest.mark.parametrize(("demo", "expected"), [(True, 200), (False, 302)])
def test_it_exempts_demo_accounts_only_in_demo_mode(cast, demo, expected):
    User.objects.filter(pk=cast.facilitator.pk).update(is_demo=True)
    client = Client()
    with override_settings(MEND_DEMO=demo):
        _sign_in(client, "fac@riverbend.test", PASSWORD)
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
    client = Client()
    response = client.post(
        "/account/sign-in/",
        {"identifier": "fac@riverbend.test", "secret": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.url == "/"
