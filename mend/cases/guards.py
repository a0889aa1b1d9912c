"""The guards named in the stage table: each returns what is still missing, in words for a facilitator."""

from collections.abc import Callable

from django.utils.translation import gettext as _

from mend.cases.models import FACILITATING_ROLES, Case, Role


def _active(case: Case):
    return [p for p in case.participants.all() if p.removed_at is None]


def facilitator_assigned(case: Case) -> list[str]:
    if any(p.role in FACILITATING_ROLES for p in _active(case)):
        return []
    return [_("a facilitator assigned to the case")]


def parties_joined(case: Case) -> list[str]:
    missing = []
    words = case.program
    for role in (Role.HARMED_PARTY, Role.RESPONSIBLE_PARTY):
        places = [p for p in _active(case) if p.role == role]
        if not places:
            missing.append(_("an invitation for the %(role)s") % {"role": words.word_for(role)})
        for place in places:
            if not place.has_joined:
                missing.append(_("the %(role)s to accept their invitation") % {"role": words.word_for(role)})
    return missing


def encounter_ready(case: Case) -> list[str]:
    # The consent, acknowledgment, readiness, safety-plan and conflict checks join this list.
    return facilitator_assigned(case) + parties_joined(case)


GUARDS: dict[str, Callable[[Case], list[str]]] = {
    "facilitator_assigned": facilitator_assigned,
    "parties_joined": parties_joined,
    "encounter_ready": encounter_ready,
}


def missing_for(case: Case, guard_names: tuple[str, ...]) -> list[str]:
    missing: list[str] = []
    for name in guard_names:
        for item in GUARDS[name](case):
            if item not in missing:
                missing.append(item)
    return missing
