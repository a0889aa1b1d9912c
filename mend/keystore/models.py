"""A case's data key, wrapped under the master key. The row has no foreign key: it may live in another
database (mend.keystore.routers)."""

from django.db import models


class DataKey(models.Model):
    """One data key per case and purpose. Destroying it keeps the row as a tombstone (no key material, the
    time it was destroyed), so that nothing new is ever written to a case whose data was deleted."""

    case_id = models.PositiveBigIntegerField()
    purpose = models.CharField(max_length=32, default="case")
    # nonce ‖ AES-256-GCM(master key, data key), with the case id and purpose as associated data.
    wrapped = models.BinaryField(null=True)
    master_key_id = models.CharField(max_length=16, blank=True)
    # During a master key rotation: the same data key wrapped under the next master key (mend keys rotate).
    wrapped_next = models.BinaryField(null=True)
    next_master_key_id = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case_id", "purpose"], name="one_data_key_per_purpose")
        ]

    def __str__(self):
        return f"data key of case {self.case_id} ({self.purpose})"
