"""Who may reach a safety plan: the person it protects (to read it) and the case's own facilitators
(to read and write it). Everyone else, coordinators and admins included, gets 404."""

from django.http import Http404

from mend.accounts.models import User
from mend.cases import access
from mend.cases.models import Case, Participant


def access_safety_plan(user: User, case: Case, participant_id: int) -> tuple[Participant, bool]:
    """The protected person's place, and whether this user may write the plan."""
    if not user.is_staff_member and access.cases_taken_part_in(user).filter(pk=case.pk).exists():
        place = access.access_own_place(user, case)
        if place.pk != participant_id:
            raise Http404
        return place, False
    return access.access_facilitated_place(user, case, participant_id), True
