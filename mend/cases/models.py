"""Cases and the people in them, each known in the case by a pseudonym."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mend.cases import workflow
from mend.core.at_rest import SealedTextField


class HarmCategory(models.TextChoices):
    SEXUAL_ASSAULT = "sexual_assault", _("Sexual harm: sexual assault")
    CHILD_SEXUAL_ABUSE = "child_sexual_abuse", _("Sexual harm: abuse in childhood")
    SEXUAL_HARASSMENT = "sexual_harassment", _("Sexual harm: sexual harassment")
    INTIMATE_PARTNER = "intimate_partner", _("Sexual harm: by a partner or ex-partner")
    SEXUAL_OTHER = "sexual_other", _("Sexual harm: other")
    DATA_BREACH = "data_breach", _("Cybercrime: data breach")
    UNAUTHORISED_ACCESS = "unauthorised_access", _("Cybercrime: unauthorised access")
    IMAGE_BASED_ABUSE = "image_based_abuse", _("Cybercrime: image-based abuse")
    SEXTORTION = "sextortion", _("Cybercrime: sextortion")
    ONLINE_HARASSMENT = "online_harassment", _("Cybercrime: online harassment or stalking")
    DOXXING = "doxxing", _("Cybercrime: doxxing")
    FRAUD = "fraud", _("Cybercrime: fraud")
    CYBER_OTHER = "cyber_other", _("Cybercrime: other")


class ReferralSource(models.TextChoices):
    SELF = "self", _("Self-referral")
    POLICE = "police", _("Police")
    PROSECUTOR = "prosecutor", _("Prosecutor")
    COURT = "court", _("Court")
    EDUCATION = "education", _("School or university")
    COMMUNITY = "community", _("Community organisation")
    OTHER = "other", _("Other")


class Stage(models.TextChoices):
    REFERRAL = workflow.REFERRAL, _("Referral")
    INTAKE = workflow.INTAKE, _("Intake")
    ASSESSMENT = workflow.ASSESSMENT, _("Assessment")
    PREPARATION = workflow.PREPARATION, _("Preparation")
    ENCOUNTER = workflow.ENCOUNTER, _("Encounter")
    AGREEMENT = workflow.AGREEMENT, _("Agreement")
    FOLLOW_UP = workflow.FOLLOW_UP, _("Follow-up")
    CLOSED = workflow.CLOSED, _("Closed")
    PAUSED = workflow.PAUSED, _("Paused")


class ClosureReason(models.TextChoices):
    AGREEMENT_COMPLETED = "agreement_completed", _("Agreement completed")
    HARMED_PARTY_WITHDREW = "harmed_party_withdrew", _("The person harmed withdrew")
    RESPONSIBLE_PARTY_WITHDREW = "responsible_party_withdrew", _("The person responsible withdrew")
    NOT_SUITABLE = "not_suitable", _("Not suitable for a restorative process")
    REFERRED_ELSEWHERE = "referred_elsewhere", _("Referred elsewhere")
    OTHER = "other", _("Other")


class Case(models.Model):
    program = models.ForeignKey("accounts.Program", on_delete=models.PROTECT, related_name="cases")
    reference = models.CharField(max_length=16, unique=True)
    harm_category = models.CharField(max_length=32, choices=HarmCategory.choices)
    jurisdictions = models.JSONField(default=list)
    referral_source = models.CharField(max_length=16, choices=ReferralSource.choices)
    # Sealed with the case's data key (mend.core.at_rest), so written once the row has its id.
    referral_details = SealedTextField(case_from="pk")
    intake_notes = SealedTextField(case_from="pk")
    stage = models.CharField(max_length=16, choices=Stage.choices, default=workflow.REFERRAL)
    paused_from = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    closure_reason = models.CharField(max_length=32, choices=ClosureReason.choices, blank=True)
    # When the case's records were crypto-shredded (mend.rights): on request, or at retention.
    data_deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["program", "-updated_at"]),
            models.Index(fields=["program", "stage"]),
            models.Index(fields=["program", "harm_category"]),
            # The case list's order, walked newest first a page at a time (selectors.case_page): over all
            # cases, and over those at one stage or of one kind of harm, for the list's filters.
            models.Index(fields=["-updated_at", "-id"], name="case_newest_first"),
            models.Index(fields=["stage", "-updated_at", "-id"], name="case_stage_newest_first"),
            models.Index(fields=["harm_category", "-updated_at", "-id"], name="case_category_newest_first"),
        ]

    def __str__(self):
        return self.reference

    @property
    def is_cybercrime(self) -> bool:
        return self.harm_category in CYBER_CATEGORIES


CYBER_CATEGORIES = {
    HarmCategory.DATA_BREACH,
    HarmCategory.UNAUTHORISED_ACCESS,
    HarmCategory.IMAGE_BASED_ABUSE,
    HarmCategory.SEXTORTION,
    HarmCategory.ONLINE_HARASSMENT,
    HarmCategory.DOXXING,
    HarmCategory.FRAUD,
    HarmCategory.CYBER_OTHER,
}


class Role(models.TextChoices):
    HARMED_PARTY = "harmed_party", _("person harmed")
    RESPONSIBLE_PARTY = "responsible_party", _("person responsible")
    FACILITATOR = "facilitator", _("facilitator")
    CO_FACILITATOR = "co_facilitator", _("co-facilitator")
    SUPPORTER = "supporter", _("supporter")
    COMMUNITY_MEMBER = "community_member", _("community member")
    INTERPRETER = "interpreter", _("interpreter")


FACILITATING_ROLES = {Role.FACILITATOR, Role.CO_FACILITATOR}
PARTY_ROLES = {Role.HARMED_PARTY, Role.RESPONSIBLE_PARTY}


class Participant(models.Model):
    """A place in a case: held by a staff member (facilitators) or taken up through an invitation."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="participations",
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    pseudonym = models.CharField(max_length=40, blank=True)
    supports = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supporters"
    )
    preferred_language = models.CharField(max_length=12, default="en")
    time_zone = models.CharField(max_length=64, default="UTC")
    accessibility_needs = SealedTextField(case_from="case_id")
    contact_method = SealedTextField(case_from="case_id")
    invited_at = models.DateTimeField(auto_now_add=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    # When the person asked for their information to be deleted (docs/data-rights.md); their place ends then.
    deletion_requested_at = models.DateTimeField(null=True, blank=True)
    # Whether others in a conversation see when this person has read a message.
    read_receipts = models.BooleanField(default=True)
    # Staff marked the person as no longer in the process (mend.cases.standing); the reason is for staff
    # only. Giving consent to take part again brings the person back and clears both.
    excluded_at = models.DateTimeField(null=True, blank=True)
    exclusion_reason = SealedTextField(case_from="case_id")
    # Whether the others on the same side (other people harmed, or other people responsible) may see this
    # person: only people who both agreed see each other (mend.readiness.rules.visible_to).
    seen_by_same_side = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["user", "role"])]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"],
                condition=models.Q(user__isnull=False, removed_at__isnull=True),
                name="one_active_place_per_person_per_case",
            )
        ]

    def __str__(self):
        return self.pseudonym or str(_("(%(role)s, not joined yet)") % {"role": self.get_role_display()})

    @property
    def is_facilitating(self) -> bool:
        return self.role in FACILITATING_ROLES

    @property
    def has_joined(self) -> bool:
        return self.joined_at is not None


class Notice(models.Model):
    """A short, neutral notice for one person in a case; its words come from `cases.notices`."""

    class Kind(models.TextChoices):
        PROCESS_PAUSED = "process_paused", _("process paused")
        SUPPORT_PROMPT = "support_prompt", _("offer support")
        READY_TO_CONTINUE = "ready_to_continue", _("ready to continue")
        MODE_INDIRECT = "mode_indirect", _("communication through the facilitator")
        MODE_DIRECT = "mode_direct", _("open to meeting")
        CASE_CLOSED = "case_closed", _("process ended")
        PROGRESS_UPDATE = "progress_update", _("news about the agreement")
        AGREEMENT_COMPLETE = "agreement_complete", _("agreement completed")
        REMINDER = "reminder", _("something in the agreement is due")
        ITEM_OVERDUE = "item_overdue", _("an item is past its due date")
        MEETING_REMINDER = "meeting_reminder", _("meeting coming up")
        TEAM_JOINED = "team_joined", _("someone joined the team")
        ONE_NOT_TAKING_PART = "one_not_taking_part", _("one person will not take part for now")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notices")
    recipient = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    about = models.ForeignKey(Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Numbers only, never words, for the few texts that carry a count (a progress update's "2 of 5").
    figures = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["recipient", "-created_at"])]

    def __str__(self):
        return f"{self.kind} for {self.recipient_id}"


class AssignmentRequest(models.Model):
    """Staff who oversee a program asking to join a case's team themselves. It takes effect only when
    another staff member who runs the case approves it, and the people in the case are then told."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("waiting for approval")
        APPROVED = "approved", _("approved")
        DECLINED = "declined", _("declined")
        WITHDRAWN = "withdrawn", _("withdrawn")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignment_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "requested_by"],
                condition=models.Q(outcome="pending"),
                name="one_pending_assignment_request",
            )
        ]

    def __str__(self):
        return f"assignment request {self.pk} ({self.outcome})"
