"""Consent: versioned plain-language texts per program, and each person's revocable consent per scope."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    TAKE_PART = "take_part", _("Taking part")
    FACILITATOR_CONTACT = "facilitator_contact", _("Being contacted by the facilitator")
    INDIRECT_EXCHANGE = "indirect_exchange", _("Exchanging messages through the facilitator")
    DIRECT_MEETING = "direct_meeting", _("Meeting directly, in person or by video")
    SUPPORTERS_PRESENT = "supporters_present", _("Supporters being present")
    PROGRESS_UPDATES = "progress_updates", _("Hearing about progress")
    SHARE_STATEMENT = "share_statement", _("Sharing my statement with the other side")
    DATA_PROCESSING = "data_processing", _("Keeping and using my information")
    INTERPRETER = "interpreter", _("An interpreter helping me")


class ConsentText(models.Model):
    program = models.ForeignKey("accounts.Program", on_delete=models.CASCADE, related_name="consent_texts")
    scope = models.CharField(max_length=24, choices=Scope.choices)
    # Each language's text has its own versions; a person reads the text of their language (or, where the
    # program wrote none, of the program's default language).
    language = models.CharField(max_length=12, default="en")
    version = models.PositiveIntegerField()
    text = models.TextField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["program", "scope", "language", "version"], name="one_text_per_language_version"
            )
        ]

    def __str__(self):
        return f"{self.scope} {self.language} v{self.version}"


class Consent(models.Model):
    """One giving of consent; withdrawing sets withdrawn_at, and giving again makes a new row."""

    participant = models.ForeignKey("cases.Participant", on_delete=models.CASCADE, related_name="consents")
    scope = models.CharField(max_length=24, choices=Scope.choices)
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="+")
    text_sha256 = models.CharField(max_length=64)
    language = models.CharField(max_length=12, default="en")  # the language of the text the person read
    given_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "scope"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="one_current_consent_per_scope",
            )
        ]
        indexes = [models.Index(fields=["participant", "scope", "withdrawn_at"])]

    def __str__(self):
        return f"{self.scope} ({'withdrawn' if self.withdrawn_at else 'current'})"


class Mode(models.TextChoices):
    UNDECIDED = "undecided", _("Not decided yet")
    INDIRECT = "indirect", _("Through my facilitator (indirect)")
    DIRECT = "direct", _("Meeting directly")


class ProgressUpdates(models.TextChoices):
    EACH_VERIFIED = "each_verified", _("Each time a commitment is checked and done")
    EVERY_N_WEEKS = "every_n_weeks", _("A summary every few weeks")
    AT_END = "at_end", _("Only at the end")
    NEVER = "never", _("Never")


class HarmedPartyChoices(models.Model):
    """What the person harmed has chosen: how contact happens, who attends, how they hear of progress."""

    participant = models.OneToOneField("cases.Participant", on_delete=models.CASCADE, related_name="choices")
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.UNDECIDED)
    supporters_may_attend = models.BooleanField(default=False)
    community_may_attend = models.BooleanField(default=False)
    progress_updates = models.CharField(
        max_length=16, choices=ProgressUpdates.choices, default=ProgressUpdates.NEVER
    )
    progress_every_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"choices of {self.participant_id}"
