"""Invariants 1, 2, 3 and 5: voluntary, survivor-centered, acknowledgment and readiness, neutrality."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mend.accounts.credentials import new_sign_in_name
from mend.accounts.keys import unknown_credentials
from mend.assessments import services as assessments
from mend.cases import services as cases
from mend.cases.models import Notice
from mend.consent import services as consent_services
from mend.consent.models import Consent, ConsentText
from mend.core.errors import Conflict, DomainError
from mend.meetings import scheduling
from mend.meetings.models import Meeting
from tests.builders import consent, prepare_for_encounter


def _dialogue(cast, *attendees, days=3):
    return scheduling.meeting_schedule(
        actor=cast.facilitator,
        case=cast.case,
        kind="dialogue",
        format="video",
        starts_at=timezone.now() + timedelta(days=days),
        time_zone="Pacific/Auckland",
        attendees=[cast.case.participants.get(user=cast.facilitator), *attendees],
    )


# -- voluntary ---------------------------------------------------------------------------------------------


def test_inv_voluntary_consent_records_the_exact_text_seen(cast):
    consent(cast.harmed, "take_part")
    record = Consent.objects.get(participant=cast.harmed, scope="take_part")
    assert record.text_sha256 == record.text.sha256 and record.withdrawn_at is None


def test_inv_voluntary_consent_to_changed_wording_is_refused(cast):
    old = ConsentText.objects.filter(program=cast.program, scope="take_part", language="en").latest("version")
    consent_services.consent_text_update(
        actor=cast.admin,
        program=cast.program,
        scope="take_part",
        text="I choose to take part, and I can stop whenever I want to.",
        language="en",
    )
    with pytest.raises(Conflict, match="changed"):
        consent_services.consent_give(
            actor=cast.harmed.user, place=cast.harmed, scope="take_part", text_sha256=old.sha256
        )
    assert not Consent.objects.filter(participant=cast.harmed).exists()


def test_inv_voluntary_nobody_gives_consent_for_someone_else(cast):
    text = ConsentText.objects.filter(program=cast.program, scope="take_part", language="en").latest(
        "version"
    )
    with pytest.raises(DomainError):
        consent_services.consent_give(
            actor=cast.facilitator, place=cast.harmed, scope="take_part", text_sha256=text.sha256
        )


def test_inv_voluntary_no_encounter_without_current_consent(cast):
    prepare_for_encounter(cast)
    consent_services.consent_withdraw(
        actor=cast.responsible.user, place=cast.responsible, scope="direct_meeting"
    )
    with pytest.raises(Conflict, match=r"consent of the person responsible \(Kestrel\) to meet directly"):
        cases.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")


def test_inv_voluntary_withdrawal_is_one_action_and_pauses_at_once(cast):
    prepare_for_encounter(cast)
    session = _dialogue(cast, cast.harmed, cast.responsible)
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="take_part")
    cast.case.refresh_from_db()
    session.refresh_from_db()
    assert cast.case.stage == "paused" and cast.case.paused_from == "preparation"
    assert session.status == "cancelled"
    assert not Meeting.objects.filter(attendees=cast.harmed, status="scheduled").exists()


def test_inv_voluntary_others_hear_only_that_the_process_is_paused(cast):
    prepare_for_encounter(cast)
    Notice.objects.all().delete()
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="take_part")
    to_responsible = Notice.objects.get(recipient=cast.responsible)
    assert to_responsible.kind == "process_paused" and to_responsible.about is None
    to_facilitator = Notice.objects.get(recipient__user=cast.facilitator)
    assert to_facilitator.kind == "support_prompt" and to_facilitator.about == cast.harmed
    assert not Notice.objects.filter(recipient=cast.harmed).exists()


def test_inv_voluntary_no_session_while_a_party_has_withdrawn(cast):
    prepare_for_encounter(cast)
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="take_part")
    with pytest.raises(Conflict, match=r"consent to take part from the person harmed \(Wren\)"):
        _dialogue(cast, cast.harmed, cast.responsible)


def test_inv_voluntary_a_break_holds_sessions_until_a_facilitator_brings_them_back(cast):
    prepare_for_encounter(cast)
    session = _dialogue(cast, cast.harmed, cast.responsible)
    consent_services.participant_pause(actor=cast.responsible.user, place=cast.responsible)
    session.refresh_from_db()
    assert session.status == "on_hold"
    with pytest.raises(Conflict, match="come back from their break"):
        scheduling.meeting_restore(actor=cast.facilitator, session=session)
    consent_services.participant_resume(actor=cast.responsible.user, place=cast.responsible)
    cases.case_transition(actor=cast.facilitator, case=cast.case, action="resume")
    assert scheduling.meeting_restore(actor=cast.facilitator, session=session).status == "scheduled"


def test_inv_voluntary_the_case_does_not_resume_while_a_party_is_on_a_break(cast):
    """Wren is the only person harmed: her break leaves her side empty, so the case paused and does not
    resume until someone harmed is back on their path."""
    prepare_for_encounter(cast)
    consent_services.participant_pause(actor=cast.harmed.user, place=cast.harmed)
    with pytest.raises(Conflict, match=r"at least one person harmed taking part"):
        cases.case_transition(actor=cast.facilitator, case=cast.case, action="resume")


def test_inv_voluntary_consent_can_be_given_again_after_withdrawal(cast):
    consent(cast.harmed, "take_part")
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="take_part")
    consent(cast.harmed, "take_part")
    assert Consent.objects.filter(participant=cast.harmed, scope="take_part").count() == 2
    assert Consent.objects.filter(participant=cast.harmed, scope="take_part", withdrawn_at=None).count() == 1


# -- survivor-centered -------------------------------------------------------------------------------------


def test_inv_survivor_centered_only_the_harmed_party_chooses(cast):
    with pytest.raises(DomainError):
        consent_services.choices_update(
            actor=cast.responsible.user,
            place=cast.responsible,
            mode="direct",
            supporters_may_attend=True,
            community_may_attend=True,
            progress_updates="never",
        )


def test_inv_survivor_centered_an_indirect_choice_rules_out_a_meeting(cast):
    prepare_for_encounter(cast, mode="indirect")
    with pytest.raises(Conflict, match="chose to communicate through the facilitator"):
        _dialogue(cast, cast.harmed, cast.responsible)


def test_inv_survivor_centered_the_responsible_party_learns_only_the_channel(cast):
    consent_services.choices_update(
        actor=cast.harmed.user,
        place=cast.harmed,
        mode="indirect",
        supporters_may_attend=False,
        community_may_attend=False,
        progress_updates="every_n_weeks",
        progress_every_weeks=4,
    )
    notices = list(Notice.objects.filter(recipient=cast.responsible))
    assert [n.kind for n in notices] == ["mode_indirect"]


def test_inv_survivor_centered_supporters_attend_only_if_allowed(cast):
    prepare_for_encounter(cast)
    consent(cast.supporter, "take_part")
    consent(cast.harmed, "supporters_present")
    consent_services.choices_update(
        actor=cast.harmed.user,
        place=cast.harmed,
        mode="direct",
        supporters_may_attend=False,
        community_may_attend=False,
        progress_updates="never",
    )
    with pytest.raises(Conflict, match=r"to allow the supporter \(Alder\) to attend"):
        _dialogue(cast, cast.harmed, cast.responsible, cast.supporter)


def test_inv_survivor_centered_narrowing_a_choice_cancels_meetings_that_no_longer_fit(cast):
    prepare_for_encounter(cast)
    session = _dialogue(cast, cast.harmed, cast.responsible)
    consent_services.choices_update(
        actor=cast.harmed.user,
        place=cast.harmed,
        mode="indirect",
        supporters_may_attend=False,
        community_may_attend=False,
        progress_updates="never",
    )
    session.refresh_from_db()
    assert session.status == "cancelled"


# -- acknowledgment and readiness ----------------------------------------------------------------------------


def test_inv_acknowledgment_names_everything_missing(cast):
    for action in ("accept_referral", "start_assessment", "start_preparation"):
        cases.case_transition(actor=cast.facilitator, case=cast.case, action=action)
    with pytest.raises(Conflict) as refused:
        cases.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    message = refused.value.message
    assert message.startswith("Waiting for: ")
    for expected in [
        "the person harmed (Wren) to choose how to take part",
        "consent to take part from the person responsible (Kestrel)",
        "acknowledgment of the harm by the person responsible (Kestrel)",
        "readiness assessment of the person responsible (Kestrel)",
        "readiness assessment of the person harmed (Wren)",
        "safety plan for the person harmed (Wren)",
        "a conflict-of-interest declaration by Fen Facilitator",
    ]:
        assert expected in message


def test_inv_acknowledgment_must_be_confirmed_by_a_facilitator(cast):
    assessments.acknowledgment_submit(
        actor=cast.responsible.user,
        place=cast.responsible,
        text="I want to say it, more fully, in my own words now.",
    )
    for action in ("accept_referral", "start_assessment", "start_preparation"):
        cases.case_transition(actor=cast.facilitator, case=cast.case, action=action)
    with pytest.raises(Conflict, match="confirmation of the acknowledgment"):
        cases.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")


def test_inv_acknowledgment_a_narrowed_consent_stops_that_persons_contact_not_the_encounter(cast):
    """Since issue 16 one person's narrower consent stops what involves them (their meetings of both sides),
    not the whole encounter; the encounter pauses of its own accord only when a side is empty."""
    prepare_for_encounter(cast)
    cases.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="direct_meeting")
    cast.case.refresh_from_db()
    assert cast.case.stage == "encounter"
    with pytest.raises(Conflict, match=r"consent of the person harmed \(Wren\) to meet directly"):
        _dialogue(cast, cast.harmed, cast.responsible)


def test_inv_acknowledgment_an_encounter_pauses_when_a_side_is_empty(cast):
    prepare_for_encounter(cast)
    cases.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="take_part")
    cast.case.refresh_from_db()
    assert cast.case.stage == "paused" and cast.case.paused_from == "encounter"


def test_inv_acknowledgment_a_not_yet_assessment_blocks_the_encounter(cast):
    prepare_for_encounter(cast)
    assessments.assessment_sign_off(
        actor=cast.facilitator,
        place=cast.responsible,
        answers={},
        outcome="not_yet",
        reassess_on=timezone.localdate() + timedelta(days=14),
    )
    with pytest.raises(Conflict, match=r"readiness assessment of the person responsible \(Kestrel\)"):
        cases.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")


def test_inv_acknowledgment_everything_in_place_opens_the_encounter(cast):
    prepare_for_encounter(cast)
    case = cases.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    assert case.stage == "encounter"
    assert _dialogue(cast, cast.harmed, cast.responsible).status == "scheduled"


def test_inv_acknowledgment_only_the_responsible_party_writes_it(cast):
    with pytest.raises(DomainError):
        assessments.acknowledgment_submit(actor=cast.harmed.user, place=cast.responsible, text="x" * 40)


# -- neutrality ------------------------------------------------------------------------------------


def test_inv_neutrality_a_declared_conflict_ends_and_blocks_the_assignment(cast):
    assessments.conflict_declare(
        actor=cast.facilitator, case=cast.case, has_conflict=True, details="I know the family."
    )
    assert not cast.case.participants.filter(user=cast.facilitator, removed_at=None).exists()
    with pytest.raises(Conflict, match="declared a conflict of interest"):
        cases.facilitator_assign(actor=cast.coordinator, case=cast.case, user=cast.facilitator)


def test_inv_neutrality_an_undeclared_facilitator_blocks_the_encounter(cast):
    prepare_for_encounter(cast)
    cases.facilitator_assign(
        actor=cast.coordinator,
        case=cast.case,
        user=cast.other_facilitator_same_program,
        role="co_facilitator",
    )
    with pytest.raises(Conflict, match="a conflict-of-interest declaration by Gil Colleague"):
        cases.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    assessments.conflict_declare(
        actor=cast.other_facilitator_same_program, case=cast.case, has_conflict=False
    )
    assert (
        cases.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter").stage
        == "encounter"
    )


def test_inv_neutrality_a_conflict_needs_a_short_description(cast):
    with pytest.raises(DomainError, match="Say briefly"):
        assessments.conflict_declare(actor=cast.facilitator, case=cast.case, has_conflict=True)


def test_it_closes_with_a_reason_and_an_optional_closing_message(cast):
    with pytest.raises(DomainError, match="why the case is closing"):
        cases.case_transition(actor=cast.facilitator, case=cast.case, action="close")
    case = cases.case_transition(
        actor=cast.facilitator,
        case=cast.case,
        action="close",
        closure_reason="referred_elsewhere",
        send_closing_message=True,
    )
    assert case.closure_reason == "referred_elsewhere"
    assert list(Notice.objects.filter(recipient=cast.harmed).values_list("kind", flat=True)) == [
        "case_closed"
    ]
    assert not Notice.objects.filter(recipient=cast.responsible).exists()


def test_inv_acknowledgment_resuming_into_the_encounter_needs_every_guard_again(cast):
    prepare_for_encounter(cast)
    cases.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    assessments.assessment_sign_off(
        actor=cast.facilitator,
        place=cast.harmed,
        answers={},
        outcome="not_yet",
        reassess_on=timezone.localdate() + timedelta(days=7),
    )
    cast.case.refresh_from_db()
    assert cast.case.stage == "encounter"  # a sign-off no longer pauses it; staff may
    cases.case_transition(actor=cast.facilitator, case=cast.case, action="pause")
    with pytest.raises(Conflict, match=r"readiness assessment of the person harmed \(Wren\)"):
        cases.case_transition(actor=cast.facilitator, case=cast.case, action="resume")


def test_inv_acknowledgment_a_not_yet_sign_off_cancels_the_dialogue_ahead(cast):
    prepare_for_encounter(cast)
    session = _dialogue(cast, cast.harmed, cast.responsible)
    assessments.assessment_sign_off(
        actor=cast.facilitator,
        place=cast.responsible,
        answers={},
        outcome="not_yet",
        reassess_on=timezone.localdate() + timedelta(days=7),
    )
    session.refresh_from_db()
    assert session.status == "cancelled"


def test_inv_acknowledgment_a_new_text_waits_for_the_facilitator_again(cast):
    prepare_for_encounter(cast)
    assessments.acknowledgment_submit(
        actor=cast.responsible.user,
        place=cast.responsible,
        text="I want to take back part of what I said before, and explain.",
    )
    with pytest.raises(Conflict, match="confirmation of the acknowledgment"):
        cases.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")


def test_inv_survivor_centered_a_supporter_from_the_other_side_counts_as_contact(cast):
    prepare_for_encounter(cast, mode="indirect")
    tutor = cases.participant_invite(
        actor=cast.facilitator, case=cast.case, role="supporter", supports=cast.responsible
    )[1]
    user = cases.invitation_accept(
        raw_token=tutor, pseudonym="Rowan", **unknown_credentials(new_sign_in_name())
    )
    place = cast.case.participants.get(user=user)
    consent(place, "take_part")
    with pytest.raises(Conflict, match="they chose to communicate through the facilitator"):
        _dialogue(cast, cast.harmed, place)


def test_inv_voluntary_a_supporter_stepping_back_does_not_pause_the_parties(cast):
    prepare_for_encounter(cast)
    consent(cast.supporter, "take_part")
    Notice.objects.all().delete()
    consent_services.consent_withdraw(actor=cast.supporter.user, place=cast.supporter, scope="take_part")
    cast.case.refresh_from_db()
    assert cast.case.stage == "preparation"
    assert list(Notice.objects.values_list("kind", flat=True)) == ["support_prompt"]


def test_inv_voluntary_a_manual_pause_holds_every_session(cast):
    prepare_for_encounter(cast)
    session = _dialogue(cast, cast.harmed, cast.responsible)
    cases.case_transition(actor=cast.facilitator, case=cast.case, action="pause")
    session.refresh_from_db()
    assert session.status == "on_hold"
