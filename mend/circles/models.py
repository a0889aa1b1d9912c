"""Meetings (sessions) of a case or of a circle, which the consent and readiness guards protect; circles,
the standing groups that can outlive a case, with their members, volunteers' vetting and minutes."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SessionKind(models.TextChoices):
    PREPARATION = "preparation", _("Preparation meeting")
    DIALOGUE = "dialogue", _("Dialogue")
    CONFERENCE = "conference", _("Conference")
    CIRCLE = "circle", _("Circle meeting")


class SessionFormat(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    VIDEO = "video", _("By video")


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    ON_HOLD = "on_hold", _("On hold")
    CANCELLED = "cancelled", _("Cancelled")


class CircleKind(models.TextChoices):
    COSA = "cosa", _("Circle of support and accountability")
    SURVIVOR_PEER = "survivor_peer", _("Survivor peer circle")
    RESPONSIBLE_PEER = "responsible_peer", _("Peer circle of people responsible")
    BLENDED = "blended", _("Blended circle")
    PARTNERS = "partners", _("Circle for partners")


class Circle(models.Model):
    """A standing group with a keeper (a facilitator) and members. A circle of support and accountability
    has one core member, usually a person responsible after their case, and four to six trained volunteers,
    and meets weekly for 12 to 18 months."""

    program = models.ForeignKey("accounts.Program", on_delete=models.PROTECT, related_name="circles")
    kind = models.CharField(max_length=20, choices=CircleKind.choices)
    name = models.CharField(max_length=80)  # a name for the group, never a person's
    keeper = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="circles"
    )  # the case it grew from, if any; the circle outlives it
    meets_every_days = models.PositiveSmallIntegerField(default=7)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["program", "closed_at"])]

    def __str__(self):
        return self.name


class CircleMember(models.Model):
    class Role(models.TextChoices):
        CORE = "core", _("Core member")
        VOLUNTEER = "volunteer", _("Volunteer")
        PEER = "peer", _("Member")
        PARTNER = "partner", _("Partner")

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="circle_places")
    role = models.CharField(max_length=12, choices=Role.choices)
    name = models.CharField(max_length=40)  # the name used in the circle: a pseudonym
    time_zone = models.CharField(max_length=64, default="UTC")
    joined_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["circle", "user"],
                condition=models.Q(left_at__isnull=True),
                name="one_place_per_circle",
            )
        ]

    def __str__(self):
        return f"{self.name} in {self.circle_id}"


class Vetting(models.Model):
    """A volunteer's vetting in a program: training completed, and the date of their background check."""

    program = models.ForeignKey("accounts.Program", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vettings")
    training_completed_on = models.DateField(null=True, blank=True)
    background_checked_on = models.DateField(null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "user"], name="one_vetting_per_program")]

    def __str__(self):
        return f"vetting of {self.user_id}"


class Session(models.Model):
    """A meeting: of a case (its attendees are places in the case) or of a circle (its members)."""

    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="sessions"
    )
    circle = models.ForeignKey(
        Circle, null=True, blank=True, on_delete=models.CASCADE, related_name="sessions"
    )
    kind = models.CharField(max_length=16, choices=SessionKind.choices)
    format = models.CharField(max_length=12, choices=SessionFormat.choices)
    starts_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64)
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    status = models.CharField(max_length=12, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    attendees = models.ManyToManyField("cases.Participant", related_name="sessions")
    member_attendees = models.ManyToManyField(CircleMember, related_name="sessions", blank=True)
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
        indexes = [
            models.Index(fields=["case", "status", "starts_at"]),
            models.Index(fields=["circle", "status", "starts_at"]),
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


class Feeling(models.TextChoices):
    STEADY = "steady", _("Steady")
    OKAY = "okay", _("Okay")
    UNSETTLED = "unsettled", _("A bit unsettled")
    STRUGGLING = "struggling", _("Struggling")


class Attendance(models.Model):
    """One person at one meeting: who they come with, how they arrive and leave (their check-in and
    check-out), and whether they were there. A person at a case meeting is a place in the case; at a
    circle meeting, a member of the circle."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance")
    participant = models.ForeignKey(
        "cases.Participant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    member = models.ForeignKey(
        CircleMember, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
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
        constraints = [
            models.UniqueConstraint(fields=["session", "participant"], name="one_attendance_per_place"),
            models.UniqueConstraint(fields=["session", "member"], name="one_attendance_per_member"),
        ]

    def __str__(self):
        return f"attendance at {self.session_id}"


class Minutes(models.Model):
    """A meeting's minutes, end-to-end encrypted (envelope v2) to the case team or to the circle's keeper
    and the program's coordinators; the server reads only whether a concern was raised. Due to the
    coordinator within 48 hours of the meeting."""

    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="minutes")
    envelope = models.TextField()
    concern = models.BooleanField(default=False)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()

    def __str__(self):
        return f"minutes of {self.session_id}"


class StaffAlert(models.Model):
    """A short alert to a staff member about a circle or a meeting: minutes overdue, a concern raised, a
    person who may need support. Never content."""

    class Kind(models.TextChoices):
        MINUTES_OVERDUE = "minutes_overdue", _("Minutes are overdue")
        CONCERN = "concern", _("A concern was raised in the minutes")
        NEEDS_SUPPORT = "needs_support", _("Someone may need support after a meeting")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey("accounts.Program", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    circle = models.ForeignKey(Circle, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "session"], name="one_alert_per_kind_and_meeting"
            )
        ]

    def __str__(self):
        return f"{self.kind} for {self.recipient_id}"
