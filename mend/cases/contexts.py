"""The case pages' contexts: the reads each page needs, put together for its template."""

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mend.accounts.models import User
from mend.assessments.models import Outcome, SafetyPlan
from mend.assessments.selectors import acknowledgment_state
from mend.cases import access, forms, guidance, selectors, timeline, workflow
from mend.cases.models import FACILITATING_ROLES, PARTY_ROLES, Case, Notice, Participant, Role
from mend.cases.notices import text_of
from mend.circles.minutes import alerts_for
from mend.consent.models import Consent, HarmedPartyChoices, Scope
from mend.consent.selectors import choices_of, scopes_and_stopped
from mend.dialogue import selectors as dialogue_selectors
from mend.meetings.models import Meeting
from mend.readiness import rules
from mend.readiness.rules import contact_missing, encounter_missing
from mend.readiness.snapshot import snapshot_of

# Each person's standing on their own path, in the staff page's plain words (mend.readiness.rules).
STANDING_WORDS = {
    rules.INVITED: _("invited"),
    rules.TAKING_PART: _("taking part"),
    rules.ON_BREAK: _("on a break"),
    rules.STOPPED: _("stopped taking part"),
    rules.EXCLUDED: _("not in the process for now"),
    rules.FINISHED: _("finished"),
}


def participant_home(user) -> dict:
    """A person's own cases (the newest twenty) and whether they sit in a circle."""
    cases = list(access.cases_taken_part_in(user).order_by("-updated_at")[:20])
    return {"cases": cases, "in_circles": user.circle_places.filter(left_at__isnull=True).exists()}


def dashboard(user) -> dict:
    return {
        # The newest cases the user facilitates, read like a page of the case list filtered by them.
        "mine": selectors.case_page(user=user, facilitator_id=user.pk).cases[:10],
        "waiting": selectors.waiting_for(user),
        # Messages waiting unread for them (mend.dialogue): a person may be asking for help.
        "unread": dialogue_selectors.unread_for_staff(user),
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
    return forms.InviteForm(data, parties=parties, role_words=case.program.word_for, prefix="invite")


def interpreter_form(case, participants, interpreter, data=None):
    parties = [p for p in participants if p.role in PARTY_ROLES and p.has_joined]
    return forms.InterpreterForm(
        data,
        parties=parties,
        role_words=case.program.word_for,
        initial={"party": interpreter.supports_id},
        prefix=f"i{interpreter.pk}",
    )


def interpreter_forms(case, participants) -> list[dict]:
    """A small form for each interpreter in the case: which party they help."""
    return [
        {"place": p, "form": interpreter_form(case, participants, p)}
        for p in participants
        if p.role == Role.INTERPRETER
    ]


def staff_detail(case, user, *, new_link, invite_form_shown=None, assign_form=None, error: str = "") -> dict:
    context = selectors.case_detail(case)
    context.update(
        interpreters=interpreter_forms(case, context["participants"]),
        case=case,
        actions=workflow.actions_from(case.stage),
        timeline=timeline.timeline(context.pop("events"), case.program),
        invite_form=invite_form_shown or invite_form(case, context["participants"]),
        new_link=new_link,
        error=error,
        close_form=forms.CloseForm(),
        assign_form=assign_form
        or forms.AssignForm(candidates=selectors.facilitator_candidates(case), prefix="assign"),
        assignment_requests=selectors.pending_assignment_requests(case),
        **preparation_overview(case, user),
    )
    return context


def participant_detail(case, place) -> dict:
    context = participant_overview(place)
    context.update(
        case=case,
        place=place,
        role_word=case.program.word_for(place.role),
        next_step=guidance.NEXT_FOR_PARTICIPANT[case.stage],
        off_path=False,
    )
    if case.stage != workflow.CLOSED:
        if context["on_break"]:
            context.update(next_step=guidance.ON_A_BREAK, off_path=True)
        elif context["excluded"] or context["stopped"]:
            context.update(next_step=guidance.STEPPED_BACK, off_path=True)
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


def participant_overview(place: Participant) -> dict:
    """What a person in a case sees on their own page, and nothing about anyone else beyond what they need:
    their facilitators' names, neutral notices, their own consent and sessions, and (for the person
    responsible) only the channel the person harmed chose, never their reasons or other choices."""

    case = place.case
    scopes, stopped = scopes_and_stopped(place)
    facilitators = list(
        case.participants.filter(role__in=FACILITATING_ROLES, removed_at__isnull=True).order_by("pk")
    )
    notices = [
        {"at": n.created_at, "text": text_of(n)}
        for n in Notice.objects.filter(recipient=place).select_related("about").order_by("-created_at")[:5]
    ]
    sessions = list(
        Meeting.objects.filter(attendees=place, status="scheduled", starts_at__gte=timezone.now()).order_by(
            "starts_at"
        )[:5]
    )
    overview = {
        "facilitators": facilitators,
        "notices": notices,
        "sessions": sessions,
        "taking_part": "take_part" in scopes and place.excluded_at is None,
        "stopped": stopped,
        "on_break": place.paused_at is not None,
        # Staff marked them as not in the process for now: they come back by consenting to take part again.
        "excluded": place.excluded_at is not None,
        "has_safety_plan": SafetyPlan.objects.filter(participant=place).exists(),
        "is_party": place.role in (Role.HARMED_PARTY, Role.RESPONSIBLE_PARTY),
    }
    if place.role == Role.HARMED_PARTY:
        overview["choices"] = choices_of(place)
    if place.role == Role.RESPONSIBLE_PARTY:
        overview["acknowledgment"] = acknowledgment_state(place)

        harmed = case.participants.filter(
            role=Role.HARMED_PARTY, removed_at__isnull=True, joined_at__isnull=False, excluded_at__isnull=True
        )

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
        channel = "indirect" if "indirect" in modes else ("direct" if modes == {"direct"} else "")
        # Told only while contact that way is open now: before that point and whenever it stops (a pause, a
        # break, a consent withdrawn) the page reads the same, so it never tells what the other side changed.

        open_now = bool(channel) and not contact_missing(snapshot_of(case), mode=channel)
        overview["other_side_channel"] = channel if open_now else ""
    return overview


def preparation_overview(case: Case, user: User) -> dict:
    """The preparation table of a staff case page: each party's consent, readiness and records, read from
    the snapshot the readiness rules use, so the page costs the same whatever the number of parties."""

    snap = snapshot_of(case)
    parties = [p for p in snap.places if p.role in PARTY_ROLES and p.has_joined]
    facilitates = any(p.user_id == user.pk and p.role in FACILITATING_ROLES for p in snap.places)
    rows = [
        {
            "place": p,
            "role_word": case.program.word_for(p.role),
            "scopes": [Scope(s).label.lower() for s in Scope.values if s in snap.scopes_of(p)],
            "outcome": snap.outcome_of(p) or "",
            "outcome_label": Outcome(snap.outcome_of(p)).label.lower() if snap.outcome_of(p) else "",
            "acknowledgment": snap.acknowledgment_of(p) if p.role == Role.RESPONSIBLE_PARTY else "",
            "has_safety_plan": snap.has_safety_plan(p),
            "on_break": p.paused_at is not None,
            "standing": rules.standing_of(snap, p),
            "standing_label": STANDING_WORDS[rules.standing_of(snap, p)],
            "facilitates": facilitates,
            "settings_form": forms.PersonSettingsForm(
                initial={"time_zone": p.time_zone, "preferred_language": p.preferred_language},
                prefix=f"p{p.pk}",
            ),
            "exclude_form": forms.ExcludeForm(prefix=f"x{p.pk}"),
        }
        for p in parties
    ]
    return {
        "preparation": rows,
        "person_forms": facilitates,
        "missing_for_encounter": encounter_missing(snap),
        "sessions": list(Meeting.objects.filter(case=case).order_by("-starts_at")[:20]),
    }
