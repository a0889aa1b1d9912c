"""A circle of support and accountability around the cast's person responsible, kept by the cast's
facilitator, with the cast's volunteer vetted and in it; meetings, keys and sealed minutes for it."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from mend.accounts.models import User
from mend.circles import standing
from mend.circles.models import Circle, CircleMember
from mend.core import envelope as env
from mend.meetings.models import Meeting
from tests.builders import make_staff
from tests.dialogue.helpers import give_keys

CORE_NAME = "Rowan"
VOLUNTEER_NAME = "Sage"
MINUTES_TEXT = "We met and talked about the week. Rowan kept to every part of the plan."


@dataclass
class Cosa:
    circle: Circle
    core: CircleMember
    volunteer: CircleMember


def vet(cast, user: User | None = None, *, trained: bool = True, checked_days_ago: int | None = 100):
    today = timezone.localdate()
    return standing.vetting_record(
        actor=cast.coordinator,
        program=cast.program,
        user=user or cast.volunteer,
        training_completed_on=today - timedelta(days=200) if trained else None,
        background_checked_on=None if checked_days_ago is None else today - timedelta(days=checked_days_ago),
    )


def new_circle(cast, kind: str = "cosa", name: str = "Tuesday circle", **kwargs) -> Circle:
    return standing.circle_create(
        actor=kwargs.pop("actor", cast.coordinator),
        program=kwargs.pop("program", cast.program),
        kind=kind,
        name=name,
        keeper=kwargs.pop("keeper", cast.facilitator),
        starts_on=kwargs.pop("starts_on", timezone.localdate()),
        **kwargs,
    )


def add(cast, circle: Circle, user: User, role: str, name: str, actor=None) -> CircleMember:
    return standing.member_add(
        actor=actor or cast.coordinator, circle=circle, user=user, role=role, name=name
    )


def cosa(cast) -> Cosa:
    circle = new_circle(cast, case=cast.case)
    vet(cast)
    core = add(cast, circle, cast.responsible.user, "core", CORE_NAME)
    volunteer = add(cast, circle, cast.volunteer, "volunteer", VOLUNTEER_NAME)
    return Cosa(circle=circle, core=core, volunteer=volunteer)


def more_volunteers(cast, count: int, *, start: int = 1) -> list[User]:
    people = []
    for number in range(start, start + count):
        user = make_staff(
            cast.program, "volunteer", f"vol{number}@riverbend.test", f"Volunteer Number {number}"
        )
        vet(cast, user)
        people.append(user)
    return people


def meeting(
    cast, circle: Circle, members, *, after=timedelta(days=1), minutes: int = 90, actor=None
) -> Meeting:
    return standing.circle_meeting_schedule(
        actor=actor or cast.facilitator,
        circle=circle,
        format="in_person",
        starts_at=timezone.now() + after,
        time_zone="Pacific/Auckland",
        members=list(members),
        duration_minutes=minutes,
    )


def recipients_now(circle: Circle) -> list[env.Recipient]:
    """Whom the server expects minutes to be sealed to, as the page's script asks before sealing."""
    bundles = standing.current_bundles(standing.minutes_readers(circle))
    return [env.Recipient(b.key_id, env.unb64u(b.enc_public)) for b in bundles.values()]


def seal_minutes(session: Meeting, writer: env.KeyPair, *, text: str = MINUTES_TEXT, recipients=None, **kw):
    return env.seal(
        sender=writer,
        conversation=kw.pop("conversation", standing.minutes_conversation(session)),
        content={"text": text},
        recipients=recipients if recipients is not None else recipients_now(session.circle),
        meta=kw.pop("meta", {"kind": "message"}),
        **kw,
    )


def keys_for_readers(cast) -> dict[str, env.KeyPair]:
    """Keys for the keeper, the coordinator and the volunteer, as if each had signed in once."""
    return {who: give_keys(getattr(cast, who)) for who in ("facilitator", "coordinator", "volunteer")}


def circle_for_matrix(cast):
    """For tests/test_permission_matrix.py: the cast's circle (kept by the facilitator; the person
    responsible its core member, the volunteer in it), one meeting ahead and one just past without
    minutes, and an alert for the coordinator. Set up directly, like the matrix's other rows."""
    from types import SimpleNamespace

    from mend.circles.models import StaffAlert

    found = cosa(cast)
    ahead = meeting(cast, found.circle, [found.core, found.volunteer])
    past = Meeting.objects.create(
        circle=found.circle,
        kind="circle",
        format="in_person",
        starts_at=timezone.now() - timedelta(hours=3),
        time_zone="UTC",
        created_by=cast.facilitator,
    )
    past.member_attendees.set([found.core, found.volunteer])
    alert = StaffAlert.objects.create(
        recipient=cast.coordinator,
        program=cast.program,
        kind=StaffAlert.Kind.MINUTES_OVERDUE,
        circle=found.circle,
        session=past,
    )
    return SimpleNamespace(
        circle_id=found.circle.pk,
        member_id=found.volunteer.pk,
        meeting_id=ahead.pk,
        past_meeting_id=past.pk,
        alert_id=alert.pk,
    )
