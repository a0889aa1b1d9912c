"""Issue 16: a path per person, walked through the stage table. Each party has their own standing; one
person's stop, break or exclusion leaves the case at its stage for the others, and the whole case pauses only
when nobody is left on one side (or staff pause it). The others hear only "One person will not take part for
now": never who or why; the person who stepped back hears nothing. A person who comes back rejoins their
own path, and a case that paused may then be resumed by staff.

Two cases: a data breach with five people harmed and one responsible, and a school case with one person
harmed and three responsible."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mend import builders
from mend.audit.models import AuditEvent
from mend.cases import services as cases
from mend.cases.models import Case, Notice, Participant
from mend.consent import services as consent_services
from mend.consent.models import Consent
from mend.core.errors import Conflict, DomainError
from mend.meetings import scheduling
from mend.readiness import rules
from mend.readiness.snapshot import consent_snapshot, snapshot_of
from tests.builders import consent, facilitator_place

pytestmark = pytest.mark.django_db

FIVE = ("Aspen", "Birch", "Cedar", "Dune", "Elm")
ONE_LESS = "one_not_taking_part"


@pytest.fixture
def breach(cast):
    """A data breach at the preparation stage, ready for its encounter: five people harmed who chose to meet,
    and Falcon, responsible."""
    prepared = builders.prepared_case(
        program=cast.program, facilitator=cast.facilitator, harmed=FIVE, responsible=("Falcon",)
    )
    Notice.objects.all().delete()
    return prepared


@pytest.fixture
def school(cast):
    """A school case at the preparation stage: Kauri, harmed, and three youths responsible."""
    prepared = builders.prepared_case(
        program=cast.program,
        facilitator=cast.facilitator,
        harmed=("Kauri",),
        responsible=("Kea", "Tui", "Weka"),
    )
    Notice.objects.all().delete()
    return prepared


def _stage(case: Case) -> str:
    case.refresh_from_db()
    return case.stage


def _fresh(place: Participant) -> Participant:
    return Participant.objects.select_related("case__program").get(pk=place.pk)


def _standing(place: Participant) -> str:
    case = Case.objects.select_related("program").get(pk=place.case_id)
    snap = consent_snapshot(case)
    return rules.standing_of(snap, snap.place(place.pk))


def _told(place: Participant) -> list[tuple[str, int | None]]:
    return list(Notice.objects.filter(recipient=place).values_list("kind", "about_id"))


def _exclude(cast, place: Participant, reason: str = "Asked for more time to think, said by phone.") -> None:
    consent_services.participant_exclude(actor=cast.facilitator, place=place, reason=reason)


def _meeting(cast, case: Case, *attendees: Participant):
    return scheduling.meeting_schedule(
        actor=cast.facilitator,
        case=case,
        kind="dialogue",
        format="video",
        starts_at=timezone.now() + timedelta(days=3),
        time_zone="Pacific/Auckland",
        attendees=[facilitator_place(case, cast.facilitator), *attendees],
    )


# -- five people harmed, one responsible ---------------------------------------------------------------------


@pytest.mark.parametrize("how", ["stop", "break", "exclusion"])
def test_inv_voluntary_one_of_five_stepping_back_leaves_the_case_going_for_the_others(cast, breach, how):
    aspen, others, falcon = breach.harmed[0], breach.harmed[1:], breach.responsible[0]
    session = _meeting(cast, breach.case, *breach.harmed, falcon)
    if how == "stop":
        builders.stop(aspen)
    elif how == "break":
        consent_services.participant_pause(actor=aspen.user, place=aspen)
    else:
        _exclude(cast, aspen)
    assert (
        _standing(aspen) == {"stop": rules.STOPPED, "break": rules.ON_BREAK, "exclusion": rules.EXCLUDED}[how]
    )
    assert all(_standing(p) == rules.TAKING_PART for p in (*others, falcon))
    # The case stays at its stage; the encounter begins for the four and Falcon.
    assert _stage(breach.case) == "preparation"
    case = cases.case_transition(actor=cast.facilitator, case=breach.case, action="begin_encounter")
    assert case.stage == "encounter"
    # Aspen leaves her meeting, which goes on for the others; a new meeting of the others goes ahead.
    session.refresh_from_db()
    assert session.status == "scheduled"
    assert aspen.pk not in set(session.attendees.values_list("pk", flat=True))
    assert _meeting(cast, case, *others, falcon).status == "scheduled"
    with pytest.raises(Conflict):
        _meeting(cast, case, aspen, falcon)
    snap = snapshot_of(Case.objects.select_related("program").get(pk=case.pk))
    assert [p.pk for p in rules.parties(snap)] == [p.pk for p in (*others, falcon)]
    assert [p.pk for p in rules.left_out(snap)] == [aspen.pk]


@pytest.mark.parametrize("how", ["stop", "break", "exclusion"])
def test_inv_privacy_the_others_learn_nothing_of_who_or_why(cast, breach, how):
    aspen, others, falcon = breach.harmed[0], breach.harmed[1:], breach.responsible[0]
    if how == "stop":
        builders.stop(aspen)
    elif how == "break":
        consent_services.participant_pause(actor=aspen.user, place=aspen)
    else:
        _exclude(cast, aspen)
    # Falcon, on the other side, hears only that one person will not take part for now.
    assert _told(falcon) == [(ONE_LESS, None)]
    assert "Aspen" not in " ".join(cases.notices.text_of(n) for n in Notice.objects.filter(recipient=falcon))
    # The other people harmed never agreed to see Aspen (nor she them): they are not told anything.
    assert all(_told(p) == [] for p in others)
    # The facilitators hear who, to offer support; Aspen herself receives nothing.
    assert _told(facilitator_place(breach.case, cast.facilitator)) == [("support_prompt", aspen.pk)]
    assert _told(aspen) == []


def test_inv_privacy_only_those_on_the_same_side_who_both_agreed_are_told(cast, breach):
    aspen, birch, cedar = breach.harmed[:3]
    for place in (aspen, birch):
        consent_services.same_side_visibility_set(actor=place.user, place=place, seen=True)
    Notice.objects.all().delete()
    builders.stop(aspen)
    assert _told(birch) == [(ONE_LESS, None)]
    assert _told(cedar) == []  # Cedar did not agree to be seen, so she does not see Aspen either


def test_inv_voluntary_the_last_person_harmed_stepping_back_pauses_the_case(cast, breach):
    case, falcon = breach.case, breach.responsible[0]
    for place in breach.harmed[:4]:
        builders.stop(place)
        assert _stage(case) == "preparation"
    Notice.objects.all().delete()
    consent_services.participant_pause(actor=breach.harmed[4].user, place=breach.harmed[4])
    assert _stage(case) == "paused" and case.paused_from == "preparation"
    assert _told(falcon) == [("process_paused", None)]
    with pytest.raises(Conflict, match="at least one person harmed taking part"):
        cases.case_transition(actor=cast.facilitator, case=case, action="resume")
    # Elm comes back from her break: staff may resume; the case does not resume on its own.
    Notice.objects.all().delete()
    consent_services.participant_resume(actor=breach.harmed[4].user, place=breach.harmed[4])
    assert _stage(case) == "paused"
    assert _told(facilitator_place(case, cast.facilitator)) == [("ready_to_continue", breach.harmed[4].pk)]
    assert cases.case_transition(actor=cast.facilitator, case=case, action="resume").stage == "preparation"


def test_inv_voluntary_someone_who_stopped_comes_back_by_consenting_again(cast, breach):
    aspen = breach.harmed[0]
    builders.stop(aspen)
    Notice.objects.all().delete()
    consent(aspen, "take_part")
    assert _standing(aspen) == rules.TAKING_PART
    assert _told(facilitator_place(breach.case, cast.facilitator)) == [("ready_to_continue", aspen.pk)]
    assert _told(aspen) == []


def test_inv_voluntary_staff_exclusion_is_sealed_and_consenting_again_readmits(cast, breach):
    aspen, case = breach.harmed[0], breach.case
    reason = "Said on the phone she needs the process to wait."
    _exclude(cast, aspen, reason)
    aspen = _fresh(aspen)
    assert aspen.excluded_at is not None and aspen.exclusion_reason == reason
    event = AuditEvent.objects.filter(code="participant.excluded").latest("pk")
    assert event.target_id == str(aspen.pk)
    assert "phone" not in str(event.payload) and "reason" not in event.payload
    # Her take-part consent is still current: giving it again renews it and brings her back.
    before = Consent.objects.get(participant=aspen, scope="take_part", withdrawn_at=None)
    consent(aspen, "take_part")
    aspen = _fresh(aspen)
    assert aspen.excluded_at is None and aspen.exclusion_reason == ""
    before.refresh_from_db()
    renewed = Consent.objects.get(participant=aspen, scope="take_part", withdrawn_at=None)
    assert before.withdrawn_at == renewed.given_at and renewed.pk != before.pk
    assert AuditEvent.objects.filter(code="participant.readmitted").count() == 1
    assert _standing(aspen) == rules.TAKING_PART
    assert _stage(case) == "preparation"
    # Someone not excluded who gives the same consent twice is still told it is already given.
    with pytest.raises(Conflict, match="already given"):
        consent(aspen, "take_part")


def test_inv_voluntary_only_a_facilitator_of_the_case_excludes_and_says_why(cast, breach):
    aspen = breach.harmed[0]
    for actor in (cast.coordinator, cast.other_facilitator_same_program, breach.responsible[0].user):
        with pytest.raises(DomainError, match="Only a facilitator of this case"):
            consent_services.participant_exclude(actor=actor, place=aspen, reason="Some reason here.")
    for reason in ("", "ok", "x" * 501):
        with pytest.raises(DomainError, match="3 to 500 characters"):
            _exclude(cast, aspen, reason)
    with pytest.raises(DomainError):
        _exclude(cast, facilitator_place(breach.case, cast.facilitator))
    _exclude(cast, aspen)
    with pytest.raises(Conflict, match="already marked"):
        _exclude(cast, aspen)
    assert not AuditEvent.objects.filter(code="participant.excluded").count() > 1


def test_inv_voluntary_an_excluded_person_receives_no_notice(cast, breach):
    aspen, falcon = breach.harmed[0], breach.responsible[0]
    _exclude(cast, aspen)
    Notice.objects.all().delete()
    consent_services.participant_pause(actor=falcon.user, place=falcon)  # Falcon's side empties: a pause
    assert _stage(breach.case) == "paused"
    assert _told(aspen) == []
    assert all(_told(p) == [("process_paused", None)] for p in breach.harmed[1:])


def test_inv_voluntary_a_narrowed_consent_in_the_encounter_does_not_pause_it(cast, breach):
    case = cases.case_transition(actor=cast.facilitator, case=breach.case, action="begin_encounter")
    aspen = breach.harmed[0]
    consent_services.consent_withdraw(actor=aspen.user, place=aspen, scope="direct_meeting")
    assert _stage(case) == "encounter"
    assert _meeting(cast, case, *breach.harmed[1:], breach.responsible[0]).status == "scheduled"
    with pytest.raises(Conflict, match=r"consent of the person harmed \(Aspen\) to meet directly"):
        _meeting(cast, case, aspen, breach.responsible[0])


# -- one person harmed, three responsible --------------------------------------------------------------------


@pytest.mark.parametrize("how", ["stop", "break", "exclusion"])
def test_inv_voluntary_one_of_three_youths_stepping_back_leaves_the_encounter_going(cast, school, how):
    case = cases.case_transition(actor=cast.facilitator, case=school.case, action="begin_encounter")
    kauri, (kea, tui, weka) = school.harmed[0], school.responsible
    if how == "stop":
        builders.stop(kea)
    elif how == "break":
        consent_services.participant_pause(actor=kea.user, place=kea)
    else:
        _exclude(cast, kea)
    assert _stage(case) == "encounter"
    assert _meeting(cast, case, kauri, tui, weka).status == "scheduled"
    # Kauri hears that one person will not take part; the other youths never agreed to see Kea.
    assert _told(kauri) == [(ONE_LESS, None)]
    assert _told(tui) == _told(weka) == _told(kea) == []


def test_inv_voluntary_when_all_three_youths_step_back_the_case_pauses_and_resumes_on_a_return(cast, school):
    case = cases.case_transition(actor=cast.facilitator, case=school.case, action="begin_encounter")
    kea, tui, weka = school.responsible
    builders.stop(kea)
    consent_services.participant_pause(actor=tui.user, place=tui)
    assert _stage(case) == "encounter"
    _exclude(cast, weka)
    assert _stage(case) == "paused" and case.paused_from == "encounter"
    with pytest.raises(Conflict, match="at least one person responsible taking part"):
        cases.case_transition(actor=cast.facilitator, case=case, action="resume")
    consent(weka, "take_part")  # readmitted
    case = cases.case_transition(actor=cast.facilitator, case=case, action="resume")
    assert case.stage == "encounter"
    assert _standing(kea) == rules.STOPPED and _standing(tui) == rules.ON_BREAK


def test_inv_voluntary_the_only_person_harmed_stopping_pauses_the_case(cast, school):
    builders.stop(school.harmed[0])
    assert _stage(school.case) == "paused"
    assert all(_told(p) == [("process_paused", None)] for p in school.responsible)


def test_inv_voluntary_begin_encounter_passes_for_the_others_while_one_is_stopped(cast, school):
    builders.stop(school.responsible[0])
    case = cases.case_transition(actor=cast.facilitator, case=school.case, action="begin_encounter")
    assert case.stage == "encounter"


# -- standing and settings -----------------------------------------------------------------------------------


def test_it_says_each_persons_standing(cast, school):
    kauri, (kea, tui, weka) = school.harmed[0], school.responsible
    invitation, _raw = cases.participant_invite(
        actor=cast.facilitator, case=school.case, role="responsible_party"
    )
    builders.stop(kea)
    consent_services.participant_pause(actor=tui.user, place=tui)
    assert [_standing(p) for p in (kauri, kea, tui, weka, invitation.participant)] == [
        rules.TAKING_PART,
        rules.STOPPED,
        rules.ON_BREAK,
        rules.TAKING_PART,
        rules.INVITED,
    ]
    cases.case_transition(actor=cast.facilitator, case=school.case, action="close", closure_reason="other")
    assert _standing(kauri) == rules.FINISHED


def test_a_facilitator_changes_a_persons_time_zone_and_language(cast, school):
    kea = school.responsible[0]
    place = cases.participant_settings_update(
        actor=cast.facilitator, place=kea, time_zone="Pacific/Auckland", preferred_language="mi"
    )
    assert (place.time_zone, place.preferred_language) == ("Pacific/Auckland", "mi")
    event = AuditEvent.objects.filter(code="participant.settings_changed").latest("pk")
    assert sorted(event.payload["changed"]) == ["preferred_language", "time_zone"]
    with pytest.raises(DomainError, match="time zone"):
        cases.participant_settings_update(
            actor=cast.facilitator, place=kea, time_zone="Mars/Olympus", preferred_language="en"
        )
    with pytest.raises(DomainError, match="language"):
        cases.participant_settings_update(
            actor=cast.facilitator, place=kea, time_zone="UTC", preferred_language="xx"
        )
    for actor in (cast.coordinator, kea.user, cast.other_program_facilitator):
        with pytest.raises(DomainError, match="Only a facilitator of this case"):
            cases.participant_settings_update(
                actor=actor, place=kea, time_zone="UTC", preferred_language="en"
            )
    # Nothing changed, nothing recorded.
    cases.participant_settings_update(
        actor=cast.facilitator, place=kea, time_zone="Pacific/Auckland", preferred_language="mi"
    )
    assert AuditEvent.objects.filter(code="participant.settings_changed").count() == 1


def test_inv_privacy_a_person_chooses_whether_their_side_may_see_them(cast, school):
    kea, tui = school.responsible[:2]
    snap = lambda: consent_snapshot(Case.objects.select_related("program").get(pk=school.case.pk))  # noqa: E731
    assert not rules.visible_to(snap(), kea, tui)
    consent_services.same_side_visibility_set(actor=kea.user, place=kea, seen=True)
    assert not rules.visible_to(snap(), _fresh(kea), _fresh(tui))  # only when both agreed
    consent_services.same_side_visibility_set(actor=tui.user, place=tui, seen=True)
    assert rules.visible_to(snap(), _fresh(kea), _fresh(tui))
    assert AuditEvent.objects.filter(code="participant.visibility_changed").count() == 2
    with pytest.raises(DomainError):
        consent_services.same_side_visibility_set(actor=kea.user, place=tui, seen=False)
    with pytest.raises(DomainError):
        consent_services.same_side_visibility_set(actor=cast.facilitator, place=tui, seen=False)


def test_inv_voluntary_someone_already_off_their_path_is_not_announced_twice(cast, breach):
    aspen, falcon = breach.harmed[0], breach.responsible[0]
    consent_services.participant_pause(actor=aspen.user, place=aspen)
    Notice.objects.all().delete()
    builders.stop(aspen)  # on a break, and now stopping too
    assert _told(falcon) == []
    assert _told(facilitator_place(breach.case, cast.facilitator)) == [("support_prompt", aspen.pk)]


def test_inv_voluntary_a_side_emptied_by_deletion_keeps_the_case_paused(cast):
    """The only person responsible asks for their information to be deleted: their place ends, so the side
    has no place left at all. The case pauses, and staff cannot resume it with nobody on that side."""
    from mend.rights import services as rights  # layering: tests may reach any app

    pair = builders.prepared_case(
        program=cast.program, facilitator=cast.facilitator, harmed=("Sorrel",), responsible=("Quill",)
    )
    rights.participant_data_delete(actor=pair.responsible[0].user, place=pair.responsible[0])
    assert _stage(pair.case) == "paused"
    with pytest.raises(Conflict, match="at least one person responsible taking part"):
        cases.case_transition(actor=cast.facilitator, case=pair.case, action="resume")


def test_a_case_paused_before_anyone_was_invited_can_resume(cast):
    case = cases.case_create(
        actor=cast.facilitator,
        program=cast.program,
        jurisdictions=["NZ"],
        facilitator=cast.facilitator,
        harm_category="fraud",
        referral_source="self",
    )
    cases.case_transition(actor=cast.facilitator, case=case, action="accept_referral")
    cases.case_transition(actor=cast.facilitator, case=case, action="pause")
    assert cases.case_transition(actor=cast.facilitator, case=case, action="resume").stage == "intake"


def test_ending_a_break_while_still_stopped_tells_the_facilitators_nothing(cast, breach):
    """Back from a break but still without consent to take part: not back on their path, so nobody is told
    they are ready to continue."""
    aspen = breach.harmed[0]
    consent_services.participant_pause(actor=aspen.user, place=aspen)
    builders.stop(aspen)
    Notice.objects.all().delete()
    consent_services.participant_resume(actor=aspen.user, place=aspen)
    assert _standing(aspen) == rules.STOPPED
    assert _told(facilitator_place(breach.case, cast.facilitator)) == []
