"""Preparation records: readiness and safety assessments, acknowledgments, safety plans, conflicts."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mend.core.at_rest import SealedJSONField, SealedTextField


class QuestionSet(models.Model):
    """A program's version of the assessment questions; a new edit makes a new version."""

    program = models.ForeignKey("accounts.Program", on_delete=models.CASCADE, related_name="question_sets")
    version = models.PositiveIntegerField()
    questions = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "version"], name="one_question_set_per_version")
        ]

    def __str__(self):
        return f"questions v{self.version}"


class Outcome(models.TextChoices):
    READY = "ready", _("Ready")
    NOT_YET = "not_yet", _("Not yet")
    NOT_SUITABLE = "not_suitable", _("Not suitable")


class Assessment(models.Model):
    participant = models.ForeignKey("cases.Participant", on_delete=models.CASCADE, related_name="assessments")
    question_set = models.ForeignKey(QuestionSet, on_delete=models.PROTECT, related_name="+")
    answers = SealedJSONField(case_from="participant.case_id")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reassess_on = models.DateField(null=True, blank=True)
    signed_off_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_off_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["participant", "-signed_off_at"])]

    def __str__(self):
        return f"assessment {self.pk}: {self.outcome}"


class Acknowledgment(models.Model):
    """The responsible party's acknowledgment of the harm, in their own words, confirmed by a facilitator."""

    participant = models.ForeignKey(
        "cases.Participant", on_delete=models.CASCADE, related_name="acknowledgments"
    )
    text = SealedTextField(case_from="participant.case_id")
    submitted_at = models.DateTimeField()
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"acknowledgment {self.pk}"


class SafetyPlan(models.Model):
    """Visible only to the person it protects and their facilitators."""

    participant = models.OneToOneField(
        "cases.Participant", on_delete=models.CASCADE, related_name="safety_plan"
    )
    risks = SealedTextField(case_from="participant.case_id")
    measures = SealedTextField(case_from="participant.case_id")
    emergency_contacts = SealedTextField(case_from="participant.case_id")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self):
        return f"safety plan {self.pk}"


class ConflictDeclaration(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="conflict_declarations")
    facilitator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    has_conflict = models.BooleanField()
    details = SealedTextField(case_from="case_id")
    declared_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["case", "facilitator", "-declared_at"])]

    def __str__(self):
        return f"conflict declaration {self.pk}"
