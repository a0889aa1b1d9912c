"""Seals the wrapped key bundles and the password hashes already stored with the accounts key, so that a
copy of the database taken after this migration holds nothing a password guess can be tested against; and
marks the existing bundles and sign-in keys as derived with the salt every install shared, to convert at
each person's next sign-in (docs/crypto.md).

The master key is reachable here (it is read from the environment at start, as for `mend serve`), so the
sealing happens now rather than at each person's next sign-in, which might never come. With
MEND_KEYSTORE_DATABASE_URL set, run `mend migrate --database keystore` first."""

from django.db import DatabaseError, migrations, models

import mend.accounts.sealing

BUNDLE_FIELDS = ("wrapped", "recovery_wrapped")


def _key(apps):
    from mend.accounts import sealing
    from mend.keystore.services import KeyUnavailable

    try:
        return sealing.accounts_key(model=apps.get_model("keystore", "DataKey"))
    except (DatabaseError, KeyUnavailable) as error:
        raise RuntimeError(
            "The key store cannot be reached or has no table yet. With MEND_KEYSTORE_DATABASE_URL set, run "
            "`mend migrate --database keystore` first, then `mend migrate`; check MEND_MASTER_KEY."
        ) from error


def seal_existing(apps, schema_editor):
    from mend.accounts import sealing

    db = schema_editor.connection.alias
    bundles = apps.get_model("accounts", "KeyBundle").objects.using(db)
    users = apps.get_model("accounts", "User").objects.using(db)
    if not bundles.exists() and not users.exists():
        return
    key = _key(apps)
    for pk, user_id, key_id, *values in bundles.values_list("pk", "user_id", "key_id", *BUNDLE_FIELDS):
        changes = {
            field: sealing.seal_bundle(key, field, user_id, key_id, value)
            for field, value in zip(BUNDLE_FIELDS, values, strict=True)
            if value is not None and not sealing.is_sealed_bundle(value)
        }
        if changes:
            bundles.filter(pk=pk).update(**changes)
    for pk, password in users.values_list("pk", "password"):
        if password and "$" in password and not password.startswith(("!", sealing.SEALED_HASH + "$")):
            users.filter(pk=pk).update(password=sealing.seal_hash(key, password))


def open_existing(apps, schema_editor):
    from mend.accounts import sealing

    db = schema_editor.connection.alias
    bundles = apps.get_model("accounts", "KeyBundle").objects.using(db)
    users = apps.get_model("accounts", "User").objects.using(db)
    # An account already on the per-install salt (converted at sign-in, recovered, or made since) has a
    # sign-in key and wrapped keys the code before this migration cannot derive: going back would lock it out.
    converted = bundles.filter(wrapped_salt=2).count() + (
        users.filter(auth_scheme="install").exclude(password="").exclude(password__startswith="!").count()
    )
    if converted:
        raise RuntimeError(
            f"Cannot undo accounts 0005: {converted} account(s) or key bundle(s) already use the per-install "
            "salt, and the code before this migration could not open them. Restore a backup taken before "
            "the upgrade instead, or stay on this version."
        )
    if not bundles.exists() and not users.exists():
        return
    key = _key(apps)
    for pk, user_id, key_id, *values in bundles.values_list("pk", "user_id", "key_id", *BUNDLE_FIELDS):
        changes = {
            field: sealing.open_bundle(key, field, user_id, key_id, value)
            for field, value in zip(BUNDLE_FIELDS, values, strict=True)
            if sealing.is_sealed_bundle(value)
        }
        if changes:
            bundles.filter(pk=pk).update(**changes)
    for pk, password in users.values_list("pk", "password"):
        if password.startswith(sealing.SEALED_HASH + "$"):
            users.filter(pk=pk).update(password=sealing.unseal_hash(key, password))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_program_jitsi_url"),
        ("keystore", "0001_initial"),
    ]

    operations = [
        # Bundles that exist are wrapped under the salt every install shared: version 1.
        migrations.AddField(
            model_name="keybundle",
            name="wrapped_salt",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AlterField(
            model_name="keybundle",
            name="wrapped_salt",
            field=models.PositiveSmallIntegerField(default=2),
        ),
        migrations.AlterField(
            model_name="keybundle",
            name="recovery_wrapped",
            field=mend.accounts.sealing.SealedBundleField(),
        ),
        migrations.AlterField(
            model_name="keybundle",
            name="wrapped",
            field=mend.accounts.sealing.SealedBundleField(),
        ),
        # Existing accounts keep "derived" or "legacy", and convert at their next sign-in.
        migrations.AlterField(
            model_name="user",
            name="auth_scheme",
            field=models.CharField(default="install", max_length=8),
        ),
        migrations.AlterField(
            model_name="user",
            name="password",
            field=models.CharField(max_length=256, verbose_name="password"),
        ),
        migrations.RunPython(seal_existing, open_existing),
    ]
