"""Reads for case pages and the API, each with a fixed number of queries whatever the data."""

from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from mend.accounts.models import Invitation, Membership, Program, User
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
    events = case_events(case)
    return {"participants": participants, "events": events}


def case_events(case: Case, limit: int = 50) -> list[AuditEvent]:
    """The newest audit events of a case, for its timeline."""
    return list(AuditEvent.objects.filter(case=case).select_related("actor").order_by("-seq")[:limit])


def programs_administered(user: User) -> list:
    return list(Program.objects.filter(memberships__user=user, memberships__role=Membership.Role.ADMIN))


def notices_for_staff(user: User, limit: int = 10) -> list[dict]:
    """Neutral notices addressed to the user's places in the cases they facilitate, newest first."""
    from mend.cases.models import Notice
    from mend.cases.notices import text_of

    notices = (
        Notice.objects.filter(recipient__user=user, recipient__removed_at__isnull=True)
        .select_related("about", "case")
        .order_by("-created_at")[:limit]
    )
    return [{"at": n.created_at, "text": text_of(n), "case": n.case} for n in notices]


def waiting_for(user: User) -> list[Case]:
    """Cases on the user's desk: referrals to accept, and cases paused that may need a check-in."""
    return list(
        cases_managed_by(user)
        .filter(stage__in=["referral", "paused"])
        .select_related("program")
        .order_by("updated_at")[:10]
    )


def participant_overview(place: Participant) -> dict:
    """What a person in a case sees on their own page, and nothing about anyone else beyond what they need:
    their facilitators' names, neutral notices, their own consent and sessions, and (for the person
    responsible) only the channel the person harmed chose, never their reasons or other choices."""
    from mend.assessments.models import SafetyPlan
    from mend.assessments.selectors import acknowledgment_state
    from mend.cases.models import Notice, Role
    from mend.cases.notices import text_of
    from mend.circles.models import Session
    from mend.consent.selectors import choices_of, current_scopes

    case = place.case
    facilitators = list(
        case.participants.filter(role__in=FACILITATING_ROLES, removed_at__isnull=True).order_by("pk")
    )
    notices = [
        {"at": n.created_at, "text": text_of(n)}
        for n in Notice.objects.filter(recipient=place).select_related("about").order_by("-created_at")[:5]
    ]
    sessions = list(
        Session.objects.filter(attendees=place, status="scheduled", starts_at__gte=timezone.now()).order_by(
            "starts_at"
        )[:5]
    )
    overview = {
        "facilitators": facilitators,
        "notices": notices,
        "sessions": sessions,
        "taking_part": "take_part" in current_scopes(place),
        "on_break": place.paused_at is not None,
        "has_safety_plan": SafetyPlan.objects.filter(participant=place).exists(),
        "is_party": place.role in (Role.HARMED_PARTY, Role.RESPONSIBLE_PARTY),
    }
    if place.role == Role.HARMED_PARTY:
        overview["choices"] = choices_of(place)
    if place.role == Role.RESPONSIBLE_PARTY:
        overview["acknowledgment"] = acknowledgment_state(place)
        from mend.consent.models import HarmedPartyChoices

        harmed = case.participants.filter(
            role=Role.HARMED_PARTY, removed_at__isnull=True, joined_at__isnull=False
        )
        from mend.consent.models import Consent

        chosen = dict(
            HarmedPartyChoices.objects.filter(participant__in=harmed).values_list("participant_id", "mode")
        )
        consents: dict[int, set[str]] = {}
        for participant_id, scope in Consent.objects.filter(
            participant__in=harmed, withdrawn_at__isnull=True
        ).values_list("participant_id", "scope"):
            consents.setdefault(participant_id, set()).add(scope)
        # Only what holds now: a choice counts while its consent stands; anyone else is undecided.
        modes = set()
        for harmed_id in harmed.values_list("pk", flat=True):
            mode = chosen.get(harmed_id, "undecided")
            scope = {"indirect": "indirect_exchange", "direct": "direct_meeting"}.get(mode)
            held = consents.get(harmed_id, set())
            modes.add(mode if scope and {"take_part", scope} <= held else "undecided")
        overview["other_side_channel"] = (
            "indirect" if "indirect" in modes else ("direct" if modes == {"direct"} else "")
        )
    return overview


def preparation_overview(case: Case, user: User) -> dict:
    """The preparation table of a staff case page: each party's consent, readiness and records, read from
    the same primed records the guards use, so the page costs the same whatever the number of parties."""
    from mend.assessments.models import Outcome
    from mend.assessments.selectors import acknowledgment_state, latest_outcome, safety_plan_exists
    from mend.cases import guards
    from mend.cases.models import PARTY_ROLES, Role
    from mend.circles.models import Session
    from mend.consent.models import Scope
    from mend.consent.selectors import current_scopes

    people = guards.people(case)
    parties = [p for p in people if p.role in PARTY_ROLES and p.has_joined]
    facilitates = any(p.user_id == user.pk and p.role in FACILITATING_ROLES for p in people)
    rows = [
        {
            "place": p,
            "role_word": case.program.word_for(p.role),
            "scopes": [Scope(s).label.lower() for s in Scope.values if s in current_scopes(p)],
            "outcome": latest_outcome(p) or "",
            "outcome_label": Outcome(latest_outcome(p)).label.lower() if latest_outcome(p) else "",
            "acknowledgment": acknowledgment_state(p) if p.role == Role.RESPONSIBLE_PARTY else "",
            "has_safety_plan": safety_plan_exists(p),
            "on_break": p.paused_at is not None,
            "facilitates": facilitates,
        }
        for p in parties
    ]
    return {
        "preparation": rows,
        "missing_for_encounter": guards.encounter_ready(case),
        "sessions": list(Session.objects.filter(case=case).order_by("-starts_at")[:20]),
    }


def facilitator_candidates(case: Case) -> list[User]:
    """Staff of the case's program who could facilitate it and are not in it yet."""
    in_case = case.participants.filter(removed_at__isnull=True, user__isnull=False).values("user_id")
    return list(
        User.objects.filter(
            memberships__program=case.program,
            memberships__role__in=[
                Membership.Role.FACILITATOR,
                Membership.Role.COORDINATOR,
                Membership.Role.ADMIN,
            ],
        )
        .exclude(pk__in=in_case)
        .order_by("display_name")
    )
