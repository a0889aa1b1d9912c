"""Scheduling sessions, changing who attends one, and what happens to them when someone pauses or
withdraws."""

import zoneinfo
from dataclasses import dataclass
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
from mend.meetings import clock, room, rules
from mend.meetings import services as meetings
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
    # An interpreter who may come now (their party agreed during the break) comes with it.
    meetings_add_interpreters(actor=actor, case=session.case)
    return session


# --- who attends: staff change the list of a meeting ahead ------------------------------------------------


def attendees_fixed(session: Meeting, now: datetime | None = None) -> str:
    """Why who attends this meeting cannot change now, in words ("" when it can): only a meeting of a case
    that is scheduled, still ahead and not started (a circle's meeting changes on the circle's page)."""
    now = now or timezone.now()
    if session.status == MeetingStatus.CANCELLED:
        return _("This meeting was cancelled, so who attends it cannot change.")
    if session.status == MeetingStatus.ON_HOLD:
        return _("This meeting is on hold. Bring it back first, then change who attends.")
    if session.opened_at is not None or session.ended_at is not None:
        return _("This meeting has already started, so who attends it cannot change.")
    if session.starts_at <= now:
        return _("This meeting's time has passed. Schedule a new one instead.")
    return ""


@dataclass(frozen=True)
class AttendeesChange:
    """What changing who attends did: the places added and taken off, and whether any part of the meeting
    now falls at night (22:00 to 07:00) on the clock of someone attending."""

    added: list[Participant]
    removed: list[Participant]
    at_night: bool


@transaction.atomic
def meeting_attendees_change(
    *, actor: User, session: Meeting, attendees: list[Participant]
) -> AttendeesChange:
    """Staff who run the case change who attends a meeting that is scheduled and has not started. The new
    list passes what scheduling asks (every guard, the interpreters) and keeps what attendees_gap asks. A
    party's interpreter comes with them; the supporters and interpreters who come for a person taken off
    leave with them. Each person added is invited, each person taken off told they no longer need to come
    (never why), by email if that is how they chose to be contacted; the meeting's room checks everyone
    again, so a socket of someone taken off closes."""
    if session.case_id is None:
        raise DomainError(_("This is a circle's meeting: use the circle's page for it."))
    if not attendees or any(p.case_id != session.case_id or p.removed_at for p in attendees):
        raise DomainError(_("Choose who attends from the people in this case."), field="attendees")
    # Locked in the order every change of consent takes them (the case, then the meeting), and the people
    # read again under the lock, so a withdrawal or break at this moment is seen.
    case = Case.objects.select_for_update().select_related("program").get(pk=session.case_id)
    session = Meeting.objects.select_for_update(of=("self",)).get(pk=session.pk)
    session.case = case
    refusal = attendees_fixed(session)
    if refusal:
        raise Conflict(refusal)
    before = list(session.attendees.filter(removed_at=None).order_by("pk"))
    chosen = Participant.objects.filter(pk__in=[p.pk for p in attendees], case=case, removed_at=None)
    taken_off = {p.pk for p in before} - {p.pk for p in chosen}
    leaving = with_their_supporters(before, taken_off)
    after = [p for p in chosen.order_by("pk") if p.pk not in leaving]
    snap = snapshot_of(case)
    joining = rules.interpreters_joining(snap, after)
    after += joining
    at_night = any(clock.at_night(session, p.time_zone) for p in after)
    if {p.pk for p in after} == {p.pk for p in before}:
        return AttendeesChange(added=[], removed=[], at_night=at_night)  # nothing to check, nobody to tell
    _check_new_list(snap, before, after)
    added = [p for p in after if p.pk not in {p.pk for p in before}]
    removed = [p for p in before if p.pk not in {p.pk for p in after}]
    if added:
        session.attendees.add(*added)
    if removed:
        _take_out(session, {p.pk for p in removed})
    _audit_change(
        actor=actor, session=session, added=added, removed=removed, joining=joining, count=len(after)
    )
    meetings.attendees_changed_emails(session=session, added=added, removed=removed)
    room.meetings_recheck(session=session)
    return AttendeesChange(added=added, removed=removed, at_night=at_night)


def _check_new_list(snap: Snapshot, before: list[Participant], after: list[Participant]) -> None:
    """Refuses a new list of attendees that lacks what it must keep, or that scheduling would refuse."""
    gap = attendees_gap(snap, before, after)
    if gap:
        raise DomainError(gap, field="attendees")
    missing = meeting_missing(snap, after)
    missing += [item.text for item in rules.interpreter_items(snap, after) if item.text not in missing]
    if missing:
        raise Conflict(_("Waiting for: %(items)s.") % {"items": "; ".join(missing)}, field="attendees")


def _audit_change(*, actor, session, added, removed, joining, count: int) -> None:
    """One event per person added or taken off: no name, no id of the person, only how many attend now."""
    for place in added:
        audit.record(
            actor=actor,
            code=(
                AuditCode.SESSION_INTERPRETER_ADDED if place in joining else AuditCode.SESSION_ATTENDEE_ADDED
            ),
            target=session,
            case=session.case,
            data={"attendees": count},
        )
    for _place in removed:
        audit.record(
            actor=actor,
            code=AuditCode.SESSION_ATTENDEE_REMOVED,
            target=session,
            case=session.case,
            data={"attendees": count},
        )


def _set_status(*, actor: User, sessions, status: str, code: str) -> int:
    count = 0
    for session in sessions:
        session.status = status
        session.save(update_fields=["status"])
        audit.record(actor=actor, code=code, target=session, case=session.case)
        count += 1
    return count


# --- interpreters who may come now ------------------------------------------------------------------------


def meetings_add_interpreters(*, actor: User, case: Case) -> int:
    """The interpreters who may now come with a party join that party's meetings ahead, as scheduling would
    have added them: the party agreed to have one, or the interpreter agreed to take part, only after the
    meeting was scheduled. Each is invited; the audit says only that an interpreter was added. Told after a
    consent is given (meetings_add_interpreters_for) and when a case is checked again. Returns how many
    places were added."""
    if not case.participants.filter(role=Role.INTERPRETER, removed_at=None).exists():
        return 0  # a case without interpreters: one query
    snap = snapshot_of(case)
    added = 0
    sessions = _future(case).filter(opened_at__isnull=True).select_related("case__program")
    for session in sessions.prefetch_related("attendees"):
        attendees = [p for p in session.attendees.all() if p.removed_at is None]
        joining = [p for p in rules.interpreters_joining(snap, attendees) if _may_join(snap, attendees, p)]
        if not joining:
            continue
        session.attendees.add(*joining)
        for _interpreter in joining:
            # No name, no id of the person: only that an interpreter attends.
            audit.record(
                actor=actor,
                code=AuditCode.SESSION_INTERPRETER_ADDED,
                target=session,
                case=case,
                data={"attendees": len(attendees) + len(joining)},
            )
        meetings.attendees_changed_emails(session=session, added=joining, removed=[])
        added += len(joining)
    return added


def _may_join(snap: Snapshot, attendees: list[Participant], interpreter: Participant) -> bool:
    """Whether nothing stands between this interpreter and the meeting (their own consents, their party's
    agreement), as scheduling checks it."""
    after = [*attendees, interpreter]
    items = meeting_items(snap, after, check_stage=False) + rules.interpreter_items(snap, after)
    return not any(item.concerns is None or interpreter.pk in item.concerns for item in items)


def meetings_add_interpreters_for(*, actor: User, place: Participant) -> int:
    """After someone in a case gave a consent (mend.consent.hooks.consent_given)."""
    return meetings_add_interpreters(actor=actor, case=place.case)


# --- one person's step back: their meetings, not the others' ---------------------------------------------
# A person who stops, takes a break or is excluded leaves the meetings ahead of them, with the supporters
# who come for them; the others meet as planned when they still can (readiness.rules.meeting_missing).
# When they cannot (nobody left but the facilitators, the meeting mixed the sides and one side is gone, or
# something the rest needs is missing), the meeting is cancelled, or for a break put on hold, as before.


def with_their_supporters(attendees: list[Participant], people: set[int]) -> set[int]:
    """These people and the supporters (and interpreters) attending who come for one of them."""
    coming_for = (Role.SUPPORTER, Role.INTERPRETER)
    return people | {p.pk for p in attendees if p.role in coming_for and p.supports_id in people}


def attendees_gap(snap: Snapshot, before: list[Participant], after: list[Participant]) -> str:
    """What a meeting's attendees must keep when some leave it or are taken off it, in words ("" when they
    keep it): a facilitator, someone besides the facilitators, and both sides if the meeting was between
    the sides."""
    if not any(p.role in FACILITATING_ROLES for p in after):
        return _("A facilitator stays at the meeting: keep at least one.")
    if not any(p.role not in FACILITATING_ROLES for p in after):
        return _("Choose at least one person besides the facilitators.")
    sides_before = {side_of(snap, p) for p in before} - {""}
    sides_after = {side_of(snap, p) for p in after} - {""}
    if len(sides_before) == 2 and len(sides_after) < 2:
        return _("This meeting is between both sides, so keep at least one person from each side.")
    return ""


def others_can_meet(snap: Snapshot, attendees: list[Participant], rest: list[Participant]) -> bool:
    """Whether the rest of a meeting's attendees can still meet without the people leaving: what they must
    keep (attendees_gap), and every guard holding for the rest."""
    return not attendees_gap(snap, attendees, rest) and not meeting_missing(snap, rest, check_stage=False)


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
    _take_out(session, leaving)
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


def _take_out(session: Meeting, leaving: set[int]) -> None:
    """These places leave the meeting's attendees, and nothing of theirs stays in it: no turn in the round,
    no row of attendance, no one coming with them; nobody comes with them either."""
    session.attendees.remove(*leaving)
    if any(pk in leaving for pk in session.speaking_order):
        session.speaking_order = [pk for pk in session.speaking_order if pk not in leaving]
        session.save(update_fields=["speaking_order"])
    Attendance.objects.filter(session=session, participant_id__in=leaving).delete()
    Attendance.objects.filter(session=session, supporter_id__in=leaving).update(supporter=None)


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
