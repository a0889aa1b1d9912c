"""/account/keys/: the signed-in person's wrapped keys for the page to unlock, and, once, the keys their
browser made at their first sign-in. The server checks the form of what it keeps; it never unwraps it."""

import json
import os

import pytest
from django.conf import settings
from django.test import Client

from mend.accounts.keys import key_bundle_create
from mend.accounts.models import KeyBundle
from mend.audit.models import AuditEvent
from mend.core import envelope as env
from tests.accounts.helpers import (
    JSON,
    derived,
    made_keys,
    participant_with_phrase,
    pass_second_step,
    sign_in,
)
from tests.builders import PASSWORD

URL = "/account/keys/"
STAFF = "fac@riverbend.test"


def post_keys(client: Client, body) -> object:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, raw, content_type="application/json", headers=JSON)


def first_keys(identifier: str = STAFF, secret: str = PASSWORD):
    """Keys as signin.js makes them at a first sign-in, wrapped under the key derived from the password."""
    return made_keys(derived(identifier, secret)[1])


def test_it_has_no_keys_for_staff_before_their_first_sign_in(cast):
    response = cast.client("facilitator").get(URL)
    assert response.status_code == 200
    assert response.json() == {"keys": None}


def test_it_keeps_the_first_keys_and_gives_them_back(cast):
    client = cast.client("facilitator")
    made = first_keys()
    response = post_keys(client, made.fields)
    assert response.status_code == 201
    kept = client.get(URL).json()["keys"]
    assert response.json()["keys"] == kept
    assert kept["key_id"] == made.pair.key_id
    assert (kept["enc_public"], kept["sign_public"]) == (
        made.fields["enc_public"],
        made.fields["sign_public"],
    )
    assert kept["wrapped"] == made.fields["wrapped"]
    assert kept["safety_code"] == env.safety_code_of(made.pair.enc_public, made.pair.sign_public)
    # The recovery copy is for the recovery page only, and the code's key is kept only as a digest.
    assert set(kept) == {
        "key_id",
        "enc_public",
        "sign_public",
        "safety_code",
        "wrapped",
        "wrapped_salt",
        "install_id",
    }
    assert (kept["wrapped_salt"], kept["install_id"]) == (2, settings.MEND_INSTALL_ID)
    bundle = KeyBundle.objects.get(user=cast.facilitator)
    assert bundle.recovery_verifier == env.recovery_verifier(made.fields["recovery_auth"])
    assert made.fields["recovery_auth"] not in json.dumps([bundle.wrapped, bundle.recovery_wrapped])
    created = AuditEvent.objects.filter(code="account.keys_created", actor=cast.facilitator)
    assert list(created.values_list("target_id", flat=True)) == [str(bundle.pk)]
    # What the page gets back unwraps with the password's key, as the browser will do.
    wrap_key = derived(STAFF, PASSWORD)[1]
    assert env.unwrap_keys(wrap_key, kept["wrapped"]).key_id == made.pair.key_id


def test_it_refuses_a_second_set_of_keys_and_keeps_the_first(cast):
    client = cast.client("facilitator")
    first = first_keys()
    assert post_keys(client, first.fields).status_code == 201
    response = post_keys(client, first_keys().fields)
    assert response.status_code == 409
    assert "You already have keys" in response.json()["error"]
    assert KeyBundle.objects.get(user=cast.facilitator).key_id == first.pair.key_id
    assert AuditEvent.objects.filter(code="account.keys_created", actor=cast.facilitator).count() == 1


def test_it_refuses_new_keys_from_a_participant_who_joined_with_some(cast):
    user, made = participant_with_phrase(cast, "Rata", "quiet harbour lantern morning cedar tide")
    client = Client()
    client.force_login(user)
    assert client.get(URL).json()["keys"]["key_id"] == made.pair.key_id
    assert post_keys(client, first_keys(user.username, "another phrase").fields).status_code == 409


def test_it_gives_each_person_only_their_own_keys(cast):
    post_keys(cast.client("facilitator"), first_keys().fields)
    other = cast.client("other_facilitator_same_program")
    assert other.get(URL).json() == {"keys": None}
    made = first_keys("fac2@riverbend.test")
    assert post_keys(other, made.fields).status_code == 201
    assert other.get(URL).json()["keys"]["key_id"] == made.pair.key_id
    mine = cast.client("facilitator").get(URL).json()["keys"]["key_id"]
    assert mine != made.pair.key_id


def _weakened(fields: dict, iterations) -> dict:
    wrapped = {**fields["wrapped"], "kdf": {"name": "PBKDF2-SHA-256", "iterations": iterations}}
    return {**fields, "wrapped": wrapped}


@pytest.mark.parametrize("iterations", [1, 599_999, "600000", 600_000.5, None, True])
def test_it_refuses_keys_wrapped_with_too_few_iterations(cast, iterations):
    client = cast.client("facilitator")
    response = post_keys(client, _weakened(first_keys().fields, iterations))
    assert response.status_code == 400
    assert "at least 600,000 PBKDF2 iterations" in response.json()["error"]
    assert not KeyBundle.objects.filter(user=cast.facilitator).exists()


def test_it_accepts_keys_wrapped_with_more_iterations(cast):
    response = post_keys(cast.client("facilitator"), _weakened(first_keys().fields, 1_000_000))
    assert response.status_code == 201


def _malformed() -> dict:
    good = first_keys().fields
    wrapped = good["wrapped"]
    return {
        "not JSON": "{keys",
        "empty": "",
        "a list": [good],
        "a string": "keys",
        "no fields": {},
        "no public keys": {k: v for k, v in good.items() if k not in ("enc_public", "sign_public")},
        "short public key": {**good, "enc_public": env.b64u(os.urandom(31))},
        "public key not base64url": {**good, "sign_public": "+" * 43},
        "public key padded": {**good, "sign_public": good["sign_public"] + "="},
        "wrapped not an object": {**good, "wrapped": "wrapped"},
        "wrapped with an extra part": {**good, "wrapped": {**wrapped, "plain": "x"}},
        "wrapped version 2": {**good, "wrapped": {**wrapped, "v": 2}},
        "another key derivation": {
            **good,
            "wrapped": {**wrapped, "kdf": {"name": "scrypt", "iterations": 10**6}},
        },
        "short nonce": {
            **good,
            "wrapped": {**wrapped, "enc_private": {**wrapped["enc_private"], "iv": env.b64u(os.urandom(8))}},
        },
        "ciphertext too long": {
            **good,
            "wrapped": {
                **wrapped,
                "sign_private": {**wrapped["sign_private"], "ct": env.b64u(os.urandom(4000))},
            },
        },
        "a number for a ciphertext": {
            **good,
            "wrapped": {**wrapped, "sign_private": {**wrapped["sign_private"], "ct": 12}},
        },
        "no recovery copy": {**good, "recovery_wrapped": None},
        "recovery key not made by the page": {**good, "recovery_auth": "my recovery code"},
        "deeply nested": "[" * 100_000 + "]" * 100_000,
    }


@pytest.mark.parametrize("what", list(_malformed()))
def test_it_refuses_keys_not_in_the_form_the_page_makes(cast, what):
    client = cast.client("facilitator")
    response = post_keys(client, _malformed()[what])
    assert response.status_code == 400
    assert response.json()["error"]
    assert not KeyBundle.objects.filter(user=cast.facilitator).exists()
    assert not AuditEvent.objects.filter(code="account.keys_created", actor=cast.facilitator).exists()


def test_it_makes_and_serves_staff_keys_only_after_the_second_factor(cast):
    # Before the second step a password alone reaches nothing that could be guessed against offline.
    client = Client()
    answer = sign_in(client, STAFF, PASSWORD, json=True).json()
    assert (answer["keys"], answer["unlock"]) == (None, True)
    assert client.get(URL).url.startswith("/account/two-factor/")
    assert post_keys(client, first_keys().fields).url.startswith("/account/two-factor/")
    assert not KeyBundle.objects.filter(user=cast.facilitator).exists()
    pass_second_step(client, cast.facilitator)
    assert client.get(URL).json() == {"keys": None}
    assert post_keys(client, first_keys().fields).status_code == 201
    assert client.get(URL).json()["keys"] is not None


def test_it_does_not_serve_existing_staff_keys_before_the_second_factor(cast):
    made = first_keys()
    key_bundle_create(actor=cast.facilitator, **made.fields)
    client = Client()
    answer = sign_in(client, STAFF, PASSWORD, json=True).json()
    assert answer["keys"] is None and answer["wrapped_salt"] == 2
    assert made.fields["wrapped"]["enc_private"]["ct"] not in json.dumps(answer)
    for method in ("get", "put"):
        response = getattr(client, method)(URL, content_type="application/json", headers=JSON)
        assert response.status_code == 302 and response.url.startswith("/account/two-factor/")
    assert made.fields["wrapped"]["enc_private"]["ct"] not in client.get("/api/v1/me/keys").content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_sends_someone_not_signed_in_to_the_sign_in_page(cast, method):
    response = getattr(Client(), method)(URL)
    assert response.status_code == 302
    assert response.url.startswith("/account/sign-in/")
    assert not KeyBundle.objects.filter(user__kind="staff").exists()


def test_it_refuses_keys_sent_without_the_csrf_token(cast):
    client = cast.client("volunteer")
    client.handler.enforce_csrf_checks = True
    response = post_keys(client, first_keys("vol@riverbend.test").fields)
    assert response.status_code == 403
    assert not KeyBundle.objects.filter(user=cast.volunteer).exists()
