"""Reads for the circle pages: the circles a person sees, one circle with its members and meetings in a
fixed number of queries, the people who may be added, and volunteers with their vetting."""

import json
from datetime import datetime, timedelta

from django.db.models import F, Prefetch
from django.utils import timezone

from mend.accounts.models import KeyBundle, Membership, Program, User
from mend.cases.access import cases_managed_by
from mend.cases.models import Participant
from mend.circles.circle_access import KEEPING_ROLES, OVERSEEING_ROLES, circles_visible_to
from mend.circles.minutes import meeting_end, minutes_due_at
from mend.circles.models import Circle, CircleMember, Vetting
from mend.circles.standing import PLACES, TAKING_PART_ROLES, current_bundles, minutes_readers, vetting_problem
from mend.meetings.models import Meeting, MeetingStatus

PAST_SHOWN = 12


def circles_for(user: User) -> list[Circle]:
    """Every circle the user sees, open ones first; `my_place` is their own member place, if any."""
    circles = list(
        circles_visible_to(user)
        .select_related("program", "keeper")
        .order_by(F("closed_at").asc(nulls_first=True), "-starts_on", "pk")
    )
    places = {
        m.circle_id: m
        for m in CircleMember.objects.filter(
            user=user, left_at__isnull=True, circle__in=[c.pk for c in circles]
        )
    }
    for circle in circles:
        circle.my_place = places.get(circle.pk)
    return circles


def keepers_for(user: User, programs: list[Program]) -> list[tuple[User, Program]]:
    """Who the user may name as a circle's keeper: in programs they oversee, any of its facilitating staff;
    elsewhere, themselves."""
    memberships = Membership.objects.filter(user=user, program__in=programs).values_list("program_id", "role")
    overseen = {program_id for program_id, role in memberships if role in OVERSEEING_ROLES}
    by_pk = {p.pk: p for p in programs}
    keepers = []
    rows = (
        Membership.objects.filter(program__in=programs, role__in=KEEPING_ROLES)
        .select_related("user")
        .order_by("program_id", "user__display_name")
    )
    for row in rows:
        if row.program_id in overseen or row.user_id == user.pk:
            keepers.append((row.user, by_pk[row.program_id]))
    return keepers


def _minutes_state(session: Meeting, now: datetime) -> str:
    if session.status == MeetingStatus.CANCELLED:
        return "cancelled"
    if hasattr(session, "minutes"):
        return "concern" if session.minutes.concern else "sent"
    if session.status != MeetingStatus.SCHEDULED:
        return "none"
    return "due" if minutes_due_at(session) > now else "overdue"


def circle_page(circle: Circle) -> dict:
    """One circle as its page shows it; the number of queries does not grow with members or meetings."""
    now = timezone.now()
    viewer = circle.viewer
    members = list(
        circle.members.filter(left_at__isnull=True).select_related("user").order_by("role", "name", "pk")
    )
    vetting = {}
    if viewer.manages:
        today = timezone.localdate()
        found = {
            v.user_id: v
            for v in Vetting.objects.filter(
                program=circle.program,
                user__in=[m.user_id for m in members if m.role == CircleMember.Role.VOLUNTEER],
            )
        }
        for member in members:
            if member.role == CircleMember.Role.VOLUNTEER:
                record = found.get(member.user_id)
                vetting[member.pk] = {"record": record, "problem": vetting_problem(record, today)}
    for member in members:
        member.vetting = vetting.get(member.pk)
    attendees = Prefetch(
        "member_attendees", queryset=CircleMember.objects.order_by("name", "pk"), to_attr="attending"
    )
    sessions = Meeting.objects.filter(circle=circle).select_related("minutes").prefetch_related(attendees)
    upcoming, past = [], []
    for session in sessions.filter(starts_at__gte=now - timedelta(hours=8)).order_by("starts_at"):
        if meeting_end(session) > now and session.status != MeetingStatus.CANCELLED:
            upcoming.append(session)
    for session in sessions.filter(starts_at__lte=now).order_by("-starts_at")[:PAST_SHOWN]:
        if meeting_end(session) <= now or session.status == MeetingStatus.CANCELLED:
            past.append(session)
    for session in upcoming + past:
        session.minutes_state = _minutes_state(session, now)
        session.due_at = minutes_due_at(session)
    return {"members": members, "upcoming": upcoming, "past": past}


def people_to_add(actor: User, circle: Circle) -> list[tuple[int, str]]:
    """Who the actor may offer for a place: the program's volunteers (with their vetting), and people who
    took part in cases of the program that the actor runs, by pseudonym and case. The service decides."""
    in_circle = set(circle.members.filter(left_at__isnull=True).values_list("user_id", flat=True))
    in_circle.add(circle.keeper_id)
    today = timezone.localdate()
    vettings = {v.user_id: v for v in Vetting.objects.filter(program=circle.program)}
    choices = []
    volunteers = (
        Membership.objects.filter(program=circle.program, role=Membership.Role.VOLUNTEER)
        .select_related("user")
        .order_by("user__display_name")
    )
    for row in volunteers:
        if row.user_id in in_circle:
            continue
        problem = vetting_problem(vettings.get(row.user_id), today)
        state = "not vetted yet" if problem else "vetted"
        choices.append((row.user_id, f"{row.user.display_name} (volunteer, {state})"))
    roles = set().union(*PLACES[circle.kind].values()) & TAKING_PART_ROLES
    places = (
        Participant.objects.filter(
            case__in=cases_managed_by(actor).filter(program=circle.program),
            joined_at__isnull=False,
            removed_at__isnull=True,
            user__isnull=False,
            role__in=roles,
        )
        .select_related("case")
        .order_by("pseudonym", "pk")
    )
    seen = set()
    for place in places:
        if place.user_id in in_circle or place.user_id in seen:
            continue
        seen.add(place.user_id)
        word = circle.program.word_for(place.role)
        choices.append((place.user_id, f"{place.pseudonym} ({word}, {place.case.reference})"))
    return choices


def volunteers_for(user: User) -> list[dict]:
    """The volunteers of the programs the user oversees, with their vetting, for the vetting page."""
    programs = Program.objects.filter(memberships__user=user, memberships__role__in=OVERSEEING_ROLES)
    rows = (
        Membership.objects.filter(program__in=programs, role=Membership.Role.VOLUNTEER)
        .select_related("user", "program")
        .order_by("program__name", "user__display_name")
    )
    rows = list(rows)
    vettings = {
        (v.program_id, v.user_id): v
        for v in Vetting.objects.filter(program__in=programs, user__in=[r.user_id for r in rows])
    }
    today = timezone.localdate()
    result = []
    for row in rows:
        record = vettings.get((row.program_id, row.user_id))
        result.append({"membership": row, "record": record, "problem": vetting_problem(record, today)})
    return result


def minutes_recipients(circle: Circle) -> dict:
    """Whom the minutes are sealed to now, with their current public keys, and who has no keys yet."""
    readers = minutes_readers(circle)
    bundles = current_bundles(readers)
    recipients, without_keys = [], []
    for person in readers:
        bundle = bundles.get(person.pk)
        if bundle is None:
            without_keys.append(person.display_name)
            continue
        recipients.append(
            {
                "user": person.pk,
                "name": person.display_name,
                "keeper": person.pk == circle.keeper_id,
                "key_id": bundle.key_id,
                "enc_public": bundle.enc_public,
            }
        )
    return {"recipients": recipients, "without_keys": without_keys}


def minutes_frame(session: Meeting) -> dict | None:
    """Stored minutes as the page's script opens them: the envelope and its writer's public keys."""
    minutes = getattr(session, "minutes", None)
    if minutes is None:
        return None
    envelope = json.loads(minutes.envelope)
    # The writer's keys and every recipient's, so that the reader can check each entry (envelope v2).
    recipients = [entry["to"] for entry in envelope.get("keys", [])]
    bundles = {
        b.key_id: b for b in KeyBundle.objects.filter(key_id__in={envelope.get("sender"), *recipients})
    }
    bundle = bundles.get(envelope.get("sender"))
    return {
        "envelope": envelope,
        "at": minutes.submitted_at.isoformat(),
        "from": {
            "user": minutes.written_by_id,
            "enc_public": bundle.enc_public if bundle else None,
            "sign_public": bundle.sign_public if bundle else None,
        },
        "recipient_keys": {
            key_id: {"enc_public": bundles[key_id].enc_public, "sign_public": bundles[key_id].sign_public}
            if key_id in bundles
            else None
            for key_id in recipients
        },
    }


def current_members(circle: Circle) -> list:
    """The members who have not left, in the order the meeting form lists them."""
    return list(circle.members.filter(left_at__isnull=True).order_by("role", "name", "pk"))


def person(user_id: int) -> User:
    """The account offered for a place (one of people_to_add's choices, which the form checked)."""
    return User.objects.get(pk=user_id)


def vetting_choices(rows: list[dict]) -> list[tuple[int, str]]:
    """The volunteers for the vetting form, with their program's name when there is more than one."""
    many = len({row["membership"].program_id for row in rows}) > 1
    return [
        (
            row["membership"].pk,
            f"{row['membership'].user.display_name} ({row['membership'].program.name})"
            if many
            else row["membership"].user.display_name,
        )
        for row in rows
    ]
