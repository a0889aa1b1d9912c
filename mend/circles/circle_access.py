"""Every read of a circle goes through here. The program's admins and coordinators and the circle's keeper
see all of it; its members see their own circle; anyone else gets the same 404 as a circle that does not
exist."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from mend.accounts.models import Membership, Program, User
from mend.circles.models import Circle, CircleMember, StaffAlert
from mend.meetings.models import Meeting

OVERSEEING_ROLES = (Membership.Role.ADMIN, Membership.Role.COORDINATOR)
# Who may keep a circle: the program's facilitating staff. Volunteers take part; they do not keep.
KEEPING_ROLES = (Membership.Role.ADMIN, Membership.Role.COORDINATOR, Membership.Role.FACILITATOR)


@dataclass(frozen=True)
class CircleViewer:
    """Where the person looking stands in the circle."""

    oversees: bool  # an admin or coordinator of the circle's program
    keeps: bool  # the circle's keeper, still facilitating in the program
    place: CircleMember | None  # their own place as a member

    @property
    def manages(self) -> bool:
        return self.oversees or self.keeps

    @property
    def writes_minutes(self) -> bool:
        return self.keeps or (self.place is not None and self.place.role == CircleMember.Role.VOLUNTEER)

    @property
    def follows_minutes(self) -> bool:
        """Sees whether each meeting's minutes are in: the staff and the people who write them."""
        return self.manages or self.writes_minutes


def programs_overseen(user: User) -> QuerySet[Program]:
    if not user.is_authenticated or not user.is_staff_member:
        return Program.objects.none()
    return Program.objects.filter(memberships__user=user, memberships__role__in=OVERSEEING_ROLES)


def programs_for_circles(user: User) -> QuerySet[Program]:
    """Programs in which the user may start a circle (admins, coordinators and facilitators)."""
    if not user.is_authenticated or not user.is_staff_member:
        return Program.objects.none()
    return Program.objects.filter(memberships__user=user, memberships__role__in=KEEPING_ROLES)


def _places_held(user: User) -> QuerySet[CircleMember]:
    """The user's places in circles that still count: a staff member's (a volunteer's) only in a program
    they still belong to, so that leaving it, however it happened, ends them."""
    places = CircleMember.objects.filter(user=user, left_at__isnull=True)
    if not user.is_active:
        return places.none()
    if user.is_staff_member:
        places = places.filter(circle__program__memberships__user=user)
    return places


def circles_visible_to(user: User) -> QuerySet[Circle]:
    if not user.is_authenticated:
        return Circle.objects.none()
    visible = Q(pk__in=_places_held(user).values("circle_id"))
    if user.is_staff_member:
        visible |= Q(program__in=programs_overseen(user))
        visible |= Q(keeper=user, program__in=programs_for_circles(user))
    return Circle.objects.filter(visible)


def _viewer(user: User, circle: Circle) -> CircleViewer:
    roles = set()
    if user.is_staff_member and user.is_active:
        roles = set(
            Membership.objects.filter(user=user, program_id=circle.program_id).values_list("role", flat=True)
        )
    place = None
    # A place counts for an active account only, and a staff member's only while they are in the program.
    if user.is_active and (roles or not user.is_staff_member):
        place = (
            CircleMember.objects.filter(circle=circle, user=user, left_at__isnull=True).order_by("pk").first()
        )
    return CircleViewer(
        oversees=bool(roles & set(OVERSEEING_ROLES)),
        keeps=circle.keeper_id == user.pk and bool(roles & set(KEEPING_ROLES)),
        place=place,
    )


def access_circle(user: User, circle_id: int) -> Circle:
    """A circle the user may see; `circle.viewer` says where they stand in it."""
    if not user.is_authenticated:
        raise Http404
    circle = Circle.objects.select_related("program", "keeper", "case").filter(pk=circle_id).first()
    if circle is None:
        raise Http404
    viewer = _viewer(user, circle)
    if not (viewer.manages or viewer.place is not None):
        raise Http404
    circle.viewer = viewer
    return circle


def access_managed_circle(user: User, circle_id: int) -> Circle:
    """A circle the user runs: its keeper, or an admin or coordinator of its program."""
    circle = access_circle(user, circle_id)
    if not circle.viewer.manages:
        raise Http404
    return circle


def access_circle_member(circle: Circle, member_id: int) -> CircleMember:
    member = (
        CircleMember.objects.select_related("user")
        .filter(circle=circle, pk=member_id, left_at__isnull=True)
        .first()
    )
    if member is None:
        raise Http404
    return member


def access_circle_meeting(circle: Circle, session_id: int) -> Meeting:
    session = Meeting.objects.select_related("minutes").filter(circle=circle, pk=session_id).first()
    if session is None:
        raise Http404
    return session


def access_minutes_meeting(user: User, circle_id: int, session_id: int) -> tuple[Circle, Meeting]:
    """A circle meeting whose minutes the user writes or follows: its keeper and volunteers, and the
    program's admins and coordinators. Other members do not see the minutes."""
    circle = access_circle(user, circle_id)
    if not circle.viewer.follows_minutes:
        raise Http404
    return circle, access_circle_meeting(circle, session_id)


def access_staff_alert(user: User, alert_id: int) -> StaffAlert:
    alert = StaffAlert.objects.filter(pk=alert_id, recipient=user).first() if user.is_authenticated else None
    if alert is None:
        raise Http404
    return alert
