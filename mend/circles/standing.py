"""Every write of a standing circle: starting and closing it, its members and volunteers' vetting, its
meetings, and the minutes the keeper or a volunteer seals to the keeper and the program's coordinators."""

import calendar
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts.models import KeyBundle, Membership, Program, User
from mend.audit.codes import AuditCode
from mend.cases.access import cases_managed_by, manages_case
from mend.cases.models import Case, Participant, Role
from mend.circles.circle_access import KEEPING_ROLES, OVERSEEING_ROLES
from mend.circles.models import Circle, CircleKind, CircleMember, Minutes, StaffAlert, Vetting
from mend.core import envelope as env
from mend.core import validators
from mend.core.errors import Conflict, DomainError
from mend.meetings.models import Meeting, MeetingKind, MeetingStatus
from mend.meetings.scheduling import when_checked

MemberRole = CircleMember.Role

COSA_MAX_VOLUNTEERS = 6
COSA_MONTHS = (12, 18)  # a circle of support and accountability meets weekly for 12 to 18 months
BACKGROUND_CHECK_YEARS = 3

# Which places a circle has for people who are not volunteers, and whom each may hold: the role they took
# part in a case of the program with. A person responsible never joins a circle of survivors.
PLACES = {
    CircleKind.COSA: {MemberRole.CORE: {Role.RESPONSIBLE_PARTY}},
    CircleKind.SURVIVOR_PEER: {MemberRole.PEER: {Role.HARMED_PARTY}},
    CircleKind.RESPONSIBLE_PEER: {MemberRole.PEER: {Role.RESPONSIBLE_PARTY}},
    CircleKind.BLENDED: {MemberRole.PEER: {Role.HARMED_PARTY, Role.RESPONSIBLE_PARTY}},
    CircleKind.PARTNERS: {
        MemberRole.PARTNER: {Role.SUPPORTER, Role.COMMUNITY_MEMBER, Role.HARMED_PARTY, Role.RESPONSIBLE_PARTY}
    },
}
TAKING_PART_ROLES = {Role.HARMED_PARTY, Role.RESPONSIBLE_PARTY, Role.SUPPORTER, Role.COMMUNITY_MEMBER}


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _roles_in(user: User, program: Program) -> set[str]:
    if not user.is_authenticated or not user.is_staff_member:
        return set()
    return set(Membership.objects.filter(user=user, program=program).values_list("role", flat=True))


def _oversees(user: User, program: Program) -> bool:
    return bool(_roles_in(user, program) & set(OVERSEEING_ROLES))


def _check_manages(actor: User, circle: Circle) -> None:
    roles = _roles_in(actor, circle.program)
    keeps = circle.keeper_id == actor.pk and roles & set(KEEPING_ROLES)
    if not (roles & set(OVERSEEING_ROLES) or keeps):
        raise DomainError(_("Only the circle's keeper or the program's coordinators can do this."))


def _check_open(circle: Circle) -> None:
    if circle.closed_at is not None:
        raise Conflict(_("This circle is closed."))


def coordinators_of(program: Program) -> list[User]:
    """Who minutes are due to, and who hears when they are late or raise a concern: the program's
    coordinators, or its admins when it has none."""
    for roles in ((Membership.Role.COORDINATOR,), (Membership.Role.ADMIN,)):
        people = list(
            User.objects.filter(
                memberships__program=program, memberships__role__in=roles, is_active=True
            ).order_by("pk")
        )
        if people:
            return people
    return []


def vetting_problem(vetting: Vetting | None, today: date) -> str | None:
    """Why a volunteer may not join a circle now, in words; None when they are vetted."""
    if vetting is None or vetting.training_completed_on is None:
        return _("their training is not recorded as completed yet")
    if vetting.background_checked_on is None:
        return _("there is no background check on record for them")
    if vetting.background_checked_on < add_months(today, -12 * BACKGROUND_CHECK_YEARS):
        return _("their last background check was more than three years ago")
    return None


# Circles.


@transaction.atomic
def circle_create(
    *,
    actor: User,
    program: Program,
    kind: str,
    name: str,
    keeper: User,
    starts_on: date,
    ends_on: date | None = None,
    meets_every_days: int = 7,
    case: Case | None = None,
) -> Circle:
    roles = _roles_in(actor, program)
    if not roles & set(KEEPING_ROLES):
        raise DomainError(_("Only the program's coordinators and facilitators can start a circle."))
    if kind not in CircleKind.values:
        raise DomainError(_("Choose the kind of circle."), field="kind")
    name = validators.text(name, "name", max_length=80, required=True)
    if not _roles_in(keeper, program) & set(KEEPING_ROLES):
        raise DomainError(_("Choose a keeper from the program's facilitators."), field="keeper")
    if keeper.pk != actor.pk and not roles & set(OVERSEEING_ROLES):
        raise DomainError(
            _("You can start a circle that you keep yourself; a coordinator can start one for a colleague."),
            field="keeper",
        )
    if not 1 <= meets_every_days <= 90:
        raise DomainError(_("A circle meets at least every 90 days."), field="meets_every_days")
    if kind == CircleKind.COSA:
        if meets_every_days != 7:
            raise DomainError(
                _("A circle of support and accountability meets every week."), field="meets_every_days"
            )
        shortest, longest = (add_months(starts_on, months) for months in COSA_MONTHS)
        ends_on = ends_on or shortest
        if not shortest <= ends_on <= longest:
            raise DomainError(
                _(
                    "A circle of support and accountability runs for 12 to 18 months: "
                    "end it between %(a)s and %(b)s."
                )
                % {"a": shortest.isoformat(), "b": longest.isoformat()},
                field="ends_on",
            )
    elif ends_on is not None and ends_on <= starts_on:
        raise DomainError(_("Choose an end date after the start date."), field="ends_on")
    if case is not None and (case.program_id != program.pk or not manages_case(actor, case.pk)):
        raise DomainError(_("Choose a case of this program that you run."), field="case")
    circle = Circle.objects.create(
        program=program,
        kind=kind,
        name=name,
        keeper=keeper,
        case=case,
        meets_every_days=meets_every_days,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=actor,
    )
    audit.record(
        actor=actor,
        code=AuditCode.CIRCLE_CREATED,
        target=circle,
        program=program,
        data={"kind": kind, "keeper": keeper.pk, "case": case.pk if case else None},
    )
    return circle


@transaction.atomic
def circle_close(*, actor: User, circle: Circle) -> Circle:
    """A closed circle keeps its record; its meetings still ahead are cancelled."""
    circle = Circle.objects.select_for_update().select_related("program").get(pk=circle.pk)
    _check_manages(actor, circle)
    _check_open(circle)
    circle.closed_at = timezone.now()
    circle.save(update_fields=["closed_at"])
    cancelled = Meeting.objects.filter(
        circle=circle,
        status__in=[MeetingStatus.SCHEDULED, MeetingStatus.ON_HOLD],
        starts_at__gt=circle.closed_at,
    ).update(status=MeetingStatus.CANCELLED)
    audit.record(
        actor=actor,
        code=AuditCode.CIRCLE_CLOSED,
        target=circle,
        program=circle.program,
        data={"cancelled": cancelled},
    )
    return circle


# Members.


def _check_name(circle: Circle, user: User, name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_("Give the name this person goes by in the circle."), field="name")
    if len(name) > 40:
        raise DomainError(_("A name in the circle can be at most 40 characters."), field="name")
    if user.is_staff_member and name.casefold() == user.display_name.casefold():
        raise DomainError(
            _("Use a name for the circle, not the person's own name: the others know them only by it."),
            field="name",
        )
    taken = circle.members.filter(left_at__isnull=True, name__iexact=name).exists()
    if taken:
        raise DomainError(_("Someone in this circle already goes by that name."), field="name")
    return name


def _places_in_program(actor: User, user: User, program: Program) -> list[Participant]:
    """The person's places in cases of the program that the actor runs."""
    return list(
        Participant.objects.filter(
            user=user,
            case__in=cases_managed_by(actor).filter(program=program),
            joined_at__isnull=False,
            removed_at__isnull=True,
            role__in=TAKING_PART_ROLES,
        )
    )


def _check_volunteer(circle: Circle, user: User, today: date) -> None:
    is_volunteer = Membership.objects.filter(
        user=user, program=circle.program, role=Membership.Role.VOLUNTEER
    ).exists()
    if not is_volunteer:
        raise DomainError(_("Only the program's volunteers can join as volunteers."), field="person")
    problem = vetting_problem(Vetting.objects.filter(program=circle.program, user=user).first(), today)
    if problem:
        raise Conflict(
            _("%(name)s cannot join as a volunteer yet: %(problem)s. Record their vetting first.")
            % {"name": user.display_name, "problem": problem}
        )
    if circle.kind == CircleKind.COSA:
        volunteers = circle.members.filter(left_at__isnull=True, role=MemberRole.VOLUNTEER).count()
        if volunteers >= COSA_MAX_VOLUNTEERS:
            raise Conflict(_("A circle of support and accountability has at most six volunteers."))


def _check_participant(actor: User, circle: Circle, user: User, role: str) -> None:
    allowed = PLACES[circle.kind].get(role)
    if allowed is None:
        raise DomainError(
            _("A %(kind)s has no place for a %(role)s.")
            % {"kind": circle.get_kind_display().lower(), "role": MemberRole(role).label.lower()},
            field="role",
        )
    places = _places_in_program(actor, user, circle.program)
    if not any(p.role in allowed for p in places):
        words = sorted(circle.program.word_for(r) for r in allowed)
        raise DomainError(
            _("Choose someone who took part in one of the program's cases as: %(roles)s.")
            % {"roles": ", ".join(words)},
            field="person",
        )
    if role == MemberRole.CORE and circle.members.filter(left_at__isnull=True, role=MemberRole.CORE).exists():
        raise Conflict(_("This circle already has its core member."))
    # People from the same case never meet in a circle: that would be contact their case did not agree to.
    their_cases = {p.case_id for p in places} | set(
        Participant.objects.filter(user=user).values_list("case_id", flat=True)
    )
    others = circle.members.filter(left_at__isnull=True).exclude(role=MemberRole.VOLUNTEER)
    shared = Participant.objects.filter(
        user__in=others.values("user_id"), case_id__in=their_cases, role__in=TAKING_PART_ROLES
    ).exists()
    if shared:
        raise Conflict(
            _(
                "Someone from this person's case is already in this circle. People from the same case meet "
                "only within their case, with their consent."
            )
        )


@transaction.atomic
def member_add(*, actor: User, circle: Circle, user: User, role: str, name: str) -> CircleMember:
    """A volunteer joins only when vetted; everyone else by a place they held in one of the program's
    cases. Each goes by a pseudonym in the circle."""
    circle = Circle.objects.select_for_update().select_related("program").get(pk=circle.pk)
    _check_manages(actor, circle)
    _check_open(circle)
    if role not in MemberRole.values:
        raise DomainError(_("Choose the person's place in the circle."), field="role")
    if user.pk == circle.keeper_id:
        raise DomainError(_("The keeper runs the circle and is not added as a member."), field="person")
    if circle.members.filter(user=user, left_at__isnull=True).exists():
        raise Conflict(_("This person is already in the circle."))
    name = _check_name(circle, user, name)
    if role == MemberRole.VOLUNTEER:
        if not user.is_staff_member:
            raise DomainError(_("Only the program's volunteers can join as volunteers."), field="person")
        _check_volunteer(circle, user, timezone.localdate())
    else:
        if user.is_staff_member:
            raise DomainError(_("Staff join a circle only as volunteers."), field="person")
        _check_participant(actor, circle, user, role)
    member = CircleMember.objects.create(
        circle=circle, user=user, role=role, name=name, time_zone=user.time_zone or "UTC"
    )
    audit.record(
        actor=actor,
        code=AuditCode.CIRCLE_MEMBER_ADDED,
        target=member,
        program=circle.program,
        data={"circle": circle.pk, "role": role},
    )
    return member


@transaction.atomic
def member_remove(*, actor: User, member: CircleMember) -> CircleMember:
    """The person leaves the circle and every meeting of it still ahead."""
    circle = Circle.objects.select_for_update().select_related("program").get(pk=member.circle_id)
    _check_manages(actor, circle)
    member = CircleMember.objects.select_for_update().get(pk=member.pk)
    if member.left_at is not None:
        raise Conflict(_("This person has already left the circle."))
    member.left_at = timezone.now()
    member.save(update_fields=["left_at"])
    ahead = Meeting.objects.filter(circle=circle, starts_at__gt=member.left_at, member_attendees=member)
    for session in ahead:
        session.member_attendees.remove(member)
    audit.record(
        actor=actor,
        code=AuditCode.CIRCLE_MEMBER_REMOVED,
        target=member,
        program=circle.program,
        data={"circle": circle.pk, "role": member.role},
    )
    return member


@transaction.atomic
def member_places_end(*, actor: User, user: User, program_id: int | None, reason: str) -> int:
    """Offboarding: the person leaves every circle of the program they hold a place in (of every program
    when `program_id` is None), each as `member_remove` would, with its own audit event. The caller
    (mend.accounts.offboarding) has already checked that the actor may remove them. Returns how many."""
    places = CircleMember.objects.select_for_update(of=("self",)).filter(user=user, left_at__isnull=True)
    if program_id is not None:
        places = places.filter(circle__program_id=program_id)
    ended = 0
    now = timezone.now()
    for member in places.select_related("circle__program").order_by("pk"):
        member.left_at = now
        member.save(update_fields=["left_at"])
        ahead = Meeting.objects.filter(circle=member.circle, starts_at__gt=now, member_attendees=member)
        for session in ahead:
            session.member_attendees.remove(member)
        audit.record(
            actor=actor,
            code=AuditCode.CIRCLE_MEMBER_REMOVED,
            target=member,
            program=member.circle.program,
            data={"circle": member.circle_id, "role": member.role, "reason": reason},
        )
        ended += 1
    return ended


@transaction.atomic
def vetting_record(
    *,
    actor: User,
    program: Program,
    user: User,
    training_completed_on: date | None,
    background_checked_on: date | None,
) -> Vetting:
    if not _oversees(actor, program):
        raise DomainError(_("Only the program's coordinators can record vetting."))
    if not Membership.objects.filter(user=user, program=program, role=Membership.Role.VOLUNTEER).exists():
        raise DomainError(_("Choose one of the program's volunteers."), field="volunteer")
    today = timezone.localdate()
    for field, day in (
        ("training_completed_on", training_completed_on),
        ("background_checked_on", background_checked_on),
    ):
        if day is not None and day > today:
            raise DomainError(_("Choose a date that has passed, not one ahead."), field=field)
    vetting, _created = Vetting.objects.update_or_create(
        program=program,
        user=user,
        defaults={
            "training_completed_on": training_completed_on,
            "background_checked_on": background_checked_on,
            "updated_by": actor,
        },
    )
    audit.record(
        actor=actor,
        code=AuditCode.VETTING_RECORDED,
        target=vetting,
        program=program,
        data={
            "volunteer": user.pk,
            "trained": training_completed_on is not None,
            "checked": background_checked_on is not None,
        },
    )
    return vetting


# Meetings.


@transaction.atomic
def circle_meeting_schedule(
    *,
    actor: User,
    circle: Circle,
    format: str,
    starts_at: datetime,
    time_zone: str,
    members: list[CircleMember],
    duration_minutes: int = 90,
) -> Meeting:
    """A circle meeting with the members chosen; the keeper runs and attends every meeting."""
    circle = Circle.objects.select_for_update().select_related("program", "keeper").get(pk=circle.pk)
    _check_manages(actor, circle)
    _check_open(circle)
    starts_at, zone_name = when_checked(
        format=format,
        starts_at=starts_at,
        time_zone=time_zone,
        duration_minutes=duration_minutes,
        too_long=_("A meeting lasts from 15 minutes to 8 hours."),
    )
    if not _roles_in(circle.keeper, circle.program) & set(KEEPING_ROLES):
        raise Conflict(
            _("This circle's keeper no longer facilitates in the program, and every meeting needs them.")
        )
    chosen = list(
        CircleMember.objects.select_related("user").filter(
            pk__in=[m.pk for m in members], circle=circle, left_at__isnull=True
        )
    )
    if not chosen or len(chosen) != len({m.pk for m in members}):
        raise DomainError(_("Choose who attends from the people in this circle."), field="members")
    if circle.kind == CircleKind.COSA and not any(m.role == MemberRole.CORE for m in chosen):
        raise DomainError(
            _("A circle of support and accountability meets with its core member: choose them too."),
            field="members",
        )
    today = timezone.localdate()
    vettings = {
        v.user_id: v
        for v in Vetting.objects.filter(
            program=circle.program, user__in=[m.user_id for m in chosen if m.role == MemberRole.VOLUNTEER]
        )
    }
    for member in chosen:
        if member.role != MemberRole.VOLUNTEER:
            continue
        problem = vetting_problem(vettings.get(member.user_id), today)
        if problem:
            raise Conflict(
                _("%(name)s cannot attend as a volunteer now: %(problem)s.")
                % {"name": member.name, "problem": problem}
            )
    session = Meeting.objects.create(
        circle=circle,
        kind=MeetingKind.CIRCLE,
        format=format,
        starts_at=starts_at,
        time_zone=zone_name,
        duration_minutes=duration_minutes,
        created_by=actor,
    )
    session.member_attendees.set(chosen)
    audit.record(
        actor=actor,
        code=AuditCode.CIRCLE_MEETING_SCHEDULED,
        target=session,
        program=circle.program,
        data={"circle": circle.pk, "format": format, "attendees": len(chosen)},
    )
    return session


# Minutes.


def minutes_conversation(session: Meeting) -> str:
    """What a meeting's minutes envelope names as its conversation."""
    return f"minutes-{session.pk}"


def minutes_readers(circle: Circle) -> list[User]:
    """Whom minutes are sealed to: the keeper (while an active facilitating member of the program) and the
    program's coordinators."""
    keeper = circle.keeper
    readers = {}
    if keeper.is_active and _roles_in(keeper, circle.program) & set(KEEPING_ROLES):
        readers[keeper.pk] = keeper
    for person in coordinators_of(circle.program):
        readers.setdefault(person.pk, person)
    return list(readers.values())


def current_bundles(users) -> dict[int, KeyBundle]:
    return {
        b.user_id: b
        for b in KeyBundle.objects.filter(user__in=[u.pk for u in users], replaced_at__isnull=True)
    }


def minutes_writer_problem(actor: User, circle: Circle) -> str | None:
    if actor.pk == circle.keeper_id and _roles_in(actor, circle.program) & set(KEEPING_ROLES):
        return None
    volunteer = circle.members.filter(user=actor, left_at__isnull=True, role=MemberRole.VOLUNTEER).exists()
    return None if volunteer else _("Only the circle's keeper and its volunteers write the minutes.")


class MinutesRefused(DomainError):
    """Minutes the server will not store; `code` names the check, for the page's script."""

    def __init__(self, message: str, code: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.status = status


def _check_minutes_envelope(envelope, session: Meeting) -> dict:
    try:
        env.check_form(envelope)
    except env.EnvelopeError as error:
        raise MinutesRefused(str(error), "form") from None
    if envelope["conversation"] != minutes_conversation(session):
        raise MinutesRefused(_("This envelope names another meeting."), "form")
    if envelope["meta"] != {"kind": "message"}:
        raise MinutesRefused(_("Minutes are a plain message, without attachments or references."), "form")
    return envelope


@transaction.atomic
def minutes_submit(*, actor: User, session: Meeting, envelope: dict, concern: bool) -> tuple[Minutes, bool]:
    """Accepts a meeting's minutes, sealed on the writer's device to exactly the keeper and the coordinators
    with keys, and signed; (minutes, False) for an identical retry. A concern alerts every coordinator
    at once. The server reads nothing of the minutes but the concern flag."""
    if not isinstance(concern, bool):
        raise MinutesRefused(_("Say whether the minutes raise a concern."), "form")
    _check_minutes_envelope(envelope, session)
    stored = env.canonical(envelope).decode()
    session = (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("circle__program", "circle__keeper")
        .filter(pk=session.pk, circle__isnull=False)
        .first()
    )
    if session is None:
        raise MinutesRefused(_("Minutes here are for circle meetings."), "form")
    circle = session.circle
    problem = minutes_writer_problem(actor, circle)
    if problem:
        raise MinutesRefused(problem, "member", status=403)
    existing = Minutes.objects.filter(session=session).first()
    if existing is not None:
        if existing.envelope == stored and existing.written_by_id == actor.pk:
            return existing, False
        raise MinutesRefused(_("The minutes of this meeting were already sent."), "sent", status=409)
    if session.status != MeetingStatus.SCHEDULED:
        raise MinutesRefused(
            _("This meeting did not take place, so it has no minutes."), "not_now", status=409
        )
    if session.starts_at > timezone.now():
        raise MinutesRefused(_("Minutes can be sent once the meeting has begun."), "not_now", status=409)
    bundle = current_bundles([actor]).get(actor.pk)
    if bundle is None or bundle.key_id != envelope["sender"]:
        raise MinutesRefused(
            _(
                "These minutes were sealed with keys that are not your current keys. "
                "Reload the page and send again."
            ),
            "sender_key",
        )
    expected = current_bundles(minutes_readers(circle))
    if {entry["to"] for entry in envelope["keys"]} != {b.key_id for b in expected.values()}:
        raise MinutesRefused(
            _(
                "The people who receive the minutes or their keys have changed. "
                "Reload the page and send again."
            ),
            "recipients",
        )
    try:
        env.verify(envelope, env.unb64u(bundle.sign_public))
    except env.EnvelopeError as error:
        raise MinutesRefused(str(error), "signature") from None
    minutes = Minutes.objects.create(
        session=session, envelope=stored, concern=concern, written_by=actor, submitted_at=timezone.now()
    )
    if concern:
        StaffAlert.objects.bulk_create(
            [
                StaffAlert(
                    recipient=person,
                    program=circle.program,
                    kind=StaffAlert.Kind.CONCERN,
                    circle=circle,
                    session=session,
                )
                for person in coordinators_of(circle.program)
            ]
        )
    audit.record(
        actor=actor,
        code=AuditCode.MINUTES_SUBMITTED,
        target=minutes,
        program=circle.program,
        data={"circle": circle.pk, "session": session.pk, "concern": concern},
    )
    return minutes, True
