"""The append-only audit log: each event's hash covers the one before it, so edits show."""

from django.conf import settings
from django.db import models

from mend.audit import signing


class ChainHead(models.Model):
    """One row that writers lock, so that two transactions never extend the chain from the same link."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self):
        return f"chain head at {self.seq}"


class AuditEvent(models.Model):
    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    code = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    program = models.ForeignKey("accounts.Program", null=True, on_delete=models.SET_NULL, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, on_delete=models.SET_NULL, related_name="audit_events")
    target_type = models.CharField(max_length=40)
    target_id = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["case", "seq"])]

    def __str__(self):
        return f"{self.seq} {self.code}"


class Checkpoint(models.Model):
    """A (seq, hash) of the chain signed with the server's audit key. Recomputing the hashes after an
    edit cannot reproduce it without the key; a copy kept elsewhere (a witness) catches even that."""

    seq = models.BigIntegerField(unique=True)
    hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    public_key = models.CharField(max_length=43)
    signature = models.CharField(max_length=86)

    class Meta:
        ordering = ["seq"]

    def __str__(self):
        return f"checkpoint at {self.seq}"

    def statement(self) -> dict:
        return signing.statement(
            seq=self.seq, hash=self.hash, at=signing.at_text(self.at), public_key=self.public_key
        )

    def as_json(self) -> dict:
        return {**self.statement(), "signature": self.signature}
