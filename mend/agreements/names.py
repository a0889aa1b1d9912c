"""How the agreement pages and files name people, for one viewer (docs/agreements.md).

Staff see everyone by pseudonym. A party sees another person by pseudonym only where
mend.readiness.rules.visible_to allows (people harmed see each other only by mutual agreement; a person
responsible sees a person harmed only if that person chose to meet them); anyone else is "another person
harmed" (the program's word), with no pseudonym, id or key."""

from django.utils.translation import gettext as _

from mend.cases.models import Participant
from mend.readiness import rules
from mend.readiness.snapshot import choices_snapshot


def plain_name(case, place: Participant) -> str:
    return place.pseudonym or case.program.word_for(place.role)


def someone(case, place: Participant) -> str:
    """A person the viewer may not see: by their place only."""
    return _("another %(role)s") % {"role": case.program.word_for(place.role)}


def names_and_visible(viewer) -> tuple[dict[int, str], set[int] | None]:
    """Every person of the case (by participant id) as this viewer may name them, and the ids of those
    they may see by pseudonym (None: everyone, for staff)."""
    case = viewer.case
    everyone = list(Participant.objects.filter(case=case).order_by("pk"))
    if viewer.staff:
        return {p.pk: plain_name(case, p) for p in everyone}, None
    snap = choices_snapshot(case)
    seen = {p.pk for p in everyone if rules.visible_to(snap, viewer.place, p)}
    return {p.pk: plain_name(case, p) if p.pk in seen else someone(case, p) for p in everyone}, seen


def names_for(viewer) -> dict[int, str]:
    """Every person of the case (by participant id) as this viewer may name them."""
    return names_and_visible(viewer)[0]
