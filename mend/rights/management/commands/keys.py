"""`mend keys`: the master key that wraps every case's data key, and the retention run.

mend keys status
mend keys generate PATH                                 a new master key file, readable by you only
mend keys rotate --new-key-file PATH                    step 1: wrap every data key under the new key too
mend keys rotate --finish --old-key-file PATH           step 2, after MEND_MASTER_KEY holds the new key
mend keys retention                                     shred every case past its retention period now

It lives in rights, not keystore, because retention (deletion) is a data right and rights sits above the key
store in the layers (docs/layers.md): from here both can be reached.
"""

import base64
import binascii
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mend.keystore import crypto
from mend.keystore import services as keystore
from mend.rights.services import retention_expire


def read_key_file(path: str) -> bytes:
    try:
        raw = Path(path).read_text().strip()
    except OSError as error:
        raise CommandError(f"{path} cannot be read: {error.strerror}.") from None
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != crypto.KEY_BYTES:
        raise CommandError(
            f"{path} must hold 32 random bytes in base64url (mend keys generate PATH makes one)."
        )
    return key


class Command(BaseCommand):
    help = "Manage the master key that wraps the case data keys, and run the retention job."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="How many data keys each master key wraps.")
        generate = sub.add_parser("generate", help="Write a new random master key to a file (mode 0600).")
        generate.add_argument("path")
        rotate = sub.add_parser("rotate", help="Rotate the master key, in two steps.")
        rotate.add_argument("--new-key-file", help="Step 1: the new master key.")
        rotate.add_argument(
            "--finish", action="store_true", help="Step 2, once MEND_MASTER_KEY is the new key."
        )
        rotate.add_argument("--old-key-file", help="With --finish: the master key used before.")
        sub.add_parser("retention", help="Shred every case closed for longer than its program keeps records.")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _status(self, **options):
        status = keystore.key_status()
        self.stdout.write(f"Master key in use: {status['current']}")
        for master_id, count in sorted(status["by_master_key"].items()):
            mark = " (in use)" if master_id == status["current"] else ""
            self.stdout.write(f"  {count} data keys wrapped under {master_id or '-'}{mark}")
        if status["rotating"]:
            self.stdout.write(f"  {status['rotating']} data keys are half-way through a rotation")
        self.stdout.write(f"  {status['destroyed']} destroyed (crypto-shredded)")

    def _generate(self, path, **options):
        target = Path(path)
        try:
            with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
                handle.write(base64.urlsafe_b64encode(os.urandom(crypto.KEY_BYTES)).decode() + "\n")
        except FileExistsError:
            raise CommandError(f"{path} exists already; Mend never overwrites a key file.") from None
        except OSError as error:
            raise CommandError(f"{path} cannot be written: {error.strerror}.") from None
        self.stdout.write(
            f"A new master key is in {path} (readable by you only). Keep a copy somewhere safe."
        )

    def _rotate(self, new_key_file=None, finish=False, old_key_file=None, **options):
        if finish:
            if not old_key_file or new_key_file:
                raise CommandError("Finish with: mend keys rotate --finish --old-key-file PATH")
            try:
                count = keystore.master_key_rotation_finish(old_key=read_key_file(old_key_file))
            except keystore.RotationError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(
                f"Done: all {count} data keys are wrapped under the master key in use only. "
                "The old master key is no longer needed; destroy every copy of it."
            )
            return
        if not new_key_file or old_key_file:
            raise CommandError("Start with: mend keys rotate --new-key-file PATH")
        new_key = read_key_file(new_key_file)
        try:
            count = keystore.master_key_rotate(new_key=new_key)
        except keystore.RotationError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Step 1 done: all {count} data keys opened under the master key in use, and are now wrapped "
            f"under the new key {crypto.master_key_id(new_key)} as well. Nothing else changed; Mend keeps "
            "working.\nNext:\n"
            f"  1. Set MEND_MASTER_KEY_FILE={new_key_file} (or MEND_MASTER_KEY to its contents) and restart "
            "every server and worker.\n"
            "  2. Right after, run: mend keys rotate --finish --old-key-file <the old key's file>\n"
            "Keep the old key until step 2 says it is done: it still opens every data key."
        )

    def _retention(self, **options):
        count = retention_expire()
        self.stdout.write(f"{count} cases past their retention period were crypto-shredded.")
