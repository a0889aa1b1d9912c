"""A person's keys for end-to-end encryption, as the browser made them, and the derived sign-in key
(docs/crypto.md). The server checks their form; it never sees a private key or a passphrase."""

import hmac
import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts import sealing
from mend.accounts.credentials import normalise_phrase
from mend.accounts.models import KeyBundle, User
from mend.accounts.offboarding import sockets_close
from mend.audit.codes import AuditCode
from mend.core import envelope as env
from mend.core.errors import Conflict, DomainError

_AUTH_KEY = re.compile(r"^[A-Za-z0-9_-]{43}$")


def check_auth_key(value: str) -> str:
    """The key the sign-in page derives: 32 bytes in base64url. Anything else was not made by Mend's page."""
    if not isinstance(value, str) or not _AUTH_KEY.match(value):
        raise DomainError(
            _("Sign-in needs JavaScript turned on, so that your passphrase stays on this device.")
        )
    return value


def _check_wrapped(wrapped, *, what: str, passphrase: bool) -> dict:
    problem = DomainError(
        _("The %(what)s are not in the form Mend's page makes. Reload and try again.") % {"what": what}
    )
    if not isinstance(wrapped, dict) or set(wrapped) != {"v", "kdf", "enc_private", "sign_private"}:
        raise problem
    kdf = wrapped["kdf"]
    if wrapped["v"] != 1 or not isinstance(kdf, dict) or kdf.get("name") != "PBKDF2-SHA-256":
        raise problem
    iterations = kdf.get("iterations")
    if passphrase and (not isinstance(iterations, int) or iterations < env.PBKDF2_ITERATIONS):
        raise DomainError(_("Keys must be wrapped with at least 600,000 PBKDF2 iterations."))
    for part in ("enc_private", "sign_private"):
        item = wrapped[part]
        if not isinstance(item, dict) or set(item) != {"iv", "ct"}:
            raise problem
        try:
            env.unb64u(item["iv"], length=12)
            if not 48 <= len(env.unb64u(item["ct"])) <= 128:
                raise problem
        except env.EnvelopeError:
            raise problem from None
    return wrapped


def check_public(enc_public: str, sign_public: str) -> tuple[bytes, bytes]:
    try:
        return env.unb64u(enc_public, length=32), env.unb64u(sign_public, length=32)
    except env.EnvelopeError:
        raise DomainError(_("The public keys are not in the form Mend's page makes.")) from None


@transaction.atomic
def key_bundle_create(
    *,
    actor: User,
    enc_public: str,
    sign_public: str,
    wrapped: dict,
    recovery_wrapped: dict,
    recovery_auth: str,
) -> KeyBundle:
    """Keeps a person's first keys: public halves, and private halves wrapped in their browser."""
    enc, sign = check_public(enc_public, sign_public)
    _check_wrapped(wrapped, what=_("wrapped keys"), passphrase=True)
    _check_wrapped(recovery_wrapped, what=_("recovery keys"), passphrase=False)
    check_auth_key(recovery_auth)
    User.objects.select_for_update().filter(pk=actor.pk).first()
    if KeyBundle.objects.filter(user=actor, replaced_at__isnull=True).exists():
        raise Conflict(_("You already have keys. Sign out and in again to use them on this device."))
    bundle = KeyBundle.objects.create(
        user=actor,
        key_id=env.key_id_of(enc, sign),
        enc_public=enc_public,
        sign_public=sign_public,
        wrapped=wrapped,
        recovery_wrapped=recovery_wrapped,
        recovery_verifier=env.recovery_verifier(recovery_auth),
    )
    audit.record(actor=actor, code=AuditCode.ACCOUNT_KEYS_CREATED, target=bundle)
    return bundle


@transaction.atomic
def key_bundle_replace(
    *,
    actor: User,
    enc_public: str,
    sign_public: str,
    wrapped: dict,
    recovery_wrapped: dict,
    recovery_auth: str,
) -> KeyBundle:
    """New keys for someone who lost both passphrase and recovery code: old messages stay unreadable to
    them, and everyone they write with is warned that their keys changed."""
    KeyBundle.objects.filter(user=actor, replaced_at__isnull=True).update(replaced_at=timezone.now())
    bundle = key_bundle_create(
        actor=actor,
        enc_public=enc_public,
        sign_public=sign_public,
        wrapped=wrapped,
        recovery_wrapped=recovery_wrapped,
        recovery_auth=recovery_auth,
    )
    audit.record(actor=actor, code=AuditCode.ACCOUNT_KEYS_REPLACED, target=bundle)
    return bundle


def current_bundle(user: User) -> KeyBundle | None:
    return KeyBundle.objects.filter(user=user, replaced_at__isnull=True).first()


def install_id() -> str:
    """This install's public part of the sign-in salt (mend.env)."""
    return settings.MEND_INSTALL_ID


def derive_sign_in(identifier: str, secret: str) -> tuple[str, bytes]:
    """As this install's sign-in page derives: (auth key, wrapping key)."""
    return env.derive_sign_in(identifier, secret, install_id=install_id())


def bundle_for_owner(bundle: KeyBundle | None) -> dict | None:
    """What the owner of the keys gets back to unlock them: public halves and the wrapped private ones,
    opened from their seal here, and which sign-in salt the wrapping key comes from."""
    if bundle is None:
        return None
    if sealing.stored_in_clear(bundle):
        # Written by an older Mend (or before the data migration ran): sealed from now on.
        bundle.save(update_fields=["wrapped", "recovery_wrapped"])
    return {
        "key_id": bundle.key_id,
        "enc_public": bundle.enc_public,
        "sign_public": bundle.sign_public,
        "safety_code": bundle.safety_code,
        "wrapped": bundle.wrapped,
        "wrapped_salt": bundle.wrapped_salt,
        "install_id": install_id(),
    }


@transaction.atomic
def key_bundle_rewrap(*, actor: User, wrapped: dict) -> KeyBundle:
    """The browser's half of moving to this install's sign-in salt: the same keys, wrapped again under the
    passphrase's new wrapping key. Only once, for a bundle still wrapped under the older salt, and only after
    the sign-in itself has moved (the server re-wraps nothing: it cannot)."""
    _check_wrapped(wrapped, what=_("wrapped keys"), passphrase=True)
    user = User.objects.select_for_update().get(pk=actor.pk)
    bundle = KeyBundle.objects.select_for_update().filter(user=user, replaced_at__isnull=True).first()
    if bundle is None or bundle.wrapped_salt != 1 or user.auth_scheme != "install":
        raise Conflict(_("Your keys are up to date already. Sign out and in again if they do not open."))
    bundle.wrapped = wrapped
    bundle.wrapped_salt = 2
    bundle.save(update_fields=["wrapped", "wrapped_salt"])
    audit.record(actor=user, code=AuditCode.ACCOUNT_KEYS_REWRAPPED, target=bundle)
    return bundle


def recovery_matches(bundle: KeyBundle, recovery_auth: str) -> bool:
    return hmac.compare_digest(bundle.recovery_verifier, env.recovery_verifier(recovery_auth))


@transaction.atomic
def account_recover(*, user: User, recovery_auth: str, auth_key: str, wrapped: dict) -> User:
    """A new passphrase set with the recovery code: the same keys, wrapped again under the new passphrase."""
    check_auth_key(auth_key)
    check_auth_key(recovery_auth)
    _check_wrapped(wrapped, what=_("wrapped keys"), passphrase=True)
    user = User.objects.select_for_update().get(pk=user.pk)
    bundle = KeyBundle.objects.select_for_update().filter(user=user, replaced_at__isnull=True).first()
    if bundle is None or not recovery_matches(bundle, recovery_auth):
        raise DomainError(_(RECOVERY_FAILED))
    bundle.wrapped = wrapped
    bundle.wrapped_salt = 2
    bundle.save(update_fields=["wrapped", "wrapped_salt"])
    user.set_password(auth_key)
    user.auth_scheme = "install"
    user.save(update_fields=["password", "auth_scheme"])
    audit.record(actor=user, code=AuditCode.ACCOUNT_RECOVERED, target=user)

    # Signed out everywhere: the new password changes the session auth hash, and Django's get_user (and the
    # sockets' socket_still_signed_in) refuses a session whose hash no longer matches, at its next request.
    # So no session needs reading or deleting here; open sockets close once this commits.
    sockets_close(user)
    return user


RECOVERY_FAILED = "That did not match. Check the sign-in name and the recovery code, and try again."


@transaction.atomic
def sign_in_convert(*, user: User, auth_key: str) -> User:
    """The one-time move of an account, once its older credential checked, to the key derived with this
    install's salt: from a password hash ("legacy") or from the salt every install shared ("derived"). Its
    key bundle stays wrapped under the older key until the browser wraps it again (key_bundle_rewrap)."""
    check_auth_key(auth_key)
    user = User.objects.select_for_update().get(pk=user.pk)
    before = user.auth_scheme
    user.set_password(auth_key)
    user.auth_scheme = "install"
    user.save(update_fields=["password", "auth_scheme"])
    audit.record(actor=user, code=AuditCode.ACCOUNT_SIGN_IN_CONVERTED, target=user, data={"from": before})
    return user


def credentials_from_secret(identifier: str, secret: str) -> tuple[str, dict]:
    """For accounts made on the command line (admins, the demo, test seeds): the derived sign-in key and a
    fresh key bundle wrapped under the passphrase, computed here as the browser would."""
    auth_key, wrap_key = derive_sign_in(identifier, secret)
    return auth_key, new_bundle_fields(wrap_key)


def new_bundle_fields(wrap_key: bytes) -> dict:
    keys = env.KeyPair.generate()
    recovery_auth, recovery_wrap = env.derive_recovery(env.new_recovery_code())
    return {
        **keys.public(),
        "wrapped": env.wrap_keys(wrap_key, keys),
        "recovery_wrapped": env.wrap_keys(recovery_wrap, keys),
        "recovery_auth": recovery_auth,
    }


def join_credentials(sign_in_name: str, phrase: str) -> dict:
    """What the join page sends, computed here for accounts made with a known phrase (demo, test seeds)."""

    auth_key, keys = credentials_from_secret(sign_in_name, normalise_phrase(phrase))
    return {"sign_in_name": sign_in_name, "auth_key": auth_key, "keys": keys}


def unknown_credentials(sign_in_name: str) -> dict:
    """Credentials nobody knows (demo extras, test fixtures): random keys, no passphrase to derive from."""
    import os

    return {
        "sign_in_name": sign_in_name,
        "auth_key": env.b64u(os.urandom(32)),
        "keys": new_bundle_fields(os.urandom(32)),
    }
