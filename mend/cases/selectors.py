"""Reads for case pages and the API, each with a fixed number of queries whatever the data."""

from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet

from mend.accounts.models import Invitation, Membership, User
from mend.audit.models import AuditEvent
from mend.cases.access import cases_managed_by
from mend.cases.models import FACILITATING_ROLES, Case, Participant

PAGE_SIZE = 25


def _facilitators_prefetch() -> Prefetch:
    return Prefetch(
        "participants",
        queryset=Participant.objects.filter(role__in=FACILITATING_ROLES, removed_at__isnull=True).order_by(
            "pk"
        ),
        to_attr="facilitators",
    )


def case_list(
    *, user: User, stage: str = "", category: str = "", facilitator_id: int | None = None
) -> QuerySet:
    cases = cases_managed_by(user).select_related("program")
    if stage:
        cases = cases.filter(stage=stage)
    if category:
        cases = cases.filter(harm_category=category)
    if facilitator_id:
        cases = cases.filter(
            pk__in=Participant.objects.filter(
                user_id=facilitator_id, role__in=FACILITATING_ROLES, removed_at__isnull=True
            ).values("case_id")
        )
    return cases.prefetch_related(_facilitators_prefetch()).order_by("-updated_at", "-pk")


def paginate(queryset, page: int | None, per_page: int = PAGE_SIZE):
    return Paginator(queryset, per_page).get_page(page or 1)


def facilitators_visible_to(user: User) -> QuerySet[User]:
    programs = Membership.objects.filter(user=user).values("program_id")
    return (
        User.objects.filter(
            memberships__program__in=programs,
            memberships__role__in=[
                Membership.Role.FACILITATOR,
                Membership.Role.COORDINATOR,
                Membership.Role.ADMIN,
            ],
        )
        .distinct()
        .order_by("display_name")
    )


def case_detail(case: Case) -> dict:
    participants = list(
        case.participants.filter(removed_at__isnull=True)
        .select_related("supports")
        .prefetch_related(Prefetch("invitations", queryset=Invitation.objects.order_by("-created_at")))
        .order_by("pk")
    )
    for place in participants:
        place.role_word = case.program.word_for(place.role)
    events = list(AuditEvent.objects.filter(case=case).select_related("actor").order_by("-seq")[:50])
    return {"participants": participants, "events": events}


def waiting_for(user: User) -> list[Case]:
    """Cases on the user's desk: referrals to accept, and cases paused that may need a check-in."""
    return list(
        cases_managed_by(user)
        .filter(stage__in=["referral", "paused"])
        .select_related("program")
        .order_by("updated_at")[:10]
    )
