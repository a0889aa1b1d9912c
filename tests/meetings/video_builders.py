"""Meetings under way for the tests of the video room: a dialogue in the shared cast's case whose time has
come (opened by its facilitator, or not yet), and a small circle meeting."""

from datetime import timedelta

from django.utils import timezone

from mend.circles.models import Circle, CircleMember
from mend.meetings import scheduling
from mend.meetings.models import Meeting
from tests import builders
from tests.builders import consent, prepare_for_encounter


def facilitator_place(cast):
    """The cast's facilitator's place in the cast's case."""
    return builders.facilitator_place(cast.case, cast.facilitator)


def live_dialogue(cast, *, opened: bool = True, supporter: bool = False) -> Meeting:
    """The person harmed and the person responsible, prepared to meet directly, with their facilitator
    (and the person harmed's supporter, if asked); scheduled through the guards, then moved to a time that
    has come, as if the clock had run on."""
    prepare_for_encounter(cast, mode="direct")
    people = [facilitator_place(cast), cast.harmed, cast.responsible]
    if supporter:
        consent(cast.supporter, "take_part", "facilitator_contact")
        consent(cast.harmed, "supporters_present")
        people.append(cast.supporter)
    session = scheduling.meeting_schedule(
        actor=cast.facilitator,
        case=cast.case,
        kind="dialogue",
        format="video",
        starts_at=timezone.now() + timedelta(hours=1),
        time_zone="UTC",
        attendees=people,
    )
    now = timezone.now()
    Meeting.objects.filter(pk=session.pk).update(
        starts_at=now - timedelta(minutes=5), opened_at=now - timedelta(minutes=1) if opened else None
    )
    session.refresh_from_db()
    return session


def circle_meeting(cast, *, opened: bool = True) -> tuple[Meeting, CircleMember, CircleMember]:
    """A circle kept by the cast's facilitator, with the person responsible and the volunteer in it, meeting
    now. Made directly: who may join a circle is not the subject here."""
    circle = Circle.objects.create(
        program=cast.program,
        kind="cosa",
        name="Tuesday circle",
        keeper=cast.facilitator,
        starts_on=timezone.localdate(),
        created_by=cast.coordinator,
    )
    core = CircleMember.objects.create(circle=circle, user=cast.responsible.user, role="core", name="Rowan")
    volunteer = CircleMember.objects.create(circle=circle, user=cast.volunteer, role="volunteer", name="Sage")
    now = timezone.now()
    session = Meeting.objects.create(
        circle=circle,
        kind="circle",
        format="video",
        starts_at=now - timedelta(minutes=5),
        time_zone="UTC",
        opened_at=now - timedelta(minutes=1) if opened else None,
        created_by=cast.facilitator,
    )
    session.member_attendees.set([core, volunteer])
    return session, core, volunteer
