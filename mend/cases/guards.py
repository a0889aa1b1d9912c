"""The guards named in the stage table, and the checks on meetings: each returns what is still missing,
in words a facilitator can act on, naming the people concerned by their pseudonyms."""

from collections.abc import Callable

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from mend.accounts.models import Membership
from mend.cases.models import FACILITATING_ROLES, PARTY_ROLES, Case, Participant, Role


class _Places(list):
    """The active participants of a case, cached on the case object; `primed` once their records are read.
    Setting `case._active_places = None` makes the next reading start afresh."""

    primed = False


def _memberships(case: Case):
    return Membership.objects.filter(user=OuterRef("user_id"), program=case.program_id)


def places(case: Case) -> list[Participant]:
    """Everyone active in the case, without reading their consent and preparation records: enough to know
    who holds which place. The same objects `people` gives, records and all, when asked for them."""
    cached = getattr(case, "_active_places", None)
    if cached is None:
        # Participant.objects rather than case.participants: the same rows, without building a related
        # manager each time (this runs for every message sent); each place is then given this case object.
        # Whether each person is still a member of the case's program comes in the same query: a
        # facilitating place counts for conversations only while it is (mend.dialogue.rules.facilitators).
        cached = _Places(
            Participant.objects.filter(case_id=case.pk, removed_at__isnull=True)
            .select_related("user")
            .annotate(in_program=Exists(_memberships(case)))
            .order_by("pk")
        )
        for place in cached:
            place.case = case
        case._active_places = cached
    return cached


def _active(case: Case) -> list[Participant]:
    cached = places(case)
    if not cached.primed:
        _prime(cached)
        cached.primed = True
    return cached


def people(case: Case) -> list[Participant]:
    """Everyone active in the case, with their consent and preparation records loaded."""
    return _active(case)


def _prime(places: list[Participant]) -> None:
    """Loads every party's consent, choices and preparation records in a fixed number of queries, so that
    checking a case costs the same whatever number of people it has."""
    from mend.assessments.models import Acknowledgment, Assessment, SafetyPlan
    from mend.consent.models import HarmedPartyChoices
    from mend.consent.selectors import current_scopes_for

    ids = [p.pk for p in places]
    current_scopes_for(places)
    choices = {c.participant_id: c for c in HarmedPartyChoices.objects.filter(participant__in=ids)}
    outcomes: dict[int, str] = {}
    for participant_id, outcome in (
        Assessment.objects.filter(participant__in=ids)
        .order_by("signed_off_at", "pk")
        .values_list("participant_id", "outcome")
    ):
        outcomes[participant_id] = outcome  # the latest sign-off wins
    acknowledged: dict[int, str] = {}
    for participant_id, confirmed_at in (
        Acknowledgment.objects.filter(participant__in=ids)
        .order_by("submitted_at", "pk")
        .values_list("participant_id", "confirmed_at")
    ):
        acknowledged[participant_id] = "confirmed" if confirmed_at is not None else "submitted"  # latest wins
    plans = set(SafetyPlan.objects.filter(participant__in=ids).values_list("participant_id", flat=True))
    for place in places:
        place._choices = choices.get(place.pk)
        place._latest_outcome = outcomes.get(place.pk)
        place._acknowledgment_state = acknowledged.get(place.pk, "none")
        place._has_safety_plan = place.pk in plans


def _name(case: Case, place: Participant) -> str:
    word = case.program.word_for(place.role)
    return f"{word} ({place.pseudonym})" if place.pseudonym else word


def _parties(case: Case) -> list[Participant]:
    return [p for p in _active(case) if p.role in PARTY_ROLES and p.has_joined]


def facilitator_assigned(case: Case) -> list[str]:
    if any(p.role in FACILITATING_ROLES for p in _active(case)):
        return []
    return [_("a facilitator assigned to the case")]


def parties_joined(case: Case) -> list[str]:
    missing = []
    for role in (Role.HARMED_PARTY, Role.RESPONSIBLE_PARTY):
        places = [p for p in _active(case) if p.role == role]
        if not places:
            missing.append(_("an invitation for the %(role)s") % {"role": case.program.word_for(role)})
        for place in places:
            if not place.has_joined:
                missing.append(
                    _("the %(role)s to accept their invitation") % {"role": case.program.word_for(role)}
                )
    return missing


def no_conflict_of_interest(case: Case) -> list[str]:
    from mend.assessments.selectors import facilitators_without_declaration

    return [
        _("a conflict-of-interest declaration by %(name)s") % {"name": user.display_name}
        for user in facilitators_without_declaration(case)
    ]


MODE_SCOPE = {"indirect": "indirect_exchange", "direct": "direct_meeting"}


def _consent_and_presence(case: Case, place: Participant, modes: set[str]) -> list[str]:
    from mend.consent.selectors import current_scopes

    missing = []
    name = _name(case, place)
    if place.paused_at is not None:
        missing.append(_("the %(name)s to come back from their break") % {"name": name})
    scopes = current_scopes(place)
    if "take_part" not in scopes:
        missing.append(_("consent to take part from the %(name)s") % {"name": name})
    if "indirect" in modes and MODE_SCOPE["indirect"] not in scopes:
        missing.append(_("consent of the %(name)s to an exchange through the facilitator") % {"name": name})
    if "direct" in modes and MODE_SCOPE["direct"] not in scopes:
        missing.append(_("consent of the %(name)s to meet directly") % {"name": name})
    return missing


def chosen_modes(case: Case) -> tuple[set[str], list[str]]:
    """The modes the harmed parties chose, and who has not chosen yet."""
    from mend.consent.selectors import choices_of

    modes, undecided = set(), []
    for place in _parties(case):
        if place.role == Role.HARMED_PARTY:
            mode = choices_of(place).mode
            if mode == "undecided":
                undecided.append(_("the %(name)s to choose how to take part") % {"name": _name(case, place)})
            else:
                modes.add(mode)
    return modes, undecided


def preparation_complete(case: Case) -> list[str]:
    from mend.assessments.selectors import acknowledgment_state, latest_outcome, safety_plan_exists

    missing = []
    parties = _parties(case)
    for place in parties:
        if place.role == Role.RESPONSIBLE_PARTY:
            state = acknowledgment_state(place)
            if state == "none":
                missing.append(_("acknowledgment of the harm by the %(name)s") % {"name": _name(case, place)})
            elif state == "submitted":
                missing.append(
                    _("a facilitator's confirmation of the acknowledgment by the %(name)s")
                    % {"name": _name(case, place)}
                )
    for place in parties:
        if latest_outcome(place) != "ready":
            missing.append(_("readiness assessment of the %(name)s") % {"name": _name(case, place)})
    for place in parties:
        if place.role == Role.HARMED_PARTY and not safety_plan_exists(place):
            missing.append(_("safety plan for the %(name)s") % {"name": _name(case, place)})
    return missing


def encounter_ready(case: Case) -> list[str]:
    missing = facilitator_assigned(case) + parties_joined(case)
    modes, undecided = chosen_modes(case)
    missing += undecided
    for place in _parties(case):
        missing += _consent_and_presence(case, place, modes)
    return missing + preparation_complete(case) + no_conflict_of_interest(case)


def no_party_on_break(case: Case) -> list[str]:
    from mend.consent.selectors import current_scopes

    missing = []
    for place in _parties(case):
        if place.paused_at is not None:
            missing.append(_("the %(name)s to come back from their break") % {"name": _name(case, place)})
        elif "take_part" not in current_scopes(place) and place.consents.exists():
            missing.append(_("consent to take part from the %(name)s") % {"name": _name(case, place)})
    return missing


GUARDS: dict[str, Callable[[Case], list[str]]] = {
    "facilitator_assigned": facilitator_assigned,
    "parties_joined": parties_joined,
    "encounter_ready": encounter_ready,
    "no_party_on_break": no_party_on_break,
}


def missing_for(case: Case, guard_names: tuple[str, ...]) -> list[str]:
    missing: list[str] = []
    for name in guard_names:
        for item in GUARDS[name](case):
            if item not in missing:
                missing.append(item)
    return missing


def _side(case: Case, place: Participant) -> str:
    """harmed or responsible for the parties and their supporters; "" for everyone else."""
    if place.role == Role.HARMED_PARTY:
        return "harmed"
    if place.role == Role.RESPONSIBLE_PARTY:
        return "responsible"
    if place.role == Role.SUPPORTER and place.supports_id:
        supported = next((p for p in _active(case) if p.pk == place.supports_id), None)
        return _side(case, supported) if supported is not None else ""
    return ""


def meeting_missing(case: Case, attendees: list[Participant], *, check_stage: bool = True) -> list[str]:
    """What stands between these people and a meeting now. A meeting with people from both sides is contact
    between the parties, and needs everything the encounter needs and the person harmed's choice to meet;
    supporters and community members come only as the person harmed allowed."""
    from mend.consent.selectors import choices_of, current_scopes

    missing: list[str] = []
    if check_stage and case.stage in ("paused", "closed", "referral"):
        missing.append(
            _("the case to be active (it is at the %(stage)s stage)")
            % {"stage": case.get_stage_display().lower()}
        )
    if not any(p.role in FACILITATING_ROLES for p in attendees):
        missing.append(_("a facilitator among the people attending"))
    sides = {p.pk: _side(case, p) for p in attendees}
    contact = "harmed" in sides.values() and "responsible" in sides.values()
    # The people harmed whom this meeting concerns: present themselves, or through a supporter.
    represented = []
    for place in attendees:
        if sides[place.pk] == "harmed":
            person = (
                place
                if place.role == Role.HARMED_PARTY
                else next((p for p in _active(case) if p.pk == place.supports_id), None)
            )
            if person is not None and person not in represented:
                represented.append(person)
    for place in attendees:
        if place.role in FACILITATING_ROLES:
            continue
        if not place.has_joined:
            missing.append(_("the %(name)s to join the case") % {"name": _name(case, place)})
            continue
        modes = {"direct"} if contact and place.role in PARTY_ROLES else set()
        missing += _consent_and_presence(case, place, modes)
        if place.role in PARTY_ROLES and "facilitator_contact" not in current_scopes(place):
            missing.append(
                _("consent of the %(name)s to be contacted by the facilitator") % {"name": _name(case, place)}
            )
    if contact:
        for person in represented:
            mode = choices_of(person).mode
            if mode == "indirect":
                missing.append(
                    _(
                        "a meeting that fits the choice of the %(name)s: "
                        "they chose to communicate through the facilitator"
                    )
                    % {"name": _name(case, person)}
                )
            elif mode == "undecided":
                missing.append(_("the %(name)s to choose how to take part") % {"name": _name(case, person)})
            if person not in attendees:
                missing += _consent_and_presence(case, person, {"direct"})
        missing += preparation_complete(case) + no_conflict_of_interest(case)
    for place in attendees:
        if place.role == Role.SUPPORTER and place.supports_id:
            supported = next((p for p in _active(case) if p.pk == place.supports_id), None)
            if supported is not None and "supporters_present" not in current_scopes(supported):
                missing.append(
                    _("consent of the %(name)s to have supporters present") % {"name": _name(case, supported)}
                )
        if place.role in (Role.SUPPORTER, Role.COMMUNITY_MEMBER):
            for person_harmed in represented:
                if place.supports_id == person_harmed.pk and place.role == Role.SUPPORTER:
                    allowed = choices_of(person_harmed).supporters_may_attend
                elif place.role == Role.SUPPORTER:
                    allowed = contact and choices_of(person_harmed).supporters_may_attend
                else:
                    allowed = choices_of(person_harmed).community_may_attend
                if not allowed:
                    missing.append(
                        _("the %(harmed)s to allow the %(name)s to attend")
                        % {"harmed": _name(case, person_harmed), "name": _name(case, place)}
                    )
    deduplicated: list[str] = []
    for item in missing:
        if item not in deduplicated:
            deduplicated.append(item)
    return deduplicated
