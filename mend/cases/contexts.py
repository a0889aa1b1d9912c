"""The case pages' contexts: the reads each page needs, put together for its template."""

from django.http import QueryDict

from mend.cases import access, forms, guidance, selectors, timeline, workflow
from mend.cases.models import FACILITATING_ROLES, PARTY_ROLES, Case, Participant
from mend.circles.minutes import alerts_for


def participant_home(user) -> dict:
    """A person's own cases (the newest twenty) and whether they sit in a circle."""
    cases = list(access.cases_taken_part_in(user).order_by("-updated_at")[:20])
    return {"cases": cases, "in_circles": user.circle_places.filter(left_at__isnull=True).exists()}


def dashboard(user) -> dict:
    return {
        # The newest cases the user facilitates, read like a page of the case list filtered by them.
        "mine": selectors.case_page(user=user, facilitator_id=user.pk).cases[:10],
        "waiting": selectors.waiting_for(user),
        "notices": selectors.notices_for_staff(user),
        "administered": selectors.programs_administered(user),
        "staff_alerts": alerts_for(user),
    }


def case_list(user, form, filters: dict) -> dict:
    page = selectors.case_page(
        user=user,
        stage=filters.get("stage", ""),
        category=filters.get("category", ""),
        facilitator_id=filters.get("facilitator"),
        after=filters.get("after"),
        before=filters.get("before"),
    )
    # The page links keep the filters the page was read with; a bad one was left out, so they are too.
    query = QueryDict(mutable=True)
    for name in ("stage", "category", "facilitator"):
        if filters.get(name):
            query[name] = filters[name]
    return {"form": form, "page": page, "query": query.urlencode(), "count_cap": selectors.COUNT_CAP}


def present_participants(case) -> list[Participant]:
    return list(Participant.objects.filter(case=case, removed_at__isnull=True))


def invite_form(case, participants, data=None):
    parties = [p for p in participants if p.role in PARTY_ROLES and p.has_joined]
    return forms.InviteForm(data, parties=parties, role_words=case.program.word_for)


def staff_detail(case, user, *, new_link, invite_form_shown=None, assign_form=None, error: str = "") -> dict:
    context = selectors.case_detail(case)
    context.update(
        case=case,
        actions=workflow.actions_from(case.stage),
        timeline=timeline.timeline(context.pop("events"), case.program),
        invite_form=invite_form_shown or invite_form(case, context["participants"]),
        new_link=new_link,
        error=error,
        close_form=forms.CloseForm(),
        assign_form=assign_form or forms.AssignForm(candidates=selectors.facilitator_candidates(case)),
        assignment_requests=selectors.pending_assignment_requests(case),
        **selectors.preparation_overview(case, user),
    )
    return context


def participant_detail(case, place) -> dict:
    context = selectors.participant_overview(place)
    context.update(
        case=case,
        place=place,
        role_word=case.program.word_for(place.role),
        next_step=guidance.NEXT_FOR_PARTICIPANT[case.stage],
    )
    return context


def pending_request(case, request_id: int):
    """A request to join the case's team that still waits; None when there is no such request."""
    return next((r for r in selectors.pending_assignment_requests(case) if r.pk == request_id), None)


def participants_in_order(case) -> list[Participant]:
    """The people still in the case, in the order they were added (the API's case detail)."""
    return list(case.participants.filter(removed_at__isnull=True).order_by("pk"))


# --- the JSON API's case answers ----------------------------------------------------------------------


def case_out(case: Case) -> dict:
    """A case as the API gives it (its facilitators prefetched by the case list, else read here)."""
    facilitators = getattr(case, "facilitators", None)
    if facilitators is None:
        facilitators = [
            p for p in case.participants.all() if p.role in FACILITATING_ROLES and not p.removed_at
        ]
    return {
        "reference": case.reference,
        "program_id": case.program_id,
        "harm_category": case.harm_category,
        "jurisdictions": case.jurisdictions,
        "referral_source": case.referral_source,
        "stage": case.stage,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "facilitators": [{"pseudonym": p.pseudonym, "role": p.role} for p in facilitators],
    }


def case_detail_out(case: Case) -> dict:
    participants = participants_in_order(case)
    out = case_out(case)
    out.update(
        referral_details=case.referral_details,
        participants=[
            {
                "id": p.pk,
                "role": p.role,
                "pseudonym": p.pseudonym,
                "joined": p.has_joined,
                "supports_id": p.supports_id,
            }
            for p in participants
        ],
        next_actions=[t.action for t in workflow.actions_from(case.stage)],
    )
    return out
