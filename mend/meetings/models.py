"""Meetings of a case or of a circle, which the consent and readiness rules protect, and each person's
attendance at them.

The tables are the ones these models had when they lived in mend.circles (circles_session and the rest): the
move changed the code only, no row (mend/meetings/migrations/0002_meetings_from_circles.py). The many-to-many
tables are spelled out for the same reason: their column is still session_id."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MeetingKind(models.TextChoices):
    PREPARATION = "preparation", _("Preparation meeting")
    DIALOGUE = "dialogue", _("Dialogue")
    CONFERENCE = "conference", _("Conference")
    CIRCLE = "circle", _("Circle meeting")


class MeetingFormat(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    VIDEO = "video", _("By video")


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    ON_HOLD = "on_hold", _("On hold")
    CANCELLED = "cancelled", _("Cancelled")


class Meeting(models.Model):
    """A meeting: of a case (its attendees are places in the case) or of a circle (its members)."""

    # Its audit events keep the target name they had before the class was renamed (circles.Session).
    AUDIT_TARGET = "session"

    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="sessions"
    )
    circle = models.ForeignKey(
        "circles.Circle", null=True, blank=True, on_delete=models.CASCADE, related_name="sessions"
    )
    kind = models.CharField(max_length=16, choices=MeetingKind.choices)
    format = models.CharField(max_length=12, choices=MeetingFormat.choices)
    starts_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64)
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    status = models.CharField(max_length=12, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED)
    attendees = models.ManyToManyField("cases.Participant", through="MeetingPlace", related_name="sessions")
    member_attendees = models.ManyToManyField(
        "circles.CircleMember", through="MeetingMember", related_name="sessions", blank=True
    )
    # A conference: the agenda (plain words, no names) and the speaking order of the talking-piece round
    # (ids of attendees' places, or of circle members, in turn).
    agenda = models.TextField(blank=True)
    speaking_order = models.JSONField(default=list, blank=True)
    # The meeting while it is on: opened by a facilitator, a break for everyone, ended.
    opened_at = models.DateTimeField(null=True, blank=True)
    on_break = models.BooleanField(default=False)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "circles_session"
        indexes = [
            models.Index(fields=["case", "status", "starts_at"], name="circles_ses_case_id_54dd13_idx"),
            models.Index(fields=["circle", "status", "starts_at"], name="circles_ses_circle__973298_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(case__isnull=False, circle__isnull=True)
                | models.Q(case__isnull=True, circle__isnull=False),
                name="session_of_a_case_or_a_circle",
            )
        ]

    def __str__(self):
        return f"{self.kind} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def program(self):
        """The program the meeting belongs to: its case's, or its circle's."""
        return self.case.program if self.case_id else self.circle.program


class MeetingPlace(models.Model):
    """A place in a case invited to a case meeting (the table Django made for the many-to-many)."""

    session = models.ForeignKey(Meeting, on_delete=models.CASCADE)
    participant = models.ForeignKey("cases.Participant", on_delete=models.CASCADE)

    class Meta:
        db_table = "circles_session_attendees"
        unique_together = [("session", "participant")]

    def __str__(self):
        return f"place {self.participant_id} at {self.session_id}"


class MeetingMember(models.Model):
    """A circle member invited to a circle meeting (the table Django made for the many-to-many)."""

    session = models.ForeignKey(Meeting, on_delete=models.CASCADE)
    circlemember = models.ForeignKey("circles.CircleMember", on_delete=models.CASCADE)

    class Meta:
        db_table = "circles_session_member_attendees"
        unique_together = [("session", "circlemember")]

    def __str__(self):
        return f"member {self.circlemember_id} at {self.session_id}"


class Feeling(models.TextChoices):
    STEADY = "steady", _("Steady")
    OKAY = "okay", _("Okay")
    UNSETTLED = "unsettled", _("A bit unsettled")
    STRUGGLING = "struggling", _("Struggling")


class Attendance(models.Model):
    """One person at one meeting: who they come with, how they arrive and leave (their check-in and
    check-out), and whether they were there. A person at a case meeting is a place in the case; at a
    circle meeting, a member of the circle."""

    session = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    participant = models.ForeignKey(
        "cases.Participant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    member = models.ForeignKey(
        "circles.CircleMember", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    supporter = models.ForeignKey(
        "cases.Participant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # a conference: who this person comes with
    arrival = models.CharField(max_length=12, choices=Feeling.choices, blank=True)
    arrival_at = models.DateTimeField(null=True, blank=True)
    departure = models.CharField(max_length=12, choices=Feeling.choices, blank=True)
    departure_at = models.DateTimeField(null=True, blank=True)
    wants_support = models.BooleanField(default=False)
    attended = models.BooleanField(null=True, blank=True)

    class Meta:
        db_table = "circles_attendance"
        constraints = [
            models.UniqueConstraint(fields=["session", "participant"], name="one_attendance_per_place"),
            models.UniqueConstraint(fields=["session", "member"], name="one_attendance_per_member"),
        ]

    def __str__(self):
        return f"attendance at {self.session_id}"
