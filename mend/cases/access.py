"""Every read of a case goes through here; missing and not-allowed both raise the same 404."""

from django.db.models import Q, QuerySet
from django.http import Http404

from mend.accounts.models import Membership, Program, User
from mend.cases.models import FACILITATING_ROLES, Case, Participant


def programs_overseen(user: User) -> QuerySet[Program]:
    """Programs in which the user sees every case (admins and coordinators)."""
    return Program.objects.filter(
        memberships__user=user,
        memberships__role__in=[Membership.Role.ADMIN, Membership.Role.COORDINATOR],
    )


def programs_for_intake(user: User) -> QuerySet[Program]:
    """Programs in which the user may open a case."""
    return Program.objects.filter(
        memberships__user=user,
        memberships__role__in=[
            Membership.Role.ADMIN,
            Membership.Role.COORDINATOR,
            Membership.Role.FACILITATOR,
        ],
    )


def cases_managed_by(user: User) -> QuerySet[Case]:
    """Cases a staff member may run: all of their overseen programs, plus those they facilitate."""
    if not user.is_authenticated or not user.is_staff_member:
        return Case.objects.none()
    facilitated = Participant.objects.filter(
        user=user,
        role__in=FACILITATING_ROLES,
        removed_at__isnull=True,
        case__program__memberships__user=user,
    ).values("case_id")
    return Case.objects.filter(Q(program__in=programs_overseen(user)) | Q(pk__in=facilitated))


def cases_taken_part_in(user: User) -> QuerySet[Case]:
    if not user.is_authenticated:
        return Case.objects.none()
    joined = Participant.objects.filter(user=user, joined_at__isnull=False, removed_at__isnull=True)
    return Case.objects.filter(pk__in=joined.values("case_id"))


def access_case(user: User, reference: str) -> Case:
    """A case the user may see: one they run, or one they take part in."""
    visible = cases_managed_by(user) | cases_taken_part_in(user)
    case = visible.select_related("program").filter(reference=reference).first()
    if case is None:
        raise Http404
    return case


def access_managed_case(user: User, reference: str) -> Case:
    """A case the user may change as staff (stage, invitations, assignment)."""
    case = cases_managed_by(user).select_related("program").filter(reference=reference).first()
    if case is None:
        raise Http404
    return case


def access_program_for_intake(user: User, program_id: int) -> Program:
    program = programs_for_intake(user).filter(pk=program_id).first()
    if program is None:
        raise Http404
    return program


def access_own_place(user: User, case: Case) -> Participant:
    """The user's own place in a case they take part in."""
    place = (
        Participant.objects.filter(case=case, user=user, joined_at__isnull=False, removed_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if place is None:
        raise Http404
    return place


def access_own_taking_part(user: User, case: Case) -> Participant:
    """The user's own place as someone taking part (a party, supporter, community member or interpreter).
    Staff who run the case have no such place, so these pages give them the same 404 as anyone else."""
    place = access_own_place(user, case)
    if place.is_facilitating:
        raise Http404
    return place


def access_invitation(user: User, invitation_id: int):
    from mend.accounts.models import Invitation

    invitation = (
        Invitation.objects.select_related("participant__case")
        .filter(pk=invitation_id, participant__case__in=cases_managed_by(user))
        .first()
    )
    if invitation is None:
        raise Http404
    return invitation


def access_case_place(user: User, case: Case, participant_id: int) -> Participant:
    """A person in a case the user runs as staff."""
    place = Participant.objects.filter(case=case, pk=participant_id, removed_at__isnull=True).first()
    if place is None:
        raise Http404
    return place


def access_facilitated_place(user: User, case: Case, participant_id: int) -> Participant:
    """A person in a case the user facilitates themselves: for records only their facilitators may see."""
    facilitates = Participant.objects.filter(
        case=case, user=user, role__in=FACILITATING_ROLES, removed_at__isnull=True
    ).exists()
    if not facilitates or not user.is_staff_member:
        raise Http404
    return access_case_place(user, case, participant_id)
