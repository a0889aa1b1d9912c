"""`mend worker`: a job worker process, for the scaled set-up."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from mend.core.worker import schedule_periodic_jobs


class Command(BaseCommand):
    help = "Run background jobs (reminders, retention) from the database queue."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="Run the jobs waiting now, then stop.")

    def handle(self, *args, batch, **options):
        if not batch:
            schedule_periodic_jobs()
        call_command("db_worker", queue_name="default", batch=batch, verbosity=options["verbosity"])
