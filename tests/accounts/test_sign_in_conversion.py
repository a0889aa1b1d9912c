"""Accounts from before this install's sign-in salt and the sealing of keys and hashes: they convert at the
next sign-in (the browser wraps the keys again; the server re-wraps nothing), and what is stored in the clear
is sealed by the data migration or when next read."""

import importlib
import json
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.test import Client

from mend.accounts import keys as account_keys
from mend.accounts import sealing
from mend.accounts.models import KeyBundle, User
from mend.audit.models import AuditEvent
from mend.core import envelope as env
from mend.core.at_rest import OpenFailed
from tests.accounts.helpers import (
    JSON,
    derived,
    made_keys,
    participant_with_phrase,
    pass_second_step,
    sign_in,
)
from tests.builders import PASSWORD

STAFF = "fac@riverbend.test"
PHRASE = "quiet harbour lantern morning cedar tide"
URL = "/account/keys/"
MIGRATION = importlib.import_module("mend.accounts.migrations.0005_sealed_keys_and_install_salt")


def _older(user: User, secret: str) -> tuple[str, bytes, env.KeyPair]:
    """Makes the account as a Mend from before left it: its sign-in key derived with the salt every install
    shared, hashed with plain Argon2, and its keys wrapped under that salt's key, in the clear."""
    identifier = user.username
    typed = secret if "@" in identifier else " ".join(secret.split())
    old_auth, old_wrap = env.derive_sign_in(identifier, typed)
    made = made_keys(old_wrap)
    KeyBundle.objects.filter(user=user).delete()
    account_keys.key_bundle_create(actor=user, **made.fields)
    KeyBundle.objects.filter(user=user).update(
        wrapped=made.fields["wrapped"], recovery_wrapped=made.fields["recovery_wrapped"], wrapped_salt=1
    )
    User.objects.filter(pk=user.pk).update(
        password=make_password(old_auth, hasher="argon2"), auth_scheme="derived"
    )
    return old_auth, old_wrap, made.pair


def _stored(user: User) -> dict:
    return KeyBundle.objects.filter(user=user).values("wrapped", "recovery_wrapped", "wrapped_salt").get()


def _rewrap(client: Client, wrap_key: bytes, pair: env.KeyPair):
    body = json.dumps({"wrapped": env.wrap_keys(wrap_key, pair)})
    return client.put(URL, body, content_type="application/json", headers=JSON)


def test_it_moves_a_participant_to_this_installs_salt_at_their_next_sign_in(cast):
    user, _made = participant_with_phrase(cast, "Rata", PHRASE)
    old_auth, old_wrap, pair = _older(user, PHRASE)
    new_auth, new_wrap = derived(user.username, PHRASE)

    # Given an account from before: the page's key, derived with this install's salt, is not known yet
    first = sign_in(Client(), user.username, PHRASE, json=True)
    assert (first.status_code, first.json()) == (409, {"convert": "salt"})

    # When the page sends the older key once, with the new one
    client = Client()
    answer = sign_in(client, user.username, PHRASE, json=True, old_auth_key=old_auth)

    # Then the server checks the older key and keeps only a sealed hash of the new one
    assert answer.status_code == 200
    user.refresh_from_db()
    assert user.auth_scheme == "install" and user.password.startswith("sealed$")
    assert user.check_password(new_auth) and not user.check_password(old_auth)
    assert AuditEvent.objects.filter(code="account.sign_in_converted", actor=user).exists()
    # And the keys come wrapped as they were, for the browser to wrap again
    served = answer.json()["keys"]
    assert served["wrapped_salt"] == 1
    assert env.unwrap_keys(old_wrap, served["wrapped"]).key_id == pair.key_id

    # When the browser sends the same keys wrapped under the new key
    response = _rewrap(client, new_wrap, pair)

    # Then they are kept, sealed, and open with the new key only
    assert response.status_code == 200 and response.json()["keys"]["wrapped_salt"] == 2
    bundle = account_keys.current_bundle(user)
    assert bundle.wrapped_salt == 2 and bundle.key_id == pair.key_id
    assert env.unwrap_keys(new_wrap, bundle.wrapped).key_id == pair.key_id
    assert sealing.is_sealed_bundle(_stored(user)["wrapped"])
    # And it happens once: from now on the new key alone signs in, and nothing is asked again
    assert _rewrap(client, new_wrap, pair).status_code == 409
    again = sign_in(Client(), user.username, PHRASE, json=True)
    assert again.status_code == 200 and again.json()["keys"]["wrapped_salt"] == 2


def test_it_converts_staff_but_serves_their_keys_only_after_the_second_step(cast):
    old_auth, _old_wrap, pair = _older(cast.facilitator, PASSWORD)
    _new_auth, new_wrap = derived(STAFF, PASSWORD)
    client = Client()
    answer = sign_in(client, STAFF, PASSWORD, json=True, old_auth_key=old_auth)
    assert answer.status_code == 200
    # The page learns which salt the keys are wrapped under, so that it keeps both wrapping keys, not the keys
    assert {k: answer.json()[k] for k in ("keys", "unlock", "wrapped_salt")} == {
        "keys": None,
        "unlock": True,
        "wrapped_salt": 1,
    }
    assert client.get(URL).url.startswith("/account/two-factor/")
    assert _rewrap(client, new_wrap, pair).url.startswith("/account/two-factor/")
    pass_second_step(client, cast.facilitator)
    assert client.get(URL).json()["keys"]["wrapped_salt"] == 1
    assert _rewrap(client, new_wrap, pair).status_code == 200
    assert client.get(URL).json()["keys"]["wrapped_salt"] == 2


def test_it_does_not_convert_with_an_older_key_that_does_not_match(cast):
    _older(cast.facilitator, PASSWORD)
    wrong, _wrap = env.derive_sign_in(STAFF, "not the password at all")
    client = Client()
    response = sign_in(client, STAFF, PASSWORD, json=True, old_auth_key=wrong)
    assert response.status_code == 400
    assert client.session.get("_auth_user_id") is None
    cast.facilitator.refresh_from_db()
    assert cast.facilitator.auth_scheme == "derived"


def test_it_refuses_a_rewrap_once_the_keys_use_this_installs_salt(cast):
    client = cast.client("facilitator")
    _auth, fields = account_keys.credentials_from_secret(STAFF, PASSWORD)
    account_keys.key_bundle_create(actor=cast.facilitator, **fields)
    pair = env.KeyPair.generate()
    assert _rewrap(client, derived(STAFF, PASSWORD)[1], pair).status_code == 409
    assert account_keys.current_bundle(cast.facilitator).wrapped == fields["wrapped"]


def test_it_seals_a_plain_hash_at_the_next_sign_in(cast):
    new_auth, _wrap = derived(STAFF, PASSWORD)
    User.objects.filter(pk=cast.facilitator.pk).update(password=make_password(new_auth, hasher="argon2"))
    assert sign_in(Client(), STAFF, PASSWORD).status_code == 302
    cast.facilitator.refresh_from_db()
    assert cast.facilitator.password.startswith("sealed$") and cast.facilitator.check_password(new_auth)


def test_it_seals_keys_kept_in_the_clear_when_they_are_next_read(cast):
    _older(cast.facilitator, PASSWORD)
    clear = _stored(cast.facilitator)
    assert not sealing.is_sealed_bundle(clear["wrapped"])
    served = account_keys.bundle_for_owner(account_keys.current_bundle(cast.facilitator))
    assert served["wrapped"] == clear["wrapped"]
    stored = _stored(cast.facilitator)
    assert sealing.is_sealed_bundle(stored["wrapped"]) and sealing.is_sealed_bundle(
        stored["recovery_wrapped"]
    )
    assert account_keys.current_bundle(cast.facilitator).recovery_wrapped == clear["recovery_wrapped"]


def test_it_seals_existing_keys_and_hashes_in_the_data_migration_and_opens_them_going_back(cast):
    old_auth, old_wrap, pair = _older(cast.facilitator, PASSWORD)
    clear, plain_hash = (
        _stored(cast.facilitator),
        User.objects.values_list("password", flat=True).get(pk=cast.facilitator.pk),
    )
    editor = SimpleNamespace(connection=SimpleNamespace(alias="default"))
    MIGRATION.seal_existing(apps, editor)
    stored = _stored(cast.facilitator)
    hashed = User.objects.values_list("password", flat=True).get(pk=cast.facilitator.pk)
    assert sealing.is_sealed_bundle(stored["wrapped"]) and hashed.startswith("sealed$")
    assert all(h.startswith(("sealed$", "!")) for h in User.objects.values_list("password", flat=True))
    user = User.objects.get(pk=cast.facilitator.pk)
    assert user.check_password(old_auth)
    assert env.unwrap_keys(old_wrap, account_keys.current_bundle(user).wrapped).key_id == pair.key_id
    MIGRATION.seal_existing(apps, editor)  # twice changes nothing
    assert _stored(cast.facilitator)["wrapped"] == stored["wrapped"]
    # Going back: as before the upgrade, no account uses the per-install salt yet.
    User.objects.filter(auth_scheme="install").update(auth_scheme="derived")
    KeyBundle.objects.update(wrapped_salt=1)
    MIGRATION.open_existing(apps, editor)
    assert _stored(cast.facilitator) == clear
    assert User.objects.values_list("password", flat=True).get(pk=cast.facilitator.pk) == plain_hash


def test_it_refuses_to_undo_the_migration_once_an_account_uses_the_per_install_salt(cast):
    _older(cast.facilitator, PASSWORD)
    User.objects.filter(auth_scheme="install").update(auth_scheme="derived")
    KeyBundle.objects.update(wrapped_salt=1)
    editor = SimpleNamespace(connection=SimpleNamespace(alias="default"))
    MIGRATION.seal_existing(apps, editor)
    sealed = _stored(cast.facilitator)
    # One person converts at sign-in: their key bundle and sign-in key now use the per-install salt.
    KeyBundle.objects.filter(user=cast.facilitator).update(wrapped_salt=2)
    with pytest.raises(RuntimeError, match="per-install salt"):
        MIGRATION.open_existing(apps, editor)
    assert _stored(cast.facilitator)["wrapped"] == sealed["wrapped"]  # nothing was opened


def test_it_does_not_open_sealed_keys_moved_to_another_persons_row(cast):
    for user, secret in ((cast.facilitator, PASSWORD), (cast.coordinator, PASSWORD)):
        _auth, fields = account_keys.credentials_from_secret(user.username, secret)
        account_keys.key_bundle_create(actor=user, **fields)
    moved = _stored(cast.facilitator)["wrapped"]
    KeyBundle.objects.filter(user=cast.coordinator).update(wrapped=moved)
    with pytest.raises(OpenFailed):
        account_keys.current_bundle(cast.coordinator).wrapped  # noqa: B018


def test_it_dumps_key_bundles_sealed_as_the_database_holds_them(cast):
    from django.core import serializers

    _auth, fields = account_keys.credentials_from_secret(STAFF, PASSWORD)
    bundle = account_keys.key_bundle_create(actor=cast.facilitator, **fields)
    dumped = serializers.serialize("json", [KeyBundle.objects.get(pk=bundle.pk)])
    assert fields["wrapped"]["enc_private"]["ct"] not in dumped
    (loaded,) = serializers.deserialize("json", dumped)
    assert sealing.is_sealed_bundle(loaded.object.__dict__["wrapped"])
    assert loaded.object.wrapped == fields["wrapped"]
