"""A meeting's video room, the changes it makes: opening and ending from the room, a break for everyone, the
side room, and the hooks that remove a person at once (they withdrew or took a break) or make every socket
check its person again. Each change is announced to the room once it commits (mend.meetings.room_state)."""

from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts.models import User
from mend.audit.codes import AuditCode
from mend.cases.models import Participant
from mend.core.errors import Conflict, DomainError
from mend.meetings import rules
from mend.meetings import services as meetings
from mend.meetings.models import Meeting
from mend.meetings.room_state import SIDE_ROOM_SECONDS, publish_after_commit, room_key


def _facilitator_only(session: Meeting, person) -> None:
    if not rules.facilitates(session, person):
        raise DomainError(_("Only the facilitator can do this."))


@transaction.atomic
def meeting_open_in_room(*, actor: User, session: Meeting, person) -> Meeting:
    """The facilitator's joining opens a meeting not yet open (mend.meetings.services.meeting_open, which
    checks every guard); the people waiting in the room are told."""
    _facilitator_only(session, person)
    session = meetings.meeting_open(actor=actor, session=session, person=person)
    publish_after_commit(session.pk, {"type": "meeting.opened"})
    return session


@transaction.atomic
def meeting_end_in_room(*, actor: User, session: Meeting, person) -> Meeting:
    _facilitator_only(session, person)
    session = meetings.meeting_end(actor=actor, session=session, person=person)
    publish_after_commit(
        session.pk, {"type": "meeting.ended"}, before=lambda: cache.delete(room_key(session.pk, "side"))
    )
    return session


@transaction.atomic
def meeting_break_set(*, actor: User, session: Meeting, person, on: bool) -> Meeting:
    """A pause for everyone: each browser mutes its microphone and camera and shows a break screen."""
    _facilitator_only(session, person)
    session = (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("case__program", "circle__program")
        .get(pk=session.pk)
    )
    if session.opened_at is None or session.ended_at is not None:
        raise Conflict(_("This meeting is not open."))
    if session.on_break == on:
        raise Conflict(_("The meeting is already paused.") if on else _("The meeting is not paused."))
    session.on_break = on
    session.save(update_fields=["on_break"])
    audit.record(
        actor=actor,
        code=AuditCode.SESSION_BREAK_STARTED if on else AuditCode.SESSION_BREAK_ENDED,
        target=session,
        case=session.case,
        program=None if session.case_id else session.circle.program,
    )
    publish_after_commit(session.pk, {"type": "meeting.break", "on": on})
    return session


@transaction.atomic
def meeting_side_room(*, actor: User, session: Meeting, person, people: list[str]) -> list[str]:
    """Moves people into a private side room (a caucus), or everyone back when `people` is empty. Those in
    the side room connect only with each other and the facilitators; the main room drops them meanwhile."""
    _facilitator_only(session, person)
    session = Meeting.objects.select_related("case__program", "circle__program", "circle__keeper").get(
        pk=session.pk
    )
    if session.opened_at is None or session.ended_at is not None:
        raise Conflict(_("This meeting is not open."))
    everyone = rules.attendees(session)
    movable = {rules.person_id(p) for p in everyone if not rules.facilitates(session, p)}
    if any(pid not in movable for pid in people):
        raise DomainError(_("Choose people attending this meeting. Facilitators are in both rooms already."))
    if people and set(people) == movable:
        raise DomainError(_("Leave at least one person in the main room."))
    audit.record(
        actor=actor,
        code=AuditCode.SESSION_SIDE_ROOM if people else AuditCode.SESSION_SIDE_ROOM_ENDED,
        target=session,
        case=session.case,
        program=None if session.case_id else session.circle.program,
        data={"people": len(people)},
    )

    def store():
        if people:
            cache.set(room_key(session.pk, "side"), sorted(people), SIDE_ROOM_SECONDS)
        else:
            cache.delete(room_key(session.pk, "side"))

    publish_after_commit(session.pk, {"type": "meeting.caucus"}, before=store)
    return sorted(people)


def _open_meetings_of(place: Participant):
    return Meeting.objects.filter(attendees=place, opened_at__isnull=False, ended_at__isnull=True)


def meeting_remove_person(*, place: Participant, session: Meeting | None = None) -> int:
    """The removal hook: a person who withdraws or takes a break leaves every open meeting at once. After
    the change commits, their presence goes and the room is told: their sockets close, and everyone else's
    browser closes its connection to them. Returns the number of meetings they were removed from."""
    sessions = [session] if session is not None else list(_open_meetings_of(place))
    pid = rules.person_id(place)
    for meeting in sessions:
        presence = room_key(meeting.pk, "peer", pid)
        publish_after_commit(
            meeting.pk, {"type": "meeting.remove", "id": pid}, before=lambda key=presence: cache.delete(key)
        )
    return len(sessions)


def meetings_recheck(*, case=None, session: Meeting | None = None) -> int:
    """After any change that may end someone's place in a live meeting (consent narrowed, a choice changed,
    the meeting opened, ended, cancelled or held elsewhere): every socket in the open meetings concerned
    checks its person again, and leaves if they may not stay; sockets waiting to join try again."""
    if session is not None:
        sessions = [session]
    elif case is not None:
        sessions = list(Meeting.objects.filter(case=case, opened_at__isnull=False, ended_at__isnull=True))
    else:
        sessions = []
    for meeting in sessions:
        publish_after_commit(meeting.pk, {"type": "meeting.recheck"})
    return len(sessions)
