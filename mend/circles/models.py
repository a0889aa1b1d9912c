"""Circles, the standing groups that can outlive a case, with their members, volunteers' vetting, the minutes
of their meetings and the alerts to staff (the meetings themselves are in mend.meetings.models)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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


class Minutes(models.Model):
    """A meeting's minutes, end-to-end encrypted (envelope v2) to the case team or to the circle's keeper
    and the program's coordinators; the server reads only whether a concern was raised. Due to the
    coordinator within 48 hours of the meeting."""

    session = models.OneToOneField("meetings.Meeting", on_delete=models.CASCADE, related_name="minutes")
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
    session = models.ForeignKey(
        "meetings.Meeting", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
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
