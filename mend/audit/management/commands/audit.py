"""`mend audit verify`: walks the whole chain and names the first broken link."""

from django.core.management.base import BaseCommand, CommandError

from mend.audit import chain
from mend.audit.models import AuditEvent, ChainHead


class Command(BaseCommand):
    help = "Check the audit log. `verify` exits non-zero and names the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["verify"])

    def handle(self, *args, what, **options):
        events = AuditEvent.objects.order_by("seq").iterator(chunk_size=2000)
        ok, message = chain.verify(events)
        head = ChainHead.objects.filter(pk=1).first()
        if ok and head is not None:
            last = AuditEvent.objects.order_by("-seq").first()
            if last is None or last.seq != head.seq or last.hash != head.hash:
                ok, message = False, f"the chain ends before its recorded head (event {head.seq})"
        if not ok:
            raise CommandError(f"Audit chain broken: {message}")
        self.stdout.write(f"Audit chain verified: {message}")
