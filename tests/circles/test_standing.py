"""The rules of standing circles: who starts one, who may join (volunteers only when vetted, a circle of
support and accountability with one core member and at most six volunteers, nobody from the same case),
pseudonyms, meetings the keeper runs, closing; every change audited with ids and flags only."""

import zoneinfo
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from mend.audit.models import AuditEvent
from mend.cases.models import Role
from mend.circles import standing
from mend.circles.models import Circle, CircleMember, Vetting
from mend.core.errors import Conflict, DomainError
from mend.meetings.models import Meeting, MeetingStatus
from tests.builders import join
from tests.circles.builders import (
    CORE_NAME,
    VOLUNTEER_NAME,
    add,
    cosa,
    meeting,
    more_volunteers,
    new_circle,
    vet,
)

# Starting a circle.


def test_it_starts_a_circle_of_support_and_accountability_for_a_year_by_default(cast):
    circle = new_circle(cast, case=cast.case)
    assert circle.kind == "cosa"
    assert circle.keeper == cast.facilitator
    assert circle.ends_on == standing.add_months(circle.starts_on, 12)
    event = AuditEvent.objects.get(code="circle.created")
    assert event.payload == {"kind": "cosa", "keeper": cast.facilitator.pk, "case": cast.case.pk}
    assert event.program_id == cast.program.pk


@pytest.mark.parametrize(("months", "ok"), [(11, False), (12, True), (18, True), (19, False)])
def test_a_circle_of_support_and_accountability_runs_12_to_18_months(cast, months, ok):
    today = timezone.localdate()
    ends_on = standing.add_months(today, months)
    if ok:
        assert new_circle(cast, ends_on=ends_on).ends_on == ends_on
        return
    with pytest.raises(DomainError, match="12 to 18 months") as refused:
        new_circle(cast, ends_on=ends_on)
    assert refused.value.field == "ends_on"


def test_a_circle_of_support_and_accountability_meets_weekly(cast):
    with pytest.raises(DomainError, match="every week"):
        new_circle(cast, meets_every_days=14)
    assert new_circle(cast, kind="survivor_peer", meets_every_days=14).meets_every_days == 14


def test_a_facilitator_starts_only_circles_they_keep(cast):
    own = new_circle(cast, actor=cast.facilitator, kind="survivor_peer")
    assert own.keeper == cast.facilitator
    with pytest.raises(DomainError, match="keep yourself"):
        new_circle(cast, actor=cast.facilitator, keeper=cast.other_facilitator_same_program)


@pytest.mark.parametrize("who", ["volunteer", "other_program_facilitator"])
def test_volunteers_and_other_programs_cannot_start_a_circle(cast, who):
    with pytest.raises(DomainError, match="Only the program's coordinators and facilitators"):
        new_circle(cast, actor=getattr(cast, who), keeper=getattr(cast, who))
    assert not Circle.objects.exists()


def test_the_keeper_is_one_of_the_programs_facilitating_staff(cast):
    for keeper in (cast.volunteer, cast.other_program_facilitator, cast.responsible.user):
        with pytest.raises(DomainError, match="keeper") as refused:
            new_circle(cast, keeper=keeper)
        assert refused.value.field == "keeper"


def test_the_case_it_grows_from_is_one_the_starter_runs(cast):
    with pytest.raises(DomainError, match="case of this program that you run"):
        new_circle(
            cast,
            actor=cast.other_facilitator_same_program,
            keeper=cast.other_facilitator_same_program,
            case=cast.case,
        )


# Members: volunteers only when vetted.


def test_a_vetted_volunteer_joins_under_a_pseudonym(cast):
    circle = new_circle(cast)
    vet(cast)
    member = add(cast, circle, cast.volunteer, "volunteer", "  Sage  ")
    assert (member.role, member.name, member.time_zone) == ("volunteer", "Sage", cast.volunteer.time_zone)
    event = AuditEvent.objects.get(code="circle.member_added")
    assert event.payload == {"circle": circle.pk, "role": "volunteer"}


@pytest.mark.parametrize(
    ("trained", "checked_days_ago", "words"),
    [
        (False, 100, "their training is not recorded as completed yet"),
        (True, None, "there is no background check on record for them"),
        (True, 3 * 366 + 1, "their last background check was more than three years ago"),
    ],
)
def test_a_volunteer_who_is_not_vetted_is_refused_in_words(cast, trained, checked_days_ago, words):
    circle = new_circle(cast)
    vet(cast, trained=trained, checked_days_ago=checked_days_ago)
    with pytest.raises(Conflict) as refused:
        add(cast, circle, cast.volunteer, "volunteer", VOLUNTEER_NAME)
    assert refused.value.message == (
        f"Vee Volunteer cannot join as a volunteer yet: {words}. Record their vetting first."
    )
    assert not CircleMember.objects.exists()


def test_a_volunteer_with_no_vetting_at_all_is_refused(cast):
    with pytest.raises(Conflict, match="their training is not recorded as completed yet"):
        add(cast, new_circle(cast), cast.volunteer, "volunteer", VOLUNTEER_NAME)


def test_a_background_check_just_under_three_years_old_still_counts(cast):
    circle = new_circle(cast)
    today = timezone.localdate()
    standing.vetting_record(
        actor=cast.coordinator,
        program=cast.program,
        user=cast.volunteer,
        training_completed_on=today,
        background_checked_on=standing.add_months(today, -36),
    )
    assert add(cast, circle, cast.volunteer, "volunteer", VOLUNTEER_NAME).role == "volunteer"


@pytest.mark.parametrize("who", ["other_facilitator_same_program", "coordinator"])
def test_only_the_programs_volunteers_join_as_volunteers(cast, who):
    with pytest.raises(DomainError, match="Only the program's volunteers"):
        add(cast, new_circle(cast), getattr(cast, who), "volunteer", "Birch")


def test_a_person_taking_part_cannot_join_as_a_volunteer(cast):
    with pytest.raises(DomainError, match="Only the program's volunteers"):
        add(cast, new_circle(cast), cast.responsible.user, "volunteer", "Birch")


# Members: the shape of each kind of circle.


def test_a_circle_of_support_and_accountability_has_exactly_one_core_member(cast):
    found = cosa(cast)
    other_case_responsible = _responsible_of_another_case(cast, "Heron")
    with pytest.raises(Conflict, match="already has its core member"):
        add(cast, found.circle, other_case_responsible, "core", "Linden")
    standing.member_remove(actor=cast.coordinator, member=found.core)
    assert add(cast, found.circle, other_case_responsible, "core", "Linden").role == "core"


def test_a_circle_of_support_and_accountability_has_at_most_six_volunteers(cast):
    found = cosa(cast)
    for number, user in enumerate(more_volunteers(cast, 6), start=1):
        if number <= 5:
            add(cast, found.circle, user, "volunteer", f"Helper {number}")
            continue
        with pytest.raises(Conflict, match="at most six volunteers"):
            add(cast, found.circle, user, "volunteer", f"Helper {number}")
    assert found.circle.members.filter(role="volunteer", left_at__isnull=True).count() == 6


def test_the_core_member_is_someone_who_was_responsible_in_a_case(cast):
    circle = new_circle(cast)
    with pytest.raises(DomainError, match="as: person responsible") as refused:
        add(cast, circle, cast.harmed.user, "core", "Linden")
    assert refused.value.field == "person"


def test_a_survivor_peer_circle_never_takes_a_person_responsible(cast):
    circle = new_circle(cast, kind="survivor_peer", name="Thursday peers")
    with pytest.raises(DomainError, match="as: person harmed"):
        add(cast, circle, cast.responsible.user, "peer", "Linden")
    assert add(cast, circle, cast.harmed.user, "peer", "Linden").role == "peer"


def test_a_kind_of_circle_offers_only_its_own_places(cast):
    circle = new_circle(cast, kind="survivor_peer", name="Thursday peers")
    with pytest.raises(DomainError, match="no place for a core member") as refused:
        add(cast, circle, cast.harmed.user, "core", "Linden")
    assert refused.value.field == "role"


def test_people_from_the_same_case_never_meet_in_a_circle(cast):
    circle = new_circle(cast, kind="blended", name="Open circle")
    add(cast, circle, cast.harmed.user, "peer", "Linden")
    with pytest.raises(Conflict, match="Someone from this person's case is already in this circle"):
        add(cast, circle, cast.responsible.user, "peer", "Birch")
    assert add(cast, circle, _responsible_of_another_case(cast, "Heron"), "peer", "Birch").role == "peer"


def test_a_facilitator_adds_only_people_from_cases_they_run(cast):
    circle = new_circle(
        cast, actor=cast.other_facilitator_same_program, keeper=cast.other_facilitator_same_program
    )
    with pytest.raises(DomainError, match="Choose someone who took part"):
        add(cast, circle, cast.responsible.user, "core", CORE_NAME, actor=cast.other_facilitator_same_program)


def test_names_in_the_circle_are_pseudonyms(cast):
    circle = new_circle(cast)
    vet(cast)
    for name, words in (
        ("", "Give the name"),
        ("x" * 41, "at most 40 characters"),
        ("vee volunteer", "not the person's own name"),
    ):
        with pytest.raises(DomainError, match=words) as refused:
            add(cast, circle, cast.volunteer, "volunteer", name)
        assert refused.value.field == "name"
    add(cast, circle, cast.responsible.user, "core", "Sage")
    with pytest.raises(DomainError, match="already goes by that name"):
        add(cast, circle, cast.volunteer, "volunteer", "sage")


def test_nobody_joins_twice_and_the_keeper_is_not_a_member(cast):
    found = cosa(cast)
    with pytest.raises(Conflict, match="already in the circle"):
        add(cast, found.circle, cast.volunteer, "volunteer", "Another")
    with pytest.raises(DomainError, match="keeper runs the circle"):
        add(cast, found.circle, cast.facilitator, "volunteer", "Keeper")


def test_only_the_keeper_and_coordinators_change_the_members(cast):
    found = cosa(cast)
    for who in ("other_facilitator_same_program", "volunteer", "other_program_facilitator"):
        with pytest.raises(DomainError, match="Only the circle's keeper or the program's coordinators"):
            standing.member_remove(actor=getattr(cast, who), member=found.volunteer)
    standing.member_remove(actor=cast.facilitator, member=found.volunteer)


def test_a_member_who_leaves_leaves_the_meetings_ahead_too(cast):
    found = cosa(cast)
    ahead = meeting(cast, found.circle, [found.core, found.volunteer])
    standing.member_remove(actor=cast.facilitator, member=found.volunteer)
    found.volunteer.refresh_from_db()
    assert found.volunteer.left_at is not None
    assert list(ahead.member_attendees.all()) == [found.core]
    event = AuditEvent.objects.get(code="circle.member_removed")
    assert event.payload == {"circle": found.circle.pk, "role": "volunteer"}
    with pytest.raises(Conflict, match="already left"):
        standing.member_remove(actor=cast.facilitator, member=found.volunteer)


# Vetting.


def test_coordinators_record_vetting_with_flags_only_in_the_audit(cast):
    vetting = vet(cast, trained=False, checked_days_ago=10)
    assert vetting.training_completed_on is None
    again = vet(cast)
    assert again.pk == vetting.pk and again.training_completed_on is not None
    assert Vetting.objects.count() == 1
    payloads = list(AuditEvent.objects.filter(code="vetting.recorded").values_list("payload", flat=True))
    assert payloads == [
        {"volunteer": cast.volunteer.pk, "trained": False, "checked": True},
        {"volunteer": cast.volunteer.pk, "trained": True, "checked": True},
    ]


@pytest.mark.parametrize("who", ["facilitator", "volunteer", "other_program_facilitator"])
def test_only_coordinators_and_admins_record_vetting(cast, who):
    with pytest.raises(DomainError, match="Only the program's coordinators"):
        standing.vetting_record(
            actor=getattr(cast, who),
            program=cast.program,
            user=cast.volunteer,
            training_completed_on=timezone.localdate(),
            background_checked_on=timezone.localdate(),
        )


def test_vetting_is_for_volunteers_and_dates_that_have_passed(cast):
    today = timezone.localdate()
    with pytest.raises(DomainError, match="one of the program's volunteers"):
        standing.vetting_record(
            actor=cast.admin,
            program=cast.program,
            user=cast.facilitator,
            training_completed_on=today,
            background_checked_on=today,
        )
    with pytest.raises(DomainError, match="has passed") as refused:
        standing.vetting_record(
            actor=cast.admin,
            program=cast.program,
            user=cast.volunteer,
            training_completed_on=today,
            background_checked_on=today + timedelta(days=1),
        )
    assert refused.value.field == "background_checked_on"


# Meetings.


def test_a_meeting_is_scheduled_in_its_time_zone_with_the_members_chosen(cast):
    found = cosa(cast)
    day = timezone.localdate() + timedelta(days=3)
    session = standing.circle_meeting_schedule(
        actor=cast.facilitator,
        circle=found.circle,
        format="video",
        starts_at=datetime.combine(day, time(18, 30)),
        time_zone="Pacific/Auckland",
        members=[found.core, found.volunteer],
    )
    assert (session.kind, session.circle, session.case) == ("circle", found.circle, None)
    local = timezone.localtime(session.starts_at, timezone=zoneinfo.ZoneInfo("Pacific/Auckland"))
    assert (local.date(), local.hour, local.minute) == (day, 18, 30)
    assert set(session.member_attendees.all()) == {found.core, found.volunteer}
    event = AuditEvent.objects.get(code="circle.meeting_scheduled")
    assert event.payload == {"circle": found.circle.pk, "format": "video", "attendees": 2}


def test_a_circle_of_support_and_accountability_meets_with_its_core_member(cast):
    found = cosa(cast)
    with pytest.raises(DomainError, match="meets with its core member") as refused:
        meeting(cast, found.circle, [found.volunteer])
    assert refused.value.field == "members"


def test_a_meeting_is_for_the_circles_own_members_and_in_the_future(cast):
    found = cosa(cast)
    other = new_circle(cast, kind="survivor_peer", name="Thursday peers")
    stranger = add(cast, other, cast.harmed.user, "peer", "Linden")
    with pytest.raises(DomainError, match="from the people in this circle"):
        meeting(cast, found.circle, [found.core, stranger])
    with pytest.raises(DomainError, match="in the future") as refused:
        meeting(cast, found.circle, [found.core], after=-timedelta(minutes=5))
    assert refused.value.field == "starts_at"
    with pytest.raises(DomainError, match="15 minutes to 8 hours"):
        meeting(cast, found.circle, [found.core], minutes=600)


def test_a_volunteer_whose_vetting_lapsed_cannot_attend(cast):
    found = cosa(cast)
    vet(cast, checked_days_ago=4 * 365)
    with pytest.raises(Conflict, match="Sage cannot attend as a volunteer now"):
        meeting(cast, found.circle, [found.core, found.volunteer])
    assert meeting(cast, found.circle, [found.core]).pk


def test_the_keeper_must_still_facilitate_for_every_meeting(cast):
    found = cosa(cast)
    cast.facilitator.memberships.update(role="volunteer")
    with pytest.raises(Conflict, match="keeper no longer facilitates"):
        meeting(cast, found.circle, [found.core], actor=cast.coordinator)


# Closing.


def test_closing_keeps_the_record_and_cancels_the_meetings_ahead(cast):
    found = cosa(cast)
    ahead = meeting(cast, found.circle, [found.core, found.volunteer])
    standing.circle_close(actor=cast.facilitator, circle=found.circle)
    found.circle.refresh_from_db()
    assert found.circle.closed_at is not None
    assert Meeting.objects.get(pk=ahead.pk).status == MeetingStatus.CANCELLED
    assert AuditEvent.objects.get(code="circle.closed").payload == {"cancelled": 1}
    with pytest.raises(Conflict, match="closed"):
        add(cast, found.circle, _responsible_of_another_case(cast, "Heron"), "core", "Linden")
    with pytest.raises(Conflict, match="closed"):
        meeting(cast, found.circle, [found.core])
    with pytest.raises(Conflict, match="closed"):
        standing.circle_close(actor=cast.facilitator, circle=found.circle)


def test_audit_payloads_hold_ids_and_flags_never_names(cast):
    found = cosa(cast)
    meeting(cast, found.circle, [found.core, found.volunteer])
    standing.member_remove(actor=cast.coordinator, member=found.volunteer)
    standing.circle_close(actor=cast.coordinator, circle=found.circle)
    events = AuditEvent.objects.filter(
        code__in=[
            "circle.created",
            "circle.member_added",
            "circle.member_removed",
            "circle.closed",
            "vetting.recorded",
            "circle.meeting_scheduled",
        ]
    )
    assert {e.code for e in events} == {
        "circle.created",
        "circle.member_added",
        "circle.member_removed",
        "circle.closed",
        "vetting.recorded",
        "circle.meeting_scheduled",
    }
    for event in events:
        text = str(event.payload)
        for secret in (CORE_NAME, VOLUNTEER_NAME, "Tuesday circle", "Vee Volunteer", "Kestrel"):
            assert secret not in text


def _responsible_of_another_case(cast, pseudonym: str):
    from mend.cases import services as case_services

    case = case_services.case_create(
        actor=cast.coordinator,
        program=cast.program,
        harm_category="fraud",
        jurisdictions=["NZ"],
        referral_source="self",
    )
    return join(actor=cast.coordinator, case=case, role=Role.RESPONSIBLE_PARTY, pseudonym=pseudonym).user
