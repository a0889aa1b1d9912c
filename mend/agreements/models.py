"""Agreements and what follows them (docs/agreements.md).

An agreement belongs to a case and is written in versions. A version is a draft while the facilitator
writes it; opening it for signing freezes its document (the canonical JSON every party signs); once every
party has signed it, it is signed and can never change. An amendment is a new version, signed again.
Items carry a `uid` that stays the same across versions, so what has been done on a commitment carries
over an amendment. Every row has its case, whose data key seals its words at rest."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mend.core.at_rest import SealedJSONField, SealedTextField


class ItemKind(models.TextChoices):
    APOLOGY = "apology", _("Apology")
    RESTITUTION = "restitution", _("Restitution")
    SERVICE = "service", _("Service to the community")
    LEARNING = "learning", _("Learning")
    COUNSELLING = "counselling", _("Counselling or a treatment programme")
    BEHAVIOUR = "behaviour", _("Behaviour commitment")
    DIGITAL_REPAIR = "digital_repair", _("Digital repair")
    OTHER = "other", _("Other")


class Outcome(models.TextChoices):
    COMPLETED = "completed", _("Completed")
    PARTLY_COMPLETED = "partly_completed", _("Partly completed")
    NOT_COMPLETED = "not_completed", _("Not completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Agreement(models.Model):
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="agreement")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)

    def __str__(self):
        return f"agreement of case {self.case_id}"


class Version(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SIGNING = "signing", _("Waiting for signatures")
        SIGNED = "signed", _("Signed by everyone")
        DECLINED = "declined", _("Not signed")
        SUPERSEDED = "superseded", _("Replaced by a later version")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    terms = SealedTextField(case_from="case_id")
    # Frozen when the version is opened for signing: the canonical JSON (RFC 8785) each party signs.
    document = SealedTextField(case_from="case_id")
    document_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    # Frozen with the document: the opaque reference the document gives each person it names, by
    # participant id ({"<id>": "<ref>"}), so that what every party signs names nobody (docs/agreements.md).
    refs = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agreement", "number"], name="one_number_per_version")]
        indexes = [models.Index(fields=["case", "state"])]

    def __str__(self):
        return f"version {self.number} of agreement {self.agreement_id}"


class Item(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="items")
    uid = models.CharField(max_length=16)
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=ItemKind.choices)
    description = SealedTextField(case_from="case_id")
    details = SealedJSONField(case_from="case_id")
    owner = models.ForeignKey("cases.Participant", on_delete=models.PROTECT, related_name="+")
    # The person harmed the item is owed to; None: owed to every person harmed in the case.
    owed_to = models.ForeignKey(
        "cases.Participant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField()
    verification = SealedTextField(case_from="case_id")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "uid"], name="one_uid_per_version")]
        ordering = ["position", "pk"]

    def __str__(self):
        return f"item {self.uid} of version {self.version_id}"


class Signature(models.Model):
    """A party's answer to a version: their typed name and an Ed25519 signature made in their browser, or a
    decline, recorded without blame."""

    class Decision(models.TextChoices):
        SIGNED = "signed", _("Signed")
        DECLINED = "declined", _("Chose not to sign")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="signatures")
    participant = models.ForeignKey("cases.Participant", on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    typed_name = SealedTextField(case_from="case_id")
    key_id = models.CharField(max_length=22, blank=True)
    signature = models.CharField(max_length=90, blank=True)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "participant"], name="one_answer_per_party")
        ]

    def __str__(self):
        return f"{self.decision} by {self.participant_id} on version {self.version_id}"


class Commitment(models.Model):
    """Where one item stands: it follows the item's uid across versions."""

    class State(models.TextChoices):
        OPEN = "open", _("To do")
        SUBMITTED = "submitted", _("Marked done, waiting to be checked")
        MORE_NEEDED = "more_needed", _("More needed")
        VERIFIED = "verified", _("Done and checked")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="commitments")
    item_uid = models.CharField(max_length=16)
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    facilitator_note = SealedTextField(case_from="case_id")
    updated_at = models.DateTimeField(auto_now=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agreement", "item_uid"], name="one_commitment_per_item")
        ]
        indexes = [models.Index(fields=["state"])]

    def __str__(self):
        return f"commitment {self.item_uid} ({self.state})"


class Evidence(models.Model):
    """What the owner sent to show an item done: an encrypted message (envelope v2) in their conversation
    with their facilitators. The server keeps only which message it was."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="evidence")
    message = models.OneToOneField("dialogue.Message", on_delete=models.CASCADE, related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()

    def __str__(self):
        return f"evidence {self.pk} for {self.commitment_id}"


class Payment(models.Model):
    """One line of a restitution item's ledger, recorded by a facilitator."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="payments")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    paid_on = models.DateField()
    note = SealedTextField(case_from="case_id")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paid_on", "pk"]

    def __str__(self):
        return f"payment {self.pk}"


class ProgressUpdate(models.Model):
    """A progress update for a person harmed, queued by an event and delivered by the job worker only if
    their choice still asks for it when it is due. Its text is a short system summary with no detail."""

    class Trigger(models.TextChoices):
        VERIFIED = "verified", _("A commitment was checked and done")
        PERIODIC = "periodic", _("The regular summary")
        COMPLETION = "completion", _("The agreement is complete")

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey("cases.Participant", on_delete=models.CASCADE, related_name="+")
    trigger = models.CharField(max_length=12, choices=Trigger.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "due_at"]), models.Index(fields=["recipient", "state"])]

    def __str__(self):
        return f"progress update {self.pk} ({self.trigger}, {self.state})"


class CheckIn(models.Model):
    """The follow-up plan: scheduled check-ins and support contacts after the agreement."""

    class Kind(models.TextChoices):
        CHECK_IN = "check_in", _("Check-in")
        SUPPORT = "support", _("Support contact")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="check_ins")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    with_participant = models.ForeignKey("cases.Participant", on_delete=models.CASCADE, related_name="+")
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    notes = SealedTextField(case_from="case_id")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["due_on", "pk"]

    def __str__(self):
        return f"{self.kind} on {self.due_on}"
