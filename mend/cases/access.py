"""Every read of a case goes through here; missing and not-allowed both raise the same 404."""

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.lookups import IsNull
from django.http import Http404

from mend.accounts.models import Invitation, Membership, Program, User
from mend.cases.models import FACILITATING_ROLES, AssignmentRequest, Case, Participant


def _runs_cases(user: User) -> bool:
    """Only an active staff account runs cases: a deactivated one loses every case at once, whatever rows
    it still has (docs/hardening.md, "Offboarding")."""
    return user.is_authenticated and user.is_staff_member and user.is_active


def programs_for_intake(user: User) -> QuerySet[Program]:
    """Programs in which the user may open a case."""
    if not _runs_cases(user):
        return Program.objects.none()
    return Program.objects.filter(
        memberships__user=user,
        memberships__role__in=[
            Membership.Role.ADMIN,
            Membership.Role.COORDINATOR,
            Membership.Role.FACILITATOR,
        ],
    )


# The rule for the cases a staff member runs, in two SQL forms that select the same cases; a test
# (tests/cases/test_case_list.py) proves it for every kind of person in the cast. Change one, change both.
# A case is run by a staff member when it belongs to a program they oversee (admin, coordinator), or when
# they hold a current place in it as facilitator or co-facilitator and are still a member of its program;
# in both forms only while their account is active. A place outlives neither the membership nor the account:
# a former member keeps no case, even when a place was left behind.
#   driven: starts from the user's own rows (memberships, places) and reads the cases by key: a user who
#     runs a few cases among many costs a few rows.
#   probed: tests each case row as it is read, with key lookups only: a walk of the cases newest first can
#     stop after a page when the user runs most of them.


def _overseen_program_ids(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(
        user=user, role__in=[Membership.Role.ADMIN, Membership.Role.COORDINATOR]
    ).values("program_id")


def _member_program_ids(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).values("program_id")


def _facilitating_places(user: User) -> QuerySet[Participant]:
    return Participant.objects.filter(user=user, role__in=FACILITATING_ROLES, removed_at__isnull=True)


def _places_run(user: User) -> QuerySet[Participant]:
    return _facilitating_places(user).filter(case__program__in=_member_program_ids(user))


def cases_managed_by(user: User) -> QuerySet[Case]:
    """Cases a staff member may run: all of their overseen programs, plus those they facilitate (driven)."""
    if not _runs_cases(user):
        return Case.objects.none()
    return Case.objects.filter(
        Q(program__in=_overseen_program_ids(user)) | Q(pk__in=_places_run(user).values("case_id"))
    )


def managed_case_sources(user: User) -> tuple[QuerySet[Case], QuerySet[Participant]]:
    """The driven form in its two parts, each read from its own index: the cases of the programs the user
    oversees (by program), and the user's places as a facilitator in them (by user and role)."""
    if not _runs_cases(user):
        return Case.objects.none(), Participant.objects.none()
    return Case.objects.filter(program__in=_overseen_program_ids(user)), _places_run(user)


def managed_case_test(user: User, *, through: str = "") -> Q:
    """The probed form: a condition on one case row, reached from the rows queried through `through`
    ("" for cases themselves, "case__" from places), checked with key lookups as each row is read."""
    if not _runs_cases(user):
        return Q(pk__in=[])
    # Each part is correlated with the row, so that no planner takes it for a way into the cases instead
    # of the walk. The place is looked up as a value (IS NOT NULL), not with EXISTS: PostgreSQL would turn
    # an EXISTS into a hash of all the user's places (100,000 for a lead facilitator) before the first row.
    program = OuterRef(f"{through}program_id")
    oversees = Exists(_overseen_program_ids(user).filter(program=program))
    belongs = Exists(_member_program_ids(user).filter(program=program))
    place = _facilitating_places(user).filter(case=OuterRef(f"{through}pk")).values("pk")[:1]
    return Q(oversees) | (Q(belongs) & Q(IsNull(Subquery(place), False)))


def cases_managed_by_probed(user: User) -> QuerySet[Case]:
    """The same cases as `cases_managed_by`, in the probed form."""
    return Case.objects.filter(managed_case_test(user))


def _joined_places(user: User) -> QuerySet[Participant]:
    """Places of someone taking part. A facilitating place is not one: staff reach a case only through the
    rule above, which asks for a current membership, so a place left behind after they left opens nothing."""
    return Participant.objects.filter(user=user, joined_at__isnull=False, removed_at__isnull=True).exclude(
        role__in=FACILITATING_ROLES
    )


def cases_taken_part_in(user: User) -> QuerySet[Case]:
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    return Case.objects.filter(pk__in=_joined_places(user).values("case_id"))


def taken_part_test(user: User) -> Q:
    """`cases_taken_part_in` as a condition on one case row (probed, like `managed_case_test`)."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    place = _joined_places(user).filter(case=OuterRef("pk")).values("pk")[:1]
    return Q(IsNull(Subquery(place), False))


# One case at a time, the rule is checked in its probed form: the case is read by its key and tested with
# key lookups, whatever the number of cases the user runs. The driven form would first gather every case
# of the user (62 ms for a lead facilitator of 100,000 cases on SQLite, against 2 ms).


def manages_case(user: User, case_id: int) -> bool:
    """Whether the user runs the case with this id as staff."""
    return Case.objects.filter(managed_case_test(user), pk=case_id).exists()


def facilitates_case(user: User, case_id: int) -> bool:
    """Whether the user facilitates this case themselves (a current place as facilitator or co-facilitator,
    still a member of its program, account active): the decisions about one person's path are theirs."""
    return _runs_cases(user) and _places_run(user).filter(case_id=case_id).exists()


def _with_requests_flag(cases: QuerySet[Case]) -> QuerySet[Case]:
    # Whether anyone waits for approval to join the case's team, in the same query: the staff case page
    # reads the requests only when there are some (selectors.pending_assignment_requests).
    pending = AssignmentRequest.objects.filter(case=OuterRef("pk"), outcome=AssignmentRequest.Outcome.PENDING)
    return cases.annotate(has_assignment_requests=Exists(pending))


def access_case(user: User, reference: str) -> Case:
    """A case the user may see: one they run, or one they take part in."""
    visible = managed_case_test(user) | taken_part_test(user)
    case = (
        _with_requests_flag(Case.objects.select_related("program"))
        .filter(visible, reference=reference)
        .first()
    )
    if case is None:
        raise Http404
    return case


def access_managed_case(user: User, reference: str) -> Case:
    """A case the user may change as staff (stage, invitations, assignment)."""
    cases = _with_requests_flag(Case.objects.select_related("program"))
    case = cases.filter(managed_case_test(user), reference=reference).first()
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
    if not _runs_cases(user) or not _places_run(user).filter(case=case).exists():
        raise Http404
    return access_case_place(user, case, participant_id)


def access_case_invitation(user: User, case, invitation_id: int):
    """An invitation into this very case (one of another case the user manages is a 404 here too)."""
    invitation = access_invitation(user, invitation_id)
    if invitation.participant.case_id != case.pk:
        raise Http404
    return invitation
