"""`mend audit verify` walks the whole chain and names the first broken link; `mend audit checkpoint`
prints the latest signed checkpoint, to be kept elsewhere as a witness."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mend.audit import services
from mend.audit.tasks import checkpoint_schedule


class Command(BaseCommand):
    help = (
        "Check the audit log. `verify` exits non-zero and names the first broken link; `verify --witness "
        "FILE` also checks a checkpoint kept elsewhere. `checkpoint` prints the latest signed checkpoint "
        "as JSON; `checkpoint --new` first signs one if events were added since."
    )

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["verify", "checkpoint"])
        parser.add_argument("--witness", metavar="FILE", help="verify: a checkpoint printed earlier.")
        parser.add_argument("--new", action="store_true", help="checkpoint: sign the chain's head now.")

    def handle(self, *args, what, witness, new, **options):
        if what == "verify":
            if new:
                raise CommandError("--new goes with `checkpoint`.")
            self._verify(witness)
        else:
            if witness:
                raise CommandError("--witness goes with `verify`.")
            self._checkpoint(new)

    def _verify(self, witness_path):
        witness = None
        if witness_path:
            try:
                witness = Path(witness_path).read_text()
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"The witness file cannot be read: {error}.") from None
        try:
            ok, message = services.chain_verify(witness=witness)
        except ValueError as error:
            raise CommandError(f"The witness file is not a Mend checkpoint: {error}.") from None
        if not ok:
            raise CommandError(f"Audit chain broken: {message}")
        self.stdout.write(f"Audit chain verified: {message}")

    def _checkpoint(self, new):
        if new:
            try:
                services.checkpoint_create()
            except services.ChainBroken as error:
                raise CommandError(f"No checkpoint signed, the audit chain is broken: {error}") from None
            checkpoint_schedule()
        checkpoint = services.checkpoint_latest()
        if checkpoint is None:
            raise CommandError("No checkpoint yet: `mend audit checkpoint --new` signs one.")
        self.stdout.write(json.dumps(checkpoint.as_json(), indent=2))
