"""Conversations in a case and their encrypted messages: the server keeps envelopes it cannot read."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Conversation(models.Model):
    class Kind(models.TextChoices):
        SUPPORT = "support", _("with the facilitator")
        RELAY = "relay", _("through the facilitator")
        DIRECT = "direct", _("direct")
        TEAM = "team", _("case team")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="conversations")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # The party a support or relay conversation belongs to; empty for a team conversation. A direct
    # conversation is between two "units": `party` is its person harmed, or empty for the group of the people
    # harmed who each agreed to be seen by the others; `counterpart` is its person responsible, or empty for
    # the group of the people responsible who each agreed (mend.dialogue.rules.direct_readers).
    party = models.ForeignKey(
        "cases.Participant", null=True, blank=True, on_delete=models.CASCADE, related_name="conversations"
    )
    counterpart = models.ForeignKey(
        "cases.Participant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    public_id = models.CharField(max_length=16, unique=True)
    last_seq = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # One conversation per key. NULLs never clash in a unique index (PostgreSQL), so each mix of empty
        # and set fields has its own conditional constraint.
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "party", "counterpart"],
                condition=models.Q(party__isnull=False, counterpart__isnull=False),
                name="one_conversation_per_pair",
            ),
            models.UniqueConstraint(
                fields=["case", "kind", "party"],
                condition=models.Q(party__isnull=False, counterpart__isnull=True),
                name="one_conversation_per_kind_and_party",
            ),
            models.UniqueConstraint(
                fields=["case", "kind", "counterpart"],
                condition=models.Q(party__isnull=True, counterpart__isnull=False),
                name="one_conversation_per_kind_and_counterpart",
            ),
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=models.Q(party__isnull=True, counterpart__isnull=True),
                name="one_shared_conversation_per_kind",
            ),
        ]

    def __str__(self):
        return self.public_id


class Message(models.Model):
    """One accepted envelope. `envelope` is its canonical JSON, exactly as signed and stored."""

    class RelayState(models.TextChoices):
        PENDING = "pending", _("waiting for review")
        RETURNED = "returned", _("returned with a note")
        FORWARDED = "forwarded", _("passed on")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    message_id = models.CharField(max_length=36, unique=True)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sender_key_id = models.CharField(max_length=22)
    kind = models.CharField(max_length=10)
    ref = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    relay_state = models.CharField(max_length=10, choices=RelayState.choices, blank=True)
    approved = models.BooleanField(default=False)
    envelope = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "seq"], name="one_message_per_seq")]
        indexes = [models.Index(fields=["relay_state", "conversation"])]

    def __str__(self):
        return f"{self.conversation_id}#{self.seq}"


class Recipient(models.Model):
    """Who a message was encrypted to, and the receipts: delivered to their device, and read."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key_id = models.CharField(max_length=22)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="one_recipient_row")]
        indexes = [models.Index(fields=["user", "message"])]

    def __str__(self):
        return f"{self.message_id} to {self.user_id}"


class Attachment(models.Model):
    """An encrypted file; its key travels inside the message that names it."""

    file_id = models.CharField(max_length=36, unique=True)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="attachments")
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    ciphertext = models.BinaryField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The unsent-files job (mend.dialogue.tasks) reads only the files no message names yet, by age.
            models.Index(
                fields=["created_at"], condition=models.Q(message__isnull=True), name="unsent_attachment_age"
            )
        ]

    def __str__(self):
        return self.file_id
