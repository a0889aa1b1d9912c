"""`mend demo`: loads the demo program once, and says how to sign in to it."""

from django.core.management.base import BaseCommand

from mend import demo


class Command(BaseCommand):
    help = "Load the demo program and its three cases (only the first time), then print how to sign in."

    def handle(self, *args, **options):
        created = demo.load()
        self.stdout.write("Demo data loaded." if created else "Demo data was already there.")
        self.stdout.write(demo.SIGN_IN_HELP)
