"""The one place that says who may be in a meeting's video room now, and what stands in the way.

A person in a room is one of the meeting's attendees: a place in the case for a case meeting (the
facilitators who run it included, when they attend), or a member of the circle or its keeper for a circle
meeting. They get signalling only while the meeting is scheduled and open, is small enough for Mend's own
room, and, for a case meeting, while the consent guards hold for them now: a person who withdrew or is on a
break gets nothing. Each person has an id in the room that names their kind of place, never their account:
"p12" (a place in the case), "m5" (a circle member), "k3" (the circle's keeper).
"""

from datetime import timedelta

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from mend.accounts.models import Membership, User
from mend.cases import guards, workflow
from mend.cases.access import manages_case
from mend.cases.models import FACILITATING_ROLES, PARTY_ROLES, Case, Participant, Role
from mend.circles.models import CircleMember, Session, SessionFormat, SessionStatus

ROOM_SIZE = 6  # Mend's own room is a mesh: every browser sends to every other. Larger groups use Jitsi.
OPENS_BEFORE = timedelta(minutes=15)  # a facilitator can open the room this long before the start
# A room left open after its planned end closes by itself this long after it.
OVERRUN = timedelta(hours=2)
KEEPING_ROLES = (Membership.Role.ADMIN, Membership.Role.COORDINATOR, Membership.Role.FACILITATOR)

Person = Participant | CircleMember | User


# --- who is who -------------------------------------------------------------------------------------------


def person_id(person: Person) -> str:
    if isinstance(person, Participant):
        return f"p{person.pk}"
    if isinstance(person, CircleMember):
        return f"m{person.pk}"
    return f"k{person.pk}"


def facilitates(session: Session, person: Person) -> bool:
    """Runs the meeting on the day: a facilitator attending a case meeting, or the circle's keeper."""
    if isinstance(person, Participant):
        return person.role in FACILITATING_ROLES
    if isinstance(person, CircleMember):
        return person.user_id == session.circle.keeper_id
    return True  # the keeper


def name_of(session: Session, person: Person) -> str:
    """How the others in the room know a person: facilitators and keepers by name, everyone else by their
    pseudonym (or the program's word for their role), never by an account's name."""
    if isinstance(person, Participant):
        if person.role in FACILITATING_ROLES:
            return person.user.display_name
        return person.pseudonym or session.case.program.word_for(person.role)
    if isinstance(person, CircleMember):
        return person.name
    return person.display_name


def attendees(session: Session) -> list[Person]:
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


def too_large(session: Session) -> bool:
    return len(attendees(session)) > ROOM_SIZE


# --- who may come in ----------------------------------------------------------------------------------------


def meeting_member(session: Session, user: User) -> Person | None:
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


def access_meeting(user: User, session_id: int) -> tuple[Session, Person]:
    """The meeting and the user's place in it; a meeting that does not exist and one the user does not
    attend give the same 404."""
    session = (
        Session.objects.select_related("case__program", "circle__program", "circle__keeper")
        .filter(pk=session_id)
        .first()
    )
    person = meeting_member(session, user) if session is not None else None
    if person is None:
        raise Http404
    return session, person


def person_missing(session: Session, person: Person) -> list[str]:
    """What stands between this person and the room, about them alone: still invited, and, at a case
    meeting, their consent and presence as the guards ask for them now."""
    if session.case_id is None:
        return _circle_person_missing(session, person)
    return _case_person_missing(session, person)


def session_missing(session: Session, person: Person, now=None) -> list[str]:
    """What stands between the meeting itself and a live room. A facilitator attending may open it within
    its time (by joining, mend.circles.video): for them an unopened meeting is not in the way."""
    now = now or timezone.now()
    ends = session.starts_at + timedelta(minutes=session.duration_minutes)
    missing = []
    if session.format != SessionFormat.VIDEO:
        missing.append(_("a meeting by video (this one is in person)"))
    if session.status == SessionStatus.CANCELLED:
        missing.append(_("a meeting that is not cancelled"))
    elif session.status == SessionStatus.ON_HOLD:
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


def signalling_missing(session: Session, person: Person) -> list[str]:
    """Everything that stands between this person and signalling in the room now; empty when they may.
    Reads the session and the person's records afresh: the answer changes when anyone acts."""
    session = (
        Session.objects.select_related("case__program", "circle__program", "circle__keeper")
        .filter(pk=session.pk)
        .first()
    )
    if session is None:
        return [_("a meeting that exists")]
    return session_missing(session, person) + person_missing(session, person)


# --- case meetings ------------------------------------------------------------------------------------------


def _case_person_missing(session: Session, place: Participant) -> list[str]:
    if not isinstance(place, Participant):
        return [_("an invitation to this meeting")]
    # A fresh case each time: the guards keep what they read on the case object.
    case = Case.objects.select_related("program").get(pk=session.case_id)
    invited = set(session.attendees.filter(removed_at__isnull=True).values_list("pk", flat=True))
    everyone = guards.people(case)  # their consent and preparation records, read in a few queries
    present = [p for p in everyone if p.pk in invited]
    me = next((p for p in present if p.pk == place.pk), None)
    if me is None:
        return [_("an invitation to this meeting")]
    if me.role in FACILITATING_ROLES:
        return []
    facilitators = [p for p in present if p.role in FACILITATING_ROLES]
    # Each person alone with the facilitators: joined, consent to take part and to be contacted, not on a
    # break; a supporter or community member only as the person harmed allowed.
    holding = [p for p in present if p in facilitators or not _alone_missing(case, facilitators, p)]
    if me not in holding:
        return _alone_missing(case, facilitators, me)
    # Together: when both sides are in the room it is contact between the parties, and each person needs
    # what contact needs of them. Whoever lacks it leaves; the rest may go on (a break or withdrawal removes
    # that person, not the meeting). Repeat until nobody else leaves.
    while True:
        reasons = {p.pk: _contact_missing(case, p, holding) for p in holding if p not in facilitators}
        leaving = {pk for pk, items in reasons.items() if items}
        if me.pk in leaving:
            return reasons[me.pk]
        if not leaving:
            return []
        holding = [p for p in holding if p.pk not in leaving]


def _alone_missing(case: Case, facilitators: list[Participant], place: Participant) -> list[str]:
    return guards.meeting_missing(case, [*facilitators, place], check_stage=False)


def _contact_missing(case: Case, place: Participant, holding: list[Participant]) -> list[str]:
    """What a meeting of both sides needs of this one person, as guards.meeting_missing asks it of a whole
    meeting (direct consent, the person harmed's choice, who they allowed to attend, preparation)."""
    from mend.consent.selectors import choices_of, current_scopes

    sides = {p.pk: guards._side(case, p) for p in holding}
    if not {"harmed", "responsible"} <= set(sides.values()):
        return []
    missing = guards.preparation_complete(case) + guards.no_conflict_of_interest(case)
    name = guards._name(case, place)
    if place.role in PARTY_ROLES and "direct_meeting" not in current_scopes(place):
        missing.append(_("consent of the %(name)s to meet directly") % {"name": name})
    represented = []  # the people harmed this meeting concerns: present, or through a supporter
    for other in holding:
        if sides[other.pk] == "harmed":
            person = other if other.role == Role.HARMED_PARTY else _supported(case, other)
            if person is not None and person not in represented:
                represented.append(person)
    if sides[place.pk] == "harmed":
        person = place if place.role == Role.HARMED_PARTY else _supported(case, place)
        if person is not None:
            mode = choices_of(person).mode
            if mode != "direct":
                missing.append(
                    _("a meeting that fits the choice of the %(name)s") % {"name": guards._name(case, person)}
                )
            if person not in holding:
                missing += guards._consent_and_presence(case, person, {"direct"})
    if place.role in (Role.SUPPORTER, Role.COMMUNITY_MEMBER):
        for person_harmed in represented:
            choices = choices_of(person_harmed)
            if place.role == Role.SUPPORTER:
                allowed = choices.supporters_may_attend
            else:
                allowed = choices.community_may_attend
            if not allowed:
                missing.append(
                    _("the %(harmed)s to allow the %(name)s to attend")
                    % {"harmed": guards._name(case, person_harmed), "name": name}
                )
    return missing


def _supported(case: Case, place: Participant) -> Participant | None:
    return next((p for p in guards.people(case) if p.pk == place.supports_id), None)


# --- circle meetings ----------------------------------------------------------------------------------------


def _circle_person_missing(session: Session, person: Person) -> list[str]:
    circle = session.circle
    if isinstance(person, CircleMember):
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
