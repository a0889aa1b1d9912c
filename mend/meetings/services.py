"""A case's meetings on the day: a conference's agenda, speaking order and supporters; each attendee's
check-in and check-out; attendance; opening and ending a meeting while the consent guards hold; and the
invitations, by email only to people who gave an email address, in words that name nothing of the case."""

import logging
from datetime import datetime, timedelta

from django.core import mail
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts.models import User
from mend.accounts.site_name import from_email_of, site_name_of
from mend.audit.codes import AuditCode
from mend.cases import notices
from mend.cases.models import FACILITATING_ROLES, Case, Participant, Role
from mend.core import i18n, validators
from mend.core.errors import Conflict, DomainError
from mend.meetings import hooks, rules
from mend.meetings.clock import ends_at
from mend.meetings.ics import meeting_ics
from mend.meetings.models import Attendance, Feeling, Meeting, MeetingKind, MeetingStatus
from mend.readiness.rules import meeting_missing, on_path
from mend.readiness.snapshot import consent_snapshot, snapshot_of

log = logging.getLogger(__name__)

OPENS_BEFORE = timedelta(minutes=15)  # a facilitator can open the meeting this long before its start
CHECK_IN_FROM = timedelta(days=1)  # "how are you arriving today?": asked from the day before
CHECK_OUT_UNTIL = timedelta(days=7)  # after the end, a check-out can still be given for a week
AGENDA_MAX = 4000
SPEAKERS_MAX = 50


# --- who is there -----------------------------------------------------------------------------------------


def attendees_of(session: Meeting) -> list[Participant]:
    """The people attending a case meeting who are still in the case, in a fixed order."""
    attending = session.attendees.filter(removed_at__isnull=True).select_related("user", "case__program")
    return list(attending.order_by("pk"))


def email_of(place: Participant) -> str | None:
    """The person's contact method, when it is an email address and nothing else."""
    address = str(place.contact_method or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        return None
    return address


@transaction.atomic
def attendance_prepare(*, session: Meeting) -> list[Attendance]:
    """One attendance row for each person attending, made when the meeting is scheduled or first used;
    rows already there keep what they hold."""
    if session.case_id is not None:
        ids = list(session.attendees.values_list("pk", flat=True))
        Attendance.objects.bulk_create(
            [Attendance(session=session, participant_id=pk) for pk in ids], ignore_conflicts=True
        )
        rows = Attendance.objects.filter(session=session, participant_id__in=ids)
    else:
        ids = list(session.member_attendees.values_list("pk", flat=True))
        Attendance.objects.bulk_create(
            [Attendance(session=session, member_id=pk) for pk in ids], ignore_conflicts=True
        )
        rows = Attendance.objects.filter(session=session, member_id__in=ids)
    return list(rows.order_by("pk"))


def _locked(session: Meeting) -> tuple[Case, Meeting]:
    """The case, then the meeting, locked in the order every change of consent takes them, so a withdrawal
    or a break at this moment is seen here or waits for this to finish."""
    case = Case.objects.select_for_update().select_related("program").get(pk=session.case_id)
    session = Meeting.objects.select_for_update(of=("self",)).get(pk=session.pk)
    session.case = case
    return case, session


def _case_meeting(session: Meeting) -> None:
    if session.case_id is None:
        raise DomainError(_("This is a circle's meeting: use the circle's page for it."))


def _facilitator_in(session: Meeting, user: User) -> Participant:
    """The user's own place as a facilitator attending this meeting: only they run it on the day."""
    place = session.attendees.filter(user=user, role__in=FACILITATING_ROLES, removed_at__isnull=True).first()
    if place is None or not user.is_staff_member:
        raise DomainError(_("Only a facilitator attending this meeting can do this."))
    return place


def _own_attendance(session: Meeting, user: User) -> Attendance:
    attendance_prepare(session=session)
    if session.case_id is not None:
        mine = Q(
            participant__user=user, participant__removed_at__isnull=True, participant__joined_at__isnull=False
        )
        mine &= Q(participant__in=session.attendees.all())
    else:
        mine = Q(member__user=user, member__left_at__isnull=True, member__in=session.member_attendees.all())
    row = Attendance.objects.select_for_update().filter(mine, session=session).first()
    if row is None:
        raise DomainError(_("Only the people attending this meeting can check in and out of it."))
    return row


# --- a conference -----------------------------------------------------------------------------------------


def _ids(values, what: str) -> list[int]:
    """Ids of places, as a form or the API gives them; anything else is a clear refusal, never a 500."""
    values = list(values)
    if any(isinstance(v, bool) or not isinstance(v, int | str) for v in values):
        raise DomainError(_("Choose people from the list."), field=what)
    try:
        ids = [int(v) for v in values]
    except ValueError:
        raise DomainError(_("Choose people from the list."), field=what) from None
    if any(not 0 < v < 2**31 for v in ids):
        raise DomainError(_("Choose people from the list."), field=what)
    return ids


@transaction.atomic
def conference_set(
    *,
    actor: User,
    session: Meeting,
    agenda: str,
    speaking_order: list[int],
    supporters: dict[int, int | None],
) -> Meeting:
    """A conference's agenda, the order of its talking-piece round, and who each person comes with.

    Everyone in the round attends. A supporter is someone in the case supporting that very person; one who
    is not attending yet joins the meeting, and only while every guard holds for the people then attending,
    so the person harmed's choices about supporters and community members still decide."""
    _case_meeting(session)
    if session.kind != MeetingKind.CONFERENCE:
        raise DomainError(_("Only a conference has an agenda and a speaking order."))
    agenda = validators.text(agenda, "agenda", max_length=AGENDA_MAX)
    if not isinstance(speaking_order, list | tuple) or len(speaking_order) > SPEAKERS_MAX:
        raise DomainError(_("Choose who speaks, and in which turn."), field="speaking_order")
    order = _ids(speaking_order, "speaking_order")
    if len(set(order)) != len(order):
        raise DomainError(_("Each person has one turn in the round."), field="speaking_order")
    if not isinstance(supporters, dict):
        raise DomainError(_("Choose who each person comes with."), field="supporters")
    pairs = dict(zip(_ids(supporters.keys(), "supporters"), supporters.values(), strict=True))
    chosen = {person: supporter for person, supporter in pairs.items() if supporter not in (None, "")}
    chosen = dict(zip(chosen.keys(), _ids(chosen.values(), "supporters"), strict=True))

    case, session = _locked(session)
    if session.status == MeetingStatus.CANCELLED or session.ended_at is not None:
        raise Conflict(_("This meeting is over or cancelled, so it cannot be changed."))
    attending = {p.pk: p for p in attendees_of(session)}
    for person_id in pairs:
        if person_id not in attending:
            raise DomainError(
                _("Only people attending the meeting can come with a supporter."), field="supporters"
            )
    places = {
        p.pk: p
        for p in case.participants.filter(
            pk__in=chosen.values(), removed_at__isnull=True, joined_at__isnull=False
        )
    }
    joining = []
    for person_id, supporter_id in chosen.items():
        supporter = places.get(supporter_id)
        if supporter is None or supporter.role != Role.SUPPORTER or supporter.supports_id != person_id:
            raise DomainError(
                _("%(name)s can come with someone who supports them in this case, and no one else.")
                % {"name": rules.name_of(session, attending[person_id], staff_by_name=False)},
                field="supporters",
            )
        if supporter_id not in attending:
            joining.append(supporter)
    everyone = [*attending.values(), *joining]
    if any(pk not in {p.pk for p in everyone} for pk in order):
        raise DomainError(
            _("Everyone in the speaking order must be attending the meeting."), field="speaking_order"
        )
    if joining:
        missing = meeting_missing(snapshot_of(case), everyone)
        if missing:
            raise Conflict(_("Waiting for: %(items)s.") % {"items": "; ".join(missing)})
        session.attendees.add(*joining)
    session.agenda = agenda
    session.speaking_order = order
    session.save(update_fields=["agenda", "speaking_order"])
    for row in attendance_prepare(session=session):
        supporter_id = chosen.get(row.participant_id)
        if row.supporter_id != supporter_id:
            row.supporter_id = supporter_id
            row.save(update_fields=["supporter"])
    audit.record(
        actor=actor,
        code=AuditCode.SESSION_CONFERENCE_SET,
        target=session,
        case=case,
        data={"speakers": len(order), "supporters": len(chosen), "joined": [p.pk for p in joining]},
    )
    return session


# --- check-in and check-out -------------------------------------------------------------------------------


def _feeling(value: str, what: str) -> str:
    if value not in Feeling.values:
        raise DomainError(_("Choose the words closest to how you are."), field=what)
    return value


def may_need_support(row: Attendance) -> bool:
    return row.wants_support or Feeling.STRUGGLING in (row.arrival, row.departure)


def _tell_staff(session: Meeting) -> int:
    """Someone may need support: each facilitator of the case (or the circle's keeper) is alerted, once for
    this meeting (mend.circles.minutes.needs_support_alert, through hooks.needs_support)."""
    if session.case_id is not None:
        users = list(
            Participant.objects.filter(
                case_id=session.case_id,
                role__in=FACILITATING_ROLES,
                removed_at__isnull=True,
                user__isnull=False,
            ).values_list("user_id", flat=True)
        )
        program_id = session.case.program_id
    else:
        users = [session.circle.keeper_id]
        program_id = session.circle.program_id
    for alert in hooks.needs_support:  # circles keeps the staff alerts
        alert(session=session, user_ids=list(dict.fromkeys(users)), program_id=program_id)
    return len(users)


def _scope(session: Meeting) -> dict:
    return {"case": session.case} if session.case_id else {"program": session.circle.program}


@transaction.atomic
def checkin_record(*, actor: User, session: Meeting, feeling: str, wants_support: bool) -> Attendance:
    """ "How are you arriving today?": the attendee's own answer, from the day before until the end of the
    meeting, and whether they would like support. Struggling, or asking for support, tells the facilitators
    that someone may need support (never what they answered)."""
    feeling = _feeling(feeling, "feeling")
    # Locked alone: on PostgreSQL a row lock cannot reach across the outer join to a case or a circle.
    session = Meeting.objects.select_for_update(of=("self",)).get(pk=session.pk)
    now = timezone.now()
    if session.status != MeetingStatus.SCHEDULED:
        raise Conflict(_("This meeting is not going ahead for now, so there is nothing to check in to."))
    if now < session.starts_at - CHECK_IN_FROM:
        raise Conflict(_("Check-in opens the day before the meeting. Come back then."))
    if session.ended_at is not None or now >= ends_at(session):
        raise Conflict(_("This meeting is over. You can check out instead."))
    row = _own_attendance(session, actor)
    row.arrival = feeling
    row.arrival_at = now
    row.wants_support = bool(wants_support)
    row.save(update_fields=["arrival", "arrival_at", "wants_support"])
    if may_need_support(row):
        _tell_staff(session)
    audit.record(actor=actor, code=AuditCode.ATTENDANCE_CHECKED_IN, target=row, **_scope(session))
    return row


@transaction.atomic
def checkout_record(*, actor: User, session: Meeting, feeling: str, wants_support: bool) -> Attendance:
    """How the attendee is leaving, once the meeting has been opened and for a week after its end."""
    feeling = _feeling(feeling, "feeling")
    # Locked alone: on PostgreSQL a row lock cannot reach across the outer join to a case or a circle.
    session = Meeting.objects.select_for_update(of=("self",)).get(pk=session.pk)
    now = timezone.now()
    if session.opened_at is None:
        raise Conflict(_("You can check out once the meeting has started."))
    if now > max(ends_at(session), session.ended_at or ends_at(session)) + CHECK_OUT_UNTIL:
        raise Conflict(
            _("Check-out for this meeting has closed. Your facilitator is there if you need them.")
        )
    row = _own_attendance(session, actor)
    row.departure = feeling
    row.departure_at = now
    row.wants_support = bool(wants_support)
    row.save(update_fields=["departure", "departure_at", "wants_support"])
    if may_need_support(row):
        _tell_staff(session)
    audit.record(actor=actor, code=AuditCode.ATTENDANCE_CHECKED_OUT, target=row, **_scope(session))
    return row


def support_list(session: Meeting) -> list[Attendance]:
    """The people at a meeting who may need support: they asked, or said they are struggling."""
    rows = Attendance.objects.filter(session=session).filter(
        Q(wants_support=True) | Q(arrival=Feeling.STRUGGLING) | Q(departure=Feeling.STRUGGLING)
    )
    return list(rows.select_related("participant", "member").order_by("pk"))


# --- the meeting on the day -------------------------------------------------------------------------------


@transaction.atomic
def attendance_record(*, actor: User, session: Meeting, present: list[int]) -> list[Attendance]:
    """The facilitator marks who was there (ids of the attendees' places); everyone else was not."""
    _case_meeting(session)
    if not isinstance(present, list | tuple | set):
        raise DomainError(_("Choose people who are attending this meeting."), field="present")
    here = set(_ids(present, "present"))
    case, session = _locked(session)
    _facilitator_in(session, actor)
    if session.opened_at is None:
        raise Conflict(_("Open the meeting first, then record who is there."))
    rows = attendance_prepare(session=session)
    if not here <= {row.participant_id for row in rows}:
        raise DomainError(_("Choose people who are attending this meeting."), field="present")
    for row in rows:
        attended = row.participant_id in here
        if row.attended != attended:
            row.attended = attended
            row.save(update_fields=["attended"])
    audit.record(
        actor=actor,
        code=AuditCode.ATTENDANCE_RECORDED,
        target=session,
        case=case,
        data={"present": len(here), "of": len(rows)},
    )
    return rows


def can_open(session: Meeting, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        session.status == MeetingStatus.SCHEDULED
        and session.opened_at is None
        and session.starts_at - OPENS_BEFORE <= now < ends_at(session)
    )


@transaction.atomic
def meeting_open(*, actor: User, session: Meeting, person=None) -> Meeting:
    """Opens a meeting, of a case or of a circle (the one opening service: the meeting's page and its room
    both come here). A case meeting: a facilitator attending opens it, from 15 minutes before its start
    until its end, and only while every guard holds for the people attending. A circle meeting: its keeper,
    from the room (`person`, as mend.meetings.rules knows them), once the room's rules let it open.
    Otherwise Mend says what it is waiting for."""
    if session.case_id is None:
        return _circle_meeting_open(actor=actor, session=session, person=person)
    case, session = _locked(session)
    _facilitator_in(session, actor)
    now = timezone.now()
    if session.status == MeetingStatus.CANCELLED:
        raise Conflict(_("This meeting was cancelled."))
    if session.status == MeetingStatus.ON_HOLD:
        raise Conflict(_("This meeting is on hold until everyone can take part again."))
    if session.ended_at is not None:
        raise Conflict(_("This meeting has ended."))
    if session.opened_at is not None:
        raise Conflict(_("This meeting is already open."))
    if now < session.starts_at - OPENS_BEFORE:
        raise Conflict(_("A meeting can be opened from 15 minutes before its start."))
    if now >= ends_at(session):
        raise Conflict(_("This meeting's time has passed. Schedule a new one instead."))
    missing = meeting_missing(snapshot_of(case), attendees_of(session))
    if missing:
        raise Conflict(
            _("The meeting cannot open yet. Waiting for: %(items)s.") % {"items": "; ".join(missing)}
        )
    _opened(actor=actor, session=session, case=case)
    _recheck_room(session)
    return session


def _circle_meeting_open(*, actor: User, session: Meeting, person) -> Meeting:
    if person is None or not rules.facilitates(session, person):
        raise DomainError(_("Only the facilitator can do this."))
    session = Meeting.objects.select_for_update(of=("self",)).select_related("circle").get(pk=session.pk)
    missing = rules.meeting_live_missing(session, person)
    if missing:
        raise Conflict(
            _("The meeting cannot open yet. Waiting for: %(items)s.") % {"items": "; ".join(missing)}
        )
    if session.opened_at is None:
        _opened(actor=actor, session=session, program=session.circle.program)
    return session


def _opened(*, actor: User, session: Meeting, **scope) -> None:
    """What opening does, for either kind of meeting: the time, a row of attendance for each person
    attending, and one audit code ("session.opened")."""
    session.opened_at = timezone.now()
    session.save(update_fields=["opened_at"])
    attendance_prepare(session=session)
    audit.record(actor=actor, code=AuditCode.SESSION_OPENED, target=session, **scope)


@transaction.atomic
def meeting_end(*, actor: User, session: Meeting, person=None) -> Meeting:
    """Ends a meeting, of a case (a facilitator attending, from its page or its room) or of a circle (its
    keeper, from the room: `person`, as mend.meetings.rules knows them): the one ending service. The words
    for a meeting not open stay those each path showed before the two were one."""
    if session.case_id is None:
        if person is None or not rules.facilitates(session, person):
            raise DomainError(_("Only the facilitator can do this."))
        session = Meeting.objects.select_for_update(of=("self",)).select_related("circle").get(pk=session.pk)
        if session.opened_at is None or session.ended_at is not None:
            raise Conflict(_("This meeting is not open."))
        _ended(actor=actor, session=session, program=session.circle.program)
        return session
    case, session = _locked(session)
    _facilitator_in(session, actor)
    if session.opened_at is None:
        raise Conflict(_("This meeting has not been opened."))
    if session.ended_at is not None:
        raise Conflict(_("This meeting has already ended."))
    _ended(actor=actor, session=session, case=case)
    _recheck_room(session)
    return session


def _ended(*, actor: User, session: Meeting, **scope) -> None:
    session.ended_at = timezone.now()
    session.on_break = False
    session.save(update_fields=["ended_at", "on_break"])
    audit.record(actor=actor, code=AuditCode.SESSION_ENDED, target=session, **scope)


# --- invitations ------------------------------------------------------------------------------------------


def _in_their_language(place: Participant):
    """What is written for one person is in the language they read Mend in (mend.core.i18n), never the
    intake's note of a preferred language (which may be one Mend is not written in)."""
    return i18n.in_language_of(place.user, fallback=place.case.program.default_language)


def _subject(place: Participant) -> str:
    """The subject of every meeting email, in the active language: the program's site name, not "Mend",
    when it chose one (an inbox can be watched), and nothing of what the email is about."""
    return _("A note from %(site_name)s") % {"site_name": site_name_of(place.case.program)}


def invitation_words(place: Participant) -> tuple[str, str]:
    """The subject and body of an invitation: the same for everyone, naming nothing of the case."""
    with _in_their_language(place):
        return (
            _subject(place),
            _(
                "You are invited to a meeting. The attached calendar file has the time. Sign in to "
                "%(site_name)s to see more, or to let your facilitator know if the time does not suit you."
            )
            % {"site_name": site_name_of(place.case.program)},
        )


def _reachable(place: Participant, snap) -> bool:
    """Still in the case and on their path: a person on a break, stopped or excluded hears nothing of a
    meeting (readiness.rules.on_path)."""
    return place.removed_at is None and place.joined_at is not None and on_path(snap, place)


def _deliver(messages: list[tuple[int, mail.EmailMessage]]) -> None:
    for place_id, message in messages:
        try:
            message.send()
        except Exception:  # the address never goes to the log
            log.warning("A meeting email could not be sent to participant %s.", place_id)


def no_longer_words(place: Participant) -> tuple[str, str]:
    """The subject and body for a person taken off a meeting's attendees: calm, and nothing about why."""
    with _in_their_language(place):
        body = _(
            "You no longer need to come to this meeting. The attached calendar file has its time, and takes "
            "it out of your calendar. Sign in to %(site_name)s to see what comes next, or to ask your "
            "facilitator anything."
        )
        return _subject(place), body % {"site_name": site_name_of(place.case.program)}


def _with_calendar(
    session: Meeting, place: Participant, address: str, words: tuple[str, str], *, cancel: bool = False
) -> mail.EmailMessage:
    """An email to one person with the meeting's calendar file in their language: an invitation, or with
    `cancel` the file that takes the meeting out of their calendar."""
    subject, body = words
    message = mail.EmailMessage(subject, body, from_email_of(place.case.program), [address])
    with _in_their_language(place):
        calendar = meeting_ics(session, place, email=address, cancelled=cancel)
    method = "CANCEL" if cancel else "REQUEST"
    message.attach("meeting.ics", calendar, f"text/calendar; method={method}; charset=utf-8")
    return message


def attendees_changed_emails(
    *, session: Meeting, added: list[Participant], removed: list[Participant]
) -> int:
    """After staff change who attends (mend.meetings.scheduling.meeting_attendees_change): each person added
    gets the invitation and each person taken off is told they no longer need to come, with the file that
    cancels it in their calendar; only people who gave an email address and are on their path, sent once
    the change is committed. Returns how many will be sent."""
    snap = consent_snapshot(session.case)
    messages = []
    for places, words, cancel in ((added, invitation_words, False), (removed, no_longer_words, True)):
        for place in places:
            address = email_of(place)
            if address is not None and _reachable(place, snap):
                message = _with_calendar(session, place, address, words(place), cancel=cancel)
                messages.append((place.pk, message))
    transaction.on_commit(lambda: _deliver(messages))
    return len(messages)


@transaction.atomic
def invitations_send(*, actor: User, session: Meeting) -> int:
    """Emails each attendee who gave an email address as their contact method an invitation with the
    meeting's calendar file; sent once the change is committed. Returns how many will be sent."""
    _case_meeting(session)
    case, session = _locked(session)
    if session.status != MeetingStatus.SCHEDULED or session.starts_at <= timezone.now():
        raise Conflict(_("Invitations go out only for a meeting that is still ahead and going ahead."))
    messages = []
    snap = consent_snapshot(case)
    for place in attendees_of(session):
        address = email_of(place)
        if address is None or not _reachable(place, snap):
            continue
        messages.append((place.pk, _with_calendar(session, place, address, invitation_words(place))))
    attendance_prepare(session=session)
    audit.record(
        actor=actor,
        code=AuditCode.SESSION_INVITATIONS_SENT,
        target=session,
        case=case,
        data={"emails": len(messages)},
    )
    transaction.on_commit(lambda: _deliver(messages))
    return len(messages)


# --- reminders --------------------------------------------------------------------------------------------


def reminder_words(place: Participant, before: str) -> tuple[str, str]:
    with _in_their_language(place):
        if before == "hour":
            body = _("You have a meeting in about an hour. Sign in to %(site_name)s when you are ready.")
        else:
            body = _("You have a meeting coming up within a day. Sign in to %(site_name)s to see the time.")
        return _subject(place), body % {"site_name": site_name_of(place.case.program)}


def _recheck_room(session: Meeting) -> None:
    """Everyone in the meeting's room, or waiting at its door, checks again at once (after commit)."""
    from mend.meetings.room import meetings_recheck  # layering: the room is built on these services

    meetings_recheck(session=session)


def remind(*, session_id: int, starts_at: str, before: str) -> int:
    """Emails a reminder to each attendee who gave an email address, if the meeting is still going ahead at
    the time it was booked for and has not started; returns how many were sent.

    Everyone still taking part also gets a neutral notice in Mend, once per reminder."""
    session = Meeting.objects.filter(pk=session_id, case__isnull=False).select_related("case").first()
    if (
        session is None
        or session.status != MeetingStatus.SCHEDULED
        or session.opened_at is not None
        or session.starts_at.isoformat() != starts_at
        or session.starts_at <= timezone.now()
        or session.case.data_deleted_at is not None
    ):
        return 0
    messages = []
    snap = consent_snapshot(session.case)
    reachable = [place for place in attendees_of(session) if _reachable(place, snap)]
    notices.meeting_reminder(case=session.case, places=[p for p in reachable if not p.is_facilitating])
    for place in reachable:
        address = email_of(place)
        if address is None:
            continue
        subject, body = reminder_words(place, before)
        from_email = from_email_of(place.case.program)
        messages.append((place.pk, mail.EmailMessage(subject, body, from_email, [address])))
    _deliver(messages)
    return len(messages)
