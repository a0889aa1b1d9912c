"""`mend createadmin`: the first program and its administrator, for a new installation."""

import getpass
import os

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from mend.accounts import services
from mend.accounts.models import Program
from mend.core.errors import DomainError


class Command(BaseCommand):
    help = "Create a program administrator (and the program, if it does not exist yet)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True, help="The administrator's name as colleagues see it.")
        parser.add_argument("--program", required=True, help="The program's name.")
        parser.add_argument(
            "--jurisdiction", action="append", default=[], help="ISO 3166 code; repeat for more."
        )
        parser.add_argument("--time-zone", default="UTC")

    def handle(self, *args, email, name, program, jurisdiction, time_zone, **options):
        password = os.environ.get("MEND_ADMIN_PASSWORD") or getpass.getpass(
            "Password (12 characters or more): "
        )
        try:
            found = Program.objects.filter(name=program).first()
            if found is None:
                found = services.program_create(
                    actor=None,
                    name=program,
                    slug=slugify(program)[:50] or "program",
                    time_zone=time_zone,
                    jurisdictions=jurisdiction or ["NZ"],
                )
            services.staff_create(
                actor=None,
                email=email,
                display_name=name,
                password=password,
                program=found,
                role="admin",
                time_zone=time_zone,
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{email} can now sign in and will be asked to set up an authenticator app.")
