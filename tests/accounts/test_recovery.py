"""/account/recover/: a forgotten passphrase replaced with the recovery code. The page opens the recovery
copy of the keys in the browser and wraps them again; the server checks a key derived from the code."""

import json

import pytest
from django.test import Client

from mend.accounts.keys import RECOVERY_FAILED
from mend.accounts.models import KeyBundle, User
from mend.audit.models import AuditEvent
from mend.core import envelope as env
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

URL = "/account/recover/"
OLD_PHRASE = "quiet harbour lantern morning cedar tide"
NEW_PHRASE = "amber kelp shore drift ridge willow"
FILL_IN = "Fill in your sign-in name or email and your recovery code."


def post(client: Client, body) -> object:
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, raw, content_type="application/json", headers=JSON)


@pytest.fixture
def rata(cast):
    """A participant who joined through the page: their phrase and recovery code are known here."""
    user, made = participant_with_phrase(cast, "Rata", OLD_PHRASE)
    user.made = made
    return user


def first_step(client: Client, identifier: str, code: str):
    return post(client, {"identifier": identifier, "recovery_auth": env.derive_recovery(code)[0]})


def finish(client: Client, identifier: str, code: str, new_secret: str, *, wrapped=None, **extra):
    """The page's second step: the recovery copy opened with the code, wrapped under the new secret."""
    recovery_auth, recovery_wrap = env.derive_recovery(code)
    found = first_step(client, identifier, code).json()
    new_auth, new_wrap = derived(identifier, new_secret)
    if wrapped is None:
        wrapped = env.wrap_keys(new_wrap, env.unwrap_keys(recovery_wrap, found["recovery_wrapped"]))
    body = {
        "step": "finish",
        "identifier": identifier,
        "recovery_auth": recovery_auth,
        "auth_key": new_auth,
        "wrapped": wrapped,
        **extra,
    }
    return post(client, body)


def test_it_shows_the_recovery_page_to_anyone(cast):
    page = Client().get(URL)
    assert page.status_code == 200
    assert b"Use your recovery code" in page.content
    # Without JavaScript the page says why it cannot work, and its button stays off.
    assert b"This needs JavaScript turned on" in page.content
    assert b'<button type="submit" disabled>' in page.content


def test_it_gives_the_recovery_copy_of_the_keys_for_the_right_code(cast, rata):
    client = Client()
    response = first_step(client, rata.username, rata.made.recovery_code)
    assert response.status_code == 200
    found = response.json()
    assert set(found) == {"recovery_wrapped", "enc_public", "sign_public"}
    recovery_wrap = env.derive_recovery(rata.made.recovery_code)[1]
    assert env.unwrap_keys(recovery_wrap, found["recovery_wrapped"]).key_id == rata.made.pair.key_id
    # Only checking the code signs nobody in and changes nothing.
    assert signed_in_as(client) is None
    assert sign_in(Client(), rata.username, OLD_PHRASE).status_code == 302


def test_it_accepts_the_code_however_it_is_typed(cast, rata):
    typed = rata.made.recovery_code.lower().replace("-", " ")
    assert first_step(Client(), " " + rata.username.upper(), typed).status_code == 200


def test_it_gives_one_answer_for_a_wrong_code_an_unknown_person_and_someone_without_keys(cast, rata):
    other_code = env.new_recovery_code()
    answers = [
        first_step(Client(), rata.username, other_code),
        first_step(Client(), "nobody-abcd1234", rata.made.recovery_code),
        first_step(Client(), "fac@riverbend.test", other_code),  # staff, no keys made yet
    ]
    assert [a.status_code for a in answers] == [400, 400, 400]
    assert [a.json() for a in answers] == [{"error": RECOVERY_FAILED}] * 3


def test_it_refuses_a_code_for_someone_switched_off(cast, rata):
    User.objects.filter(pk=rata.pk).update(is_active=False)
    response = first_step(Client(), rata.username, rata.made.recovery_code)
    assert (response.status_code, response.json()) == (400, {"error": RECOVERY_FAILED})


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("not json", id="not JSON"),
        pytest.param("", id="empty"),
        pytest.param([1, 2], id="a list"),
        pytest.param({"identifier": "someone"}, id="no code"),
        pytest.param({"identifier": "someone", "recovery_auth": "ABCD-EFGH"}, id="the code itself"),
        pytest.param({"identifier": ["a"], "recovery_auth": 7}, id="wrong types"),
        pytest.param("[" * 100_000 + "]" * 100_000, id="deeply nested"),
    ],
)
def test_it_says_what_is_missing_from_a_malformed_request(cast, body):
    response = post(Client(), body)
    assert response.status_code == 400
    assert response.json() == {"error": FILL_IN}


def test_it_sets_a_new_phrase_with_the_code_and_keeps_the_same_keys(cast, rata):
    client = Client()
    before = KeyBundle.objects.get(user=rata)
    response = finish(client, rata.username, rata.made.recovery_code, NEW_PHRASE)
    assert response.status_code == 200
    assert response.json() == {"next": "/"}
    assert signed_in_as(client) == rata.pk
    assert client.get(f"/cases/{cast.case.reference}/").status_code == 200
    bundle = KeyBundle.objects.get(user=rata, replaced_at__isnull=True)
    # The same keys, wrapped again under the new phrase; the recovery copy and code stay as they were.
    assert bundle.pk == before.pk and bundle.key_id == rata.made.pair.key_id
    assert bundle.wrapped != before.wrapped
    assert env.unwrap_keys(derived(rata.username, NEW_PHRASE)[1], bundle.wrapped).key_id == bundle.key_id
    assert bundle.recovery_wrapped == before.recovery_wrapped
    rata.refresh_from_db()
    assert rata.check_password(auth_key(rata.username, NEW_PHRASE))
    assert rata.auth_scheme == "install"
    recovered = AuditEvent.objects.filter(code="account.recovered")
    assert list(recovered.values_list("actor_id", flat=True)) == [rata.pk]
    # The old phrase no longer signs in; the new one does, and the code still works.
    assert sign_in(Client(), rata.username, OLD_PHRASE).status_code == 400
    assert sign_in(Client(), rata.username, NEW_PHRASE).status_code == 302
    assert first_step(Client(), rata.username, rata.made.recovery_code).status_code == 200


def test_it_gives_the_same_answer_to_a_wrong_code_at_the_last_step_and_changes_nothing(cast, rata):
    client = Client()
    wrong_code = env.new_recovery_code()
    new_auth, new_wrap = derived(rata.username, NEW_PHRASE)
    response = post(
        client,
        {
            "step": "finish",
            "identifier": rata.username,
            "recovery_auth": env.derive_recovery(wrong_code)[0],
            "auth_key": new_auth,
            "wrapped": env.wrap_keys(new_wrap, rata.made.pair),
        },
    )
    assert (response.status_code, response.json()) == (400, {"error": RECOVERY_FAILED})
    assert signed_in_as(client) is None
    assert sign_in(Client(), rata.username, OLD_PHRASE).status_code == 302
    assert sign_in(Client(), rata.username, NEW_PHRASE).status_code == 400
    assert not AuditEvent.objects.filter(code="account.recovered").exists()


@pytest.mark.parametrize("what", ["weak iterations", "not wrapped", "no new key"])
def test_it_refuses_a_new_wrapping_not_made_by_the_page_and_changes_nothing(cast, rata, what):
    client = Client()
    before = KeyBundle.objects.get(user=rata).wrapped
    if what == "weak iterations":
        good = env.wrap_keys(derived(rata.username, NEW_PHRASE)[1], rata.made.pair)
        response = finish(
            client,
            rata.username,
            rata.made.recovery_code,
            NEW_PHRASE,
            wrapped={**good, "kdf": {"name": "PBKDF2-SHA-256", "iterations": 10_000}},
        )
    elif what == "not wrapped":
        response = finish(client, rata.username, rata.made.recovery_code, NEW_PHRASE, wrapped={"v": 1})
    else:
        response = finish(client, rata.username, rata.made.recovery_code, NEW_PHRASE, auth_key="")
    assert response.status_code == 400
    assert response.json()["error"]
    assert signed_in_as(client) is None
    assert KeyBundle.objects.get(user=rata).wrapped == before
    assert sign_in(Client(), rata.username, OLD_PHRASE).status_code == 302


def test_it_lets_staff_recover_but_still_asks_for_their_second_factor(cast):
    email, new_password = "fac@riverbend.test", "a brand new staff password 7"
    staff = Client()
    sign_in(staff, email, PASSWORD)
    pass_second_step(staff, cast.facilitator)
    made = made_keys(derived(email, PASSWORD)[1])
    assert (
        staff.post("/account/keys/", made.fields, content_type="application/json", headers=JSON).status_code
        == 201
    )
    client = Client()
    response = finish(client, email.upper(), made.recovery_code, new_password)
    assert response.status_code == 200
    assert signed_in_as(client) == cast.facilitator.pk
    assert client.get("/cases/").url.startswith("/account/two-factor/")
    assert sign_in(Client(), email, PASSWORD).status_code == 400
    assert sign_in(Client(), email, new_password).status_code == 302


def test_it_finishes_the_move_of_a_legacy_account_to_the_derived_key(cast, rata):
    rata.set_password(OLD_PHRASE)
    rata.auth_scheme = "legacy"
    rata.save()
    assert finish(Client(), rata.username, rata.made.recovery_code, NEW_PHRASE).status_code == 200
    rata.refresh_from_db()
    assert rata.auth_scheme == "install" and not rata.check_password(OLD_PHRASE)
    # Signing in with the old phrase no longer even asks for it.
    answer = sign_in(Client(), rata.username, OLD_PHRASE, json=True, legacy_secret=OLD_PHRASE)
    assert answer.status_code == 400
