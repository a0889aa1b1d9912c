"""Offline guessing, as someone with a copy of the database and nothing else would try it: a staff member's
password, known here, must verify against nothing in the copy without the key store's master key; neither
against the wrapped keys (a PBKDF2 test per guess, bypassing Argon2) nor against the password hash.

Written to run on the code from before the key bundles and hashes were sealed too, where it fails: the
attack worked there (docs/crypto.md, issue 14)."""

import os

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.test import override_settings

from mend.accounts import keys as account_keys
from mend.accounts.models import KeyBundle, User
from mend.core import envelope as env
from tests.builders import PASSWORD

STAFF = "fac@riverbend.test"

# What an attacker's own Django would check a dumped hash with: the stock hashers, no key store.
STOCK_HASHERS = [
    "tests.hashers.FastArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def _guesses(identifier: str, secret: str) -> list[tuple[str, bytes]]:
    """The keys a guess gives, with every sign-in salt Mend has used (the install id is public)."""
    found = [env.derive_sign_in(identifier, secret)]
    install_id = getattr(settings, "MEND_INSTALL_ID", None)
    if install_id:
        found.append(env.derive_sign_in(identifier, secret, install_id=install_id))
    return found


def _dump() -> dict:
    """The rows as a copy of the database holds them: what `values()` reads, past any model code."""
    return {
        "users": list(User.objects.values("username", "password")),
        "bundles": list(KeyBundle.objects.values("user__username", "wrapped", "recovery_wrapped")),
    }


def _opens(wrap_key: bytes, stored) -> bool:
    try:
        env.unwrap_keys(wrap_key, stored)
    except Exception:  # noqa: BLE001 - any failure to open is what the test wants
        return False
    return True


def _verifies(auth_key: str, stored: str) -> bool:
    try:
        return check_password(auth_key, stored)
    except Exception:  # noqa: BLE001 - a hash nobody can check is what the test wants
        return False


@pytest.fixture
def dump(cast) -> dict:
    """The facilitator's keys as their browser made them at first sign-in, then a copy of the database."""
    _auth, fields = account_keys.credentials_from_secret(STAFF, PASSWORD)
    account_keys.key_bundle_create(actor=cast.facilitator, **fields)
    assert cast.facilitator.check_password(_guesses(STAFF, PASSWORD)[-1][0]), "the known password signs in"
    return _dump()


def test_it_gives_a_copy_of_the_database_nothing_to_test_a_guess_against(dump):
    # Given a copy of the database and the facilitator's password, but not the key store's master key
    with override_settings(PASSWORD_HASHERS=STOCK_HASHERS, MEND_MASTER_KEY=os.urandom(32)):
        for auth_key, wrap_key in _guesses(STAFF, PASSWORD):
            # When the password's keys are tried against every wrapped bundle and every hash in it
            opened = [row["user__username"] for row in dump["bundles"] if _opens(wrap_key, row["wrapped"])]
            verified = [row["username"] for row in dump["users"] if _verifies(auth_key, row["password"])]
            # Then nothing opens and nothing verifies
            assert opened == [], "the wrapped keys in the copy open with the password: guessable offline"
            assert verified == [], "the password hash in the copy verifies the password: guessable offline"


def test_it_checks_nothing_with_mends_own_hashers_without_the_master_key(dump):
    # Given Mend's own code and the copy, but a master key that is not this install's
    with override_settings(MEND_MASTER_KEY=os.urandom(32)):
        # When the password's keys are checked against the stored hashes
        verified = [
            row["username"]
            for auth_key, _wrap in _guesses(STAFF, PASSWORD)
            for row in dump["users"]
            if _verifies(auth_key, row["password"])
        ]
    # Then none verifies
    assert verified == []
