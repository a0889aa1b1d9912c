"""Who may reach a safety plan: the person it protects (to read it) and the case's own facilitators
(to read and write it). Everyone else, coordinators and admins included, gets 404."""

from django.http import Http404

from mend.accounts.models import User
from mend.cases import access
from mend.cases.models import PARTY_ROLES, Case, Participant, Role


def access_safety_plan(user: User, case: Case, participant_id: int) -> tuple[Participant, bool]:
    """The protected person's place, and whether this user may write the plan."""
    if not user.is_staff_member and access.cases_taken_part_in(user).filter(pk=case.pk).exists():
        place = access.access_own_place(user, case)
        if place.pk != participant_id:
            raise Http404
        return place, False
    return access.access_facilitated_place(user, case, participant_id), True


def access_assessed_place(user: User, case: Case, participant_id: int) -> Participant:
    """A party of a case this user facilitates: only the parties are assessed."""
    place = access.access_facilitated_place(user, case, participant_id)
    if place.role not in PARTY_ROLES:
        raise Http404
    return place


def access_acknowledging_place(user: User, case: Case) -> Participant:
    """The user's own place in the case, when they are the person responsible: only they acknowledge."""
    place = access.access_own_place(user, case)
    if place.role != Role.RESPONSIBLE_PARTY:
        raise Http404
    return place
