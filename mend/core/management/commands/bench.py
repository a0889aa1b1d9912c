"""`mend bench seed`: made-up cases and messages at realistic volume, for `make bench` (bench/README.md)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mend.bench import seed


class Command(BaseCommand):
    help = "Benchmark data: `mend bench seed` makes 100,000 cases and a million messages (MEND_BENCH=1 only)."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        seed = commands.add_parser("seed", help="Fill this database with made-up cases and messages, once.")
        seed.add_argument("--cases", type=int, default=100_000)
        seed.add_argument("--messages", type=int, default=1_000_000)
        seed.add_argument("--batch", type=int, default=5000, help="Cases written per transaction.")

    def handle(self, *args, action, cases, messages, batch, **options):
        if not settings.MEND_BENCH:
            # The data is invented and bulky: it belongs in a benchmark's own database, never a real one.
            raise CommandError(
                "`mend bench seed` fills a database with made-up data: set MEND_BENCH=1 to run it."
            )
        if cases < 1 or messages < 0 or batch < 1:
            raise CommandError("--cases and --batch must be at least 1, and --messages at least 0.")
        found = seed.existing()
        if found is not None:
            self.stdout.write(
                f"This database is already seeded ({found[0]:,} cases, {found[1]:,} messages): nothing to do."
            )
            return
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        self.stdout.write(
            f"Seeding {cases:,} cases and {messages:,} messages on {engine}, {batch:,} at a time:"
        )
        started = time.monotonic()
        done = seed.seed(cases=cases, messages=messages, batch=batch, progress=self.stdout.write)
        rows = ", ".join(f"{n:,} {what}" for what, n in sorted(done.rows.items()))
        self.stdout.write(
            f"Seeded {done.cases:,} cases and {done.messages:,} messages ({rows}) "
            f"in {time.monotonic() - started:.1f} s."
        )
