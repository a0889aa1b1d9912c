"""Scheduling sessions, and what happens to them when someone pauses or withdraws."""

import zoneinfo
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts.models import User
from mend.audit.codes import AuditCode
from mend.cases.models import FACILITATING_ROLES, Case, Participant, Role
from mend.core import validators
from mend.core.errors import Conflict, DomainError
from mend.meetings import room, rules
from mend.meetings.models import Attendance, Meeting, MeetingFormat, MeetingKind, MeetingStatus
from mend.readiness.rules import meeting_items, meeting_missing, side_of
from mend.readiness.snapshot import Snapshot, snapshot_of


def _future(case: Case, statuses=(MeetingStatus.SCHEDULED,)):
    return Meeting.objects.select_for_update(of=("self",)).filter(
        case=case, status__in=statuses, starts_at__gt=timezone.now()
    )


def when_checked(
    *, format: str, starts_at: datetime, time_zone: str, duration_minutes: int, too_long: str
) -> tuple[datetime, str]:
    """The checks every meeting's scheduling makes, of a case or of a circle: where, when (read in the
    time zone given when it has no offset, and in the future) and how long. Returns the start, aware, and
    the time zone's name. `too_long` is the page's own words for a length out of bounds (a case's pages
    say "session", a circle's "meeting": the words stay what each page showed)."""
    if format not in MeetingFormat.values:
        raise DomainError(_("Choose in person or by video."), field="format")
    tz = zoneinfo.ZoneInfo(validators.time_zone(time_zone))
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at, tz)
    if starts_at <= timezone.now():
        raise DomainError(_("Choose a date and time in the future."), field="starts_at")
    if not 15 <= duration_minutes <= 480:
        raise DomainError(too_long, field="duration_minutes")
    return starts_at, tz.key


@transaction.atomic
def meeting_schedule(
    *,
    actor: User,
    case: Case,
    kind: str,
    format: str,
    starts_at: datetime,
    time_zone: str,
    attendees: list[Participant],
    duration_minutes: int = 60,
) -> Meeting:
    """A session is only scheduled while every guard for the people attending holds."""
    if kind not in MeetingKind.values:
        raise DomainError(_("Choose the kind of session."), field="kind")
    starts_at, zone_name = when_checked(
        format=format,
        starts_at=starts_at,
        time_zone=time_zone,
        duration_minutes=duration_minutes,
        too_long=_("A session lasts from 15 minutes to 8 hours."),
    )
    if not attendees or any(p.case_id != case.pk or p.removed_at for p in attendees):
        raise DomainError(_("Choose who attends from the people in this case."), field="attendees")
    case = Case.objects.select_for_update().select_related("program").get(pk=case.pk)
    # Read the people again under the case's lock, so a withdrawal or break at this moment is seen.
    attendees = list(Participant.objects.filter(pk__in=[p.pk for p in attendees], case=case, removed_at=None))
    snap = snapshot_of(case)
    # The interpreters of the parties attending come with them, once those parties agreed to have one.
    joining = rules.interpreters_joining(snap, attendees)
    attendees += joining
    missing = meeting_missing(snap, attendees)
    missing += [item.text for item in rules.interpreter_items(snap, attendees) if item.text not in missing]
    if missing:
        raise Conflict(_("Waiting for: %(items)s.") % {"items": "; ".join(missing)})
    session = Meeting.objects.create(
        case=case,
        kind=kind,
        format=format,
        starts_at=starts_at,
        time_zone=zone_name,
        duration_minutes=duration_minutes,
        created_by=actor,
    )
    session.attendees.set(attendees)
    audit.record(
        actor=actor,
        code=AuditCode.SESSION_SCHEDULED,
        target=session,
        case=case,
        data={"kind": kind, "format": format, "attendees": len(attendees)},
    )
    for _interpreter in joining:
        # No name, no id of the person: only that an interpreter attends.
        audit.record(actor=actor, code=AuditCode.SESSION_INTERPRETER_ADDED, target=session, case=case)
    return session


@transaction.atomic
def meeting_cancel(*, actor: User, session: Meeting) -> Meeting:
    session = Meeting.objects.select_for_update(of=("self",)).get(pk=session.pk)
    if session.status == MeetingStatus.CANCELLED:
        raise Conflict(_("This session is already cancelled."))
    session.status = MeetingStatus.CANCELLED
    session.save(update_fields=["status"])
    audit.record(actor=actor, code=AuditCode.SESSION_CANCELLED, target=session, case=session.case)
    return session


@transaction.atomic
def meeting_restore(*, actor: User, session: Meeting) -> Meeting:
    """A session put on hold by someone's break comes back only if every guard holds again."""
    session = (
        Meeting.objects.select_for_update(of=("self",)).select_related("case__program").get(pk=session.pk)
    )
    if session.status != MeetingStatus.ON_HOLD:
        raise Conflict(_("Only a session on hold can be brought back."))
    if session.starts_at <= timezone.now():
        raise Conflict(_("This session's time has passed. Schedule a new one instead."))
    missing = meeting_missing(snapshot_of(session.case), list(session.attendees.all()))
    if missing:
        raise Conflict(_("Waiting for: %(items)s.") % {"items": "; ".join(missing)})
    session.status = MeetingStatus.SCHEDULED
    session.save(update_fields=["status"])
    audit.record(actor=actor, code=AuditCode.SESSION_RESTORED, target=session, case=session.case)
    return session


def _set_status(*, actor: User, sessions, status: str, code: str) -> int:
    count = 0
    for session in sessions:
        session.status = status
        session.save(update_fields=["status"])
        audit.record(actor=actor, code=code, target=session, case=session.case)
        count += 1
    return count


# --- one person's step back: their meetings, not the others' ---------------------------------------------
# A person who stops, takes a break or is excluded leaves the meetings ahead of them, with the supporters
# who come for them; the others meet as planned when they still can (readiness.rules.meeting_missing).
# When they cannot (nobody left but the facilitators, the meeting mixed the sides and one side is gone, or
# something the rest needs is missing), the meeting is cancelled, or for a break put on hold, as before.


def with_their_supporters(attendees: list[Participant], people: set[int]) -> set[int]:
    """These people and the supporters (and interpreters) attending who come for one of them."""
    coming_for = (Role.SUPPORTER, Role.INTERPRETER)
    return people | {p.pk for p in attendees if p.role in coming_for and p.supports_id in people}


def others_can_meet(snap: Snapshot, attendees: list[Participant], rest: list[Participant]) -> bool:
    """Whether the rest of a meeting's attendees can still meet without the people leaving: someone besides
    the facilitators, both sides still there if the meeting was between the sides, and every guard
    holding for the rest."""
    if not any(p.role not in FACILITATING_ROLES for p in rest):
        return False
    sides_before = {side_of(snap, p) for p in attendees} - {""}
    sides_after = {side_of(snap, p) for p in rest} - {""}
    if len(sides_before) == 2 and len(sides_after) < 2:
        return False
    return not meeting_missing(snap, rest, check_stage=False)


def _leave_or_stop(
    *, actor: User, snap: Snapshot, session: Meeting, people: set[int], status: str, code: str
) -> str:
    """The one rule: `people` (with their supporters) leave this meeting's attendees when the others can
    still meet; otherwise the meeting takes `status` (cancelled or on hold). Returns "left", "stopped" or ""
    (nobody of them attends it)."""
    attendees = list(session.attendees.all())
    leaving = with_their_supporters(attendees, people) & {p.pk for p in attendees}
    if not leaving:
        return ""
    rest = [p for p in attendees if p.pk not in leaving]
    if not others_can_meet(snap, attendees, rest):
        if session.status == status:
            return ""  # already on hold: it waits as it was
        _set_status(actor=actor, sessions=[session], status=status, code=code)
        return "stopped"
    session.attendees.remove(*leaving)
    # Nothing of theirs stays in the meeting: no turn in the round, no row of attendance, no one coming with
    # them; nobody comes with them either.
    if any(pk in leaving for pk in session.speaking_order):
        session.speaking_order = [pk for pk in session.speaking_order if pk not in leaving]
        session.save(update_fields=["speaking_order"])
    Attendance.objects.filter(session=session, participant_id__in=leaving).delete()
    Attendance.objects.filter(session=session, supporter_id__in=leaving).update(supporter=None)
    for _pk in sorted(leaving):
        # No name, no id of the person: only that someone no longer attends.
        audit.record(
            actor=actor,
            code=AuditCode.SESSION_ATTENDEE_LEFT,
            target=session,
            case=session.case,
            data={"attendees": len(rest)},
        )
    return "left"


def _step_back(*, actor: User, place: Participant, status: str, code: str) -> int:
    """A person stepped back (stopped, on a break, excluded): they and the supporters who come for them leave
    any meeting under way at once (its room closes their connections), and each meeting ahead of them goes
    on without them or, if the others cannot meet, takes `status`. Returns how many meetings changed."""
    for meeting in Meeting.objects.filter(
        attendees=place, opened_at__isnull=False, ended_at__isnull=True
    ).prefetch_related("attendees"):
        attending = list(meeting.attendees.all())
        for pk in sorted(with_their_supporters(attending, {place.pk})):
            person = next((p for p in attending if p.pk == pk), None)
            if person is not None:
                room.meeting_remove_person(place=person, session=meeting)
    case = Case.objects.select_related("program").get(pk=place.case_id)
    sessions = list(
        _future(case, (MeetingStatus.SCHEDULED, MeetingStatus.ON_HOLD))
        .filter(attendees=place, opened_at__isnull=True)
        .select_related("case")
    )
    if not sessions:
        return 0
    snap = snapshot_of(case)  # their step back is already saved: the rest is judged as things are now
    changed = [
        _leave_or_stop(actor=actor, snap=snap, session=session, people={place.pk}, status=status, code=code)
        for session in sessions
    ]
    return sum(1 for outcome in changed if outcome)


def meetings_cancel_for(*, actor: User, place: Participant) -> int:
    """Withdrawal or exclusion: the person leaves their meetings; one the others cannot hold is cancelled."""
    return _step_back(
        actor=actor, place=place, status=MeetingStatus.CANCELLED, code=AuditCode.SESSION_CANCELLED
    )


def meetings_hold_for(*, actor: User, place: Participant) -> int:
    """A break: the person leaves their meetings; one the others cannot hold waits on hold until a
    facilitator brings it back."""
    return _step_back(actor=actor, place=place, status=MeetingStatus.ON_HOLD, code=AuditCode.SESSION_HELD)


def meetings_cancel_unconsented(*, actor: User, case: Case) -> int:
    """After a consent or a choice narrows: in each meeting ahead, the people something now stands in the way
    of leave it (meeting_items' concerns), with their supporters; the meeting is cancelled only when an item
    concerns everyone, or the rest cannot meet."""
    count = 0
    snap = snapshot_of(case)  # everyone's records as they are now: something just changed
    for session in _future(case).prefetch_related("attendees").select_related("case"):
        attendees = list(session.attendees.all())
        items = meeting_items(snap, attendees, check_stage=False) + rules.interpreter_items(snap, attendees)
        if not items:
            continue
        if any(item.concerns is None for item in items):
            _set_status(
                actor=actor,
                sessions=[session],
                status=MeetingStatus.CANCELLED,
                code=AuditCode.SESSION_CANCELLED,
            )
        else:
            people = set().union(*(item.concerns for item in items))
            if not _leave_or_stop(
                actor=actor,
                snap=snap,
                session=session,
                people=people,
                status=MeetingStatus.CANCELLED,
                code=AuditCode.SESSION_CANCELLED,
            ):
                continue
        count += 1
    return count


def meetings_hold_all(*, actor: User, case: Case) -> int:
    """A paused case: every scheduled session waits on hold until a facilitator brings it back."""
    return _set_status(
        actor=actor, sessions=list(_future(case)), status=MeetingStatus.ON_HOLD, code=AuditCode.SESSION_HELD
    )


def meetings_cancel_all(*, actor: User, case: Case) -> int:
    """A closed case has no sessions ahead of it."""
    sessions = _future(case, (MeetingStatus.SCHEDULED, MeetingStatus.ON_HOLD))
    return _set_status(
        actor=actor, sessions=list(sessions), status=MeetingStatus.CANCELLED, code=AuditCode.SESSION_CANCELLED
    )
