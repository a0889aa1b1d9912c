"""A program's site name: the words shown instead of "Mend" in tab titles, the page header and emails.

"Mend" tells anyone glancing at a shared phone or a watched inbox that the person is in a restorative-justice
process; a program may choose something neutral ("Northside Wellbeing"). This module is the one place that
checks the name, changes it, and says which name a person sees.
"""

import unicodedata
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts.models import Program, User
from mend.accounts.services import never_on_screen
from mend.audit.codes import AuditCode
from mend.core.errors import DomainError

DEFAULT_SITE_NAME = "Mend"
MAX_LENGTH = Program._meta.get_field("site_name").max_length

# Characters that change how text around them reads or is shown, not what it says: right-to-left
# overrides and isolates could make a title or a From line show something other than what was typed.
_DIRECTION_MARKS = set("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def site_name_of(program: Program | None) -> str:
    """The name a program's pages and emails go by: its own, else "Mend"."""
    return (program.site_name if program is not None else "") or DEFAULT_SITE_NAME


def from_email_of(program: Program | None) -> str:
    """The From line of an email about one program: the install's address under the program's site name.
    Without a site name, the install's From line as configured (MEND_EMAIL_FROM)."""
    if program is None or not program.site_name:
        return settings.DEFAULT_FROM_EMAIL
    return formataddr((program.site_name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))


# A program that chose a name wins over one that did not: "Mend" is never the neutral choice, so a person
# in two programs never sees it because one of them left the name empty.
_NAMED_FIRST = Case(When(site_name="", then=Value(1)), default=Value(0), output_field=IntegerField())


def site_name_for(user: User | None) -> str:
    """The name a signed-in person sees, in one query (none when signed out).

    Staff: the program they belong to (for someone in several, a named one, then the newest membership).
    Participants: the program of one of their cases: a program that chose a name first, then a case they
    are still in, then the place they were given most recently (their newest case). Signed out: "Mend";
    the join page names the invitation's program itself."""
    if user is None or not user.is_authenticated:
        return DEFAULT_SITE_NAME
    if user.is_staff_member:
        programs = Program.objects.filter(memberships__user=user).order_by(_NAMED_FIRST, "-memberships__pk")
    else:
        # The filter's join to the person's places is the one the ordering reads (Django reuses it).
        programs = Program.objects.filter(cases__participants__user=user).order_by(
            _NAMED_FIRST,
            F("cases__participants__removed_at").asc(nulls_first=True),
            "-cases__participants__pk",
        )
    return programs.values_list("site_name", flat=True).first() or DEFAULT_SITE_NAME


def clean_site_name(value: str | None) -> str:
    """The name as it will be kept: spaces (line breaks and tabs too) trimmed and runs of them made one;
    other control characters refused. Empty means "Mend"."""
    name = " ".join((value or "").split())
    if any(unicodedata.category(c) == "Cc" or c in _DIRECTION_MARKS for c in name):
        raise DomainError(
            _("The site name can only hold letters, numbers, spaces and punctuation."), field="site_name"
        )
    if len(name) > MAX_LENGTH:
        raise DomainError(
            _("The site name can be at most %(n)d characters.") % {"n": MAX_LENGTH}, field="site_name"
        )
    if never_on_screen(name):
        raise DomainError(
            _("Mend never shows that word on screen. Try a name like “Northside Wellbeing”."),
            field="site_name",
        )
    return name


@transaction.atomic
def program_site_name_update(*, actor: User, program: Program, site_name: str) -> Program:
    """Sets the name a program's pages and emails go by (empty: "Mend"), recording who changed it."""
    name = clean_site_name(site_name)
    program = Program.objects.select_for_update().get(pk=program.pk)
    if program.site_name != name:
        program.site_name = name
        program.save(update_fields=["site_name"])
        audit.record(
            actor=actor,
            code=AuditCode.PROGRAM_SITE_NAME_CHANGED,
            target=program,
            program=program,
            data={"named": bool(name)},
        )
    return program
