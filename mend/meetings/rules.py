"""The one place that says who may be in a meeting's video room now, and what stands in the way.

A person in a room is one of the meeting's attendees: a place in the case for a case meeting (the
facilitators who run it included, when they attend), or a member of the circle or its keeper for a circle
meeting. They get signalling only while the meeting is scheduled and open, is small enough for Mend's own
room, and, for a case meeting, while the consent guards hold for them now: a person who withdrew or is on a
break gets nothing. Each person has an id in the room that names their kind of place, never their account:
"p12" (a place in the case), "m5" (a circle member), "k3" (the circle's keeper).
"""

from datetime import timedelta

from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from mend.accounts.models import Membership, User
from mend.cases import workflow
from mend.cases.access import manages_case
from mend.cases.models import FACILITATING_ROLES, PARTY_ROLES, Case, Participant, Role
from mend.dialogue.rules import interpreters_for, interpreting
from mend.meetings.models import Meeting, MeetingFormat, MeetingStatus
from mend.readiness.rules import Missing, room_missing, visible_to
from mend.readiness.snapshot import choices_snapshot, snapshot_of

ROOM_SIZE = 6  # Mend's own room is a mesh: every browser sends to every other. Larger groups use Jitsi.
OPENS_BEFORE = timedelta(minutes=15)  # a facilitator can open the room this long before the start
# A room left open after its planned end closes by itself this long after it.
OVERRUN = timedelta(hours=2)
KEEPING_ROLES = (Membership.Role.ADMIN, Membership.Role.COORDINATOR, Membership.Role.FACILITATOR)

# A place in a case, a circle's member (mend.circles.models.CircleMember), or the keeper (an account).
# Circles sit above meetings (docs/layers.md), so a member is known here as the model the meeting's own
# member_attendees hold, not imported.
Person = Participant | Model | User


def _is_member(person: Person) -> bool:
    """A circle's member: an instance of the model behind Meeting.member_attendees."""
    return isinstance(person, Meeting._meta.get_field("member_attendees").related_model)


# --- who is who -------------------------------------------------------------------------------------------


def person_id(person: Person) -> str:
    if isinstance(person, Participant):
        return f"p{person.pk}"
    if _is_member(person):
        return f"m{person.pk}"
    return f"k{person.pk}"


def facilitates(session: Meeting, person: Person) -> bool:
    """Runs the meeting on the day: a facilitator attending a case meeting, or the circle's keeper."""
    if isinstance(person, Participant):
        return person.role in FACILITATING_ROLES
    if _is_member(person):
        return person.user_id == session.circle.keeper_id
    return True  # the keeper


def name_of(session: Meeting, person: Person, *, staff_by_name: bool = True) -> str:
    """How the others at a meeting know a person: by their pseudonym (or the program's word for their
    role), never by an account's name. In the room (`staff_by_name`), facilitators and keepers go by their
    name; the meeting's page and its messages name a facilitator as they name everyone (the two differed
    before they were one function, and each keeps what it showed)."""
    if isinstance(person, Participant):
        if staff_by_name and person.role in FACILITATING_ROLES:
            return person.user.display_name
        if person.role == Role.INTERPRETER:
            # As in a conversation: that an interpreter is here, never their pseudonym nor whom they help.
            return session.case.program.word_for(person.role)
        return person.pseudonym or session.case.program.word_for(person.role)
    if _is_member(person):
        return person.name
    return person.display_name


def attendees(session: Meeting) -> list[Person]:
    """Everyone invited to the meeting who still holds their place, in a fixed order."""
    if session.case_id is not None:
        return list(session.attendees.filter(removed_at__isnull=True).select_related("user").order_by("pk"))
    members = list(
        session.member_attendees.filter(left_at__isnull=True, circle_id=session.circle_id)
        .select_related("user")
        .order_by("pk")
    )
    if any(m.user_id == session.circle.keeper_id for m in members):
        return members
    return [session.circle.keeper, *members]


def too_large(session: Meeting) -> bool:
    return len(attendees(session)) > ROOM_SIZE


# --- who may come in ----------------------------------------------------------------------------------------


def meeting_member(session: Meeting, user: User) -> Person | None:
    """The user's own place among the meeting's attendees, or None: anyone else (in the case, running it
    from the office, or a stranger) is not in the room."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if session.case_id is not None:
        place = (
            session.attendees.filter(user=user, removed_at__isnull=True)
            .select_related("user", "case__program")
            .first()
        )
        if place is None:
            return None
        if place.role in FACILITATING_ROLES:
            # Still running the case as staff of its program, not only holding a place in it.
            return place if manages_case(user, session.case_id) else None
        return place if place.joined_at is not None else None
    circle = session.circle
    if circle.closed_at is not None:
        return None
    member = session.member_attendees.filter(user=user, left_at__isnull=True, circle=circle).first()
    # A staff member (a volunteer) attends only while still in the circle's program.
    if member is not None and (
        not user.is_staff_member
        or Membership.objects.filter(user=user, program_id=circle.program_id).exists()
    ):
        return member
    keeps = (
        user.pk == circle.keeper_id
        and Membership.objects.filter(
            user=user, program_id=circle.program_id, role__in=KEEPING_ROLES
        ).exists()
    )
    return user if keeps else None


def person_missing(session: Meeting, person: Person) -> list[str]:
    """What stands between this person and the room, about them alone: still invited, and, at a case
    meeting, their consent and presence as the readiness rules ask for them now (room_missing)."""
    if session.case_id is None:
        return _circle_person_missing(session, person)
    return _case_person_missing(session, person)


def meeting_live_missing(session: Meeting, person: Person, now=None) -> list[str]:
    """What stands between the meeting itself and a live room. A facilitator attending may open it within
    its time (by joining, mend.meetings.room): for them an unopened meeting is not in the way."""
    now = now or timezone.now()
    ends = session.starts_at + timedelta(minutes=session.duration_minutes)
    missing = []
    if session.format != MeetingFormat.VIDEO:
        missing.append(_("a meeting by video (this one is in person)"))
    if session.status == MeetingStatus.CANCELLED:
        missing.append(_("a meeting that is not cancelled"))
    elif session.status == MeetingStatus.ON_HOLD:
        missing.append(_("the meeting to come off hold"))
    if session.ended_at is not None:
        missing.append(_("a meeting that has not ended"))
    elif now >= ends + OVERRUN:
        missing.append(_("a meeting whose time has not passed"))
    elif session.opened_at is None:
        if not facilitates(session, person):
            missing.append(_("your facilitator to open the meeting"))
        elif now < session.starts_at - OPENS_BEFORE:
            missing.append(_("the meeting's time: it can be opened from 15 minutes before its start"))
        elif now >= ends:
            missing.append(_("a meeting whose time has not passed"))
    if session.case_id is not None:
        stage = Case.objects.filter(pk=session.case_id).values_list("stage", flat=True).first()
        if stage == workflow.CLOSED:
            missing.append(_("the case to be open"))
    elif session.circle.closed_at is not None:
        missing.append(_("the circle to be open"))
    if too_large(session):
        missing.append(_("a meeting of six people or fewer (larger meetings use the program's video link)"))
    return missing


def signalling_missing(session: Meeting, person: Person) -> list[str]:
    """Everything that stands between this person and signalling in the room now; empty when they may.
    Reads the session and the person's records afresh: the answer changes when anyone acts."""
    session = (
        Meeting.objects.select_related("case__program", "circle__program", "circle__keeper")
        .filter(pk=session.pk)
        .first()
    )
    if session is None:
        return [_("a meeting that exists")]
    return meeting_live_missing(session, person) + person_missing(session, person)


# --- who sees whom ----------------------------------------------------------------------------------------


def unseen_by(session: Meeting, viewer: Person | None, *, both_ways: bool = False) -> set[int]:
    """The places attending a case meeting whom this viewer may not see (readiness.rules.visible_to): on
    every page, file, message and frame they are "another participant", with no pseudonym, id or time zone.
    `both_ways` (the video room) adds the people who may not see the viewer: the two never connect. Staff
    running the case (viewer None), facilitators and circle meetings: nobody is hidden."""
    if session.case_id is None or not isinstance(viewer, Participant) or viewer.role in FACILITATING_ROLES:
        return set()
    case = session.case
    snap = choices_snapshot(case)
    me = snap.place(viewer.pk) or viewer
    hidden = set()
    for place in snap.places:
        if place.pk == me.pk or place.role in FACILITATING_ROLES:
            continue
        if not visible_to(snap, me, place) or (both_ways and not visible_to(snap, place, me)):
            hidden.add(place.pk)
    return hidden


# --- case meetings ------------------------------------------------------------------------------------------


def _case_person_missing(session: Meeting, place: Participant) -> list[str]:
    if not isinstance(place, Participant):
        return [_("an invitation to this meeting")]
    # A fresh snapshot each time: the answer changes when anyone acts.
    case = Case.objects.select_related("program").get(pk=session.case_id)
    invited = set(session.attendees.filter(removed_at__isnull=True).values_list("pk", flat=True))
    snap = snapshot_of(case)
    return room_missing(snap, invited, place) + interpreter_missing(snap, invited, place)


# --- interpreters -------------------------------------------------------------------------------------------
# An interpreter is at a case meeting only to help the party they are attached to, who attends it, while that
# party has given the interpreter consent and is on their path (mend.dialogue.rules.interpreting): the
# scheduler adds them with that party, and they leave when it no longer holds.


def interpreter_missing(snap, invited: set[int], place: Participant) -> list[str]:
    """What stands between this interpreter and a meeting of these people (empty for anyone else)."""
    if place.role != Role.INTERPRETER:
        return []
    if place.supports_id in invited and interpreting(snap, place):
        return []
    return [_("an interpreter only for a person attending who agreed to have one")]


def interpreter_items(snap, attendees: list[Participant]) -> list[Missing]:
    """interpreter_missing for each interpreter attending, as items that concern them alone."""
    invited = {p.pk for p in attendees}
    return [
        Missing(text, frozenset({p.pk})) for p in attendees for text in interpreter_missing(snap, invited, p)
    ]


def interpreters_joining(snap, attendees: list[Participant]) -> list[Participant]:
    """The interpreters helping the parties attending now who are not among the attendees yet."""
    parties = [p for p in attendees if p.role in PARTY_ROLES]
    return [p for p in interpreters_for(snap.case, parties, snap=snap) if p not in attendees]


# --- circle meetings ----------------------------------------------------------------------------------------


def _circle_person_missing(session: Meeting, person: Person) -> list[str]:
    circle = session.circle
    if _is_member(person):
        still = session.member_attendees.filter(pk=person.pk, left_at__isnull=True, circle=circle).exists()
        return [] if still else [_("a place in this circle")]
    if isinstance(person, User) and person.pk == circle.keeper_id:
        keeps = Membership.objects.filter(
            user=person, program_id=circle.program_id, role__in=KEEPING_ROLES
        ).exists()
        return [] if keeps else [_("a place in this circle")]
    return [_("an invitation to this meeting")]


# --- who signals with whom ----------------------------------------------------------------------------------


def peers_for(me: str, facilitators: set[str], present: set[str], side: set[str]) -> set[str]:
    """Whom a person in the room connects with now, of those present. Facilitators connect with everyone,
    in the main room and the side room alike. Everyone else connects only with people in their own room,
    and only while a facilitator is there: the parties are never left alone together."""
    others = present - {me}
    if me in facilitators:
        return others
    if not present & facilitators:
        return set()
    mine = me in side
    return {pid for pid in others if pid in facilitators or (pid in side) == mine}
