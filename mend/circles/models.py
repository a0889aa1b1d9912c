"""Sessions: the meetings a facilitator schedules, which the consent and readiness guards protect."""

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


class Session(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="sessions")
    kind = models.CharField(max_length=16, choices=SessionKind.choices)
    format = models.CharField(max_length=12, choices=SessionFormat.choices)
    starts_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64)
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    status = models.CharField(max_length=12, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    attendees = models.ManyToManyField("cases.Participant", related_name="sessions")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["case", "status", "starts_at"])]

    def __str__(self):
        return f"{self.kind} at {self.starts_at:%Y-%m-%d %H:%M}"
