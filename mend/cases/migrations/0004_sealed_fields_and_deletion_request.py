# Encryption at rest (issue 6): intake notes, referral details and contact details are sealed with each
# case's data key. Existing plain values are sealed here, before the fields change class.

import functools

from django.db import migrations, models

import mend.core.at_rest
from mend.core.at_rest import seal_existing_rows

CASE = {"model": "cases.Case", "case_path": "pk", "fields": ["referral_details", "intake_notes"]}
PARTICIPANT = {
    "model": "cases.Participant",
    "case_path": "case_id",
    "fields": ["accessibility_needs", "contact_method"],
}


def seal(apps, schema_editor):
    seal_existing_rows(apps, schema_editor, **CASE)
    seal_existing_rows(apps, schema_editor, **PARTICIPANT)


def unseal(apps, schema_editor):
    seal_existing_rows(apps, schema_editor, **CASE, reverse=True)
    seal_existing_rows(apps, schema_editor, **PARTICIPANT, reverse=True)


sealed = functools.partial(mend.core.at_rest.SealedTextField, blank=True, default="")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_participant_read_receipts"),
        ("keystore", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="participant",
            name="deletion_requested_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="case",
            name="data_deleted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(seal, unseal, elidable=False),
        migrations.AlterField(model_name="case", name="intake_notes", field=sealed(case_from="pk")),
        migrations.AlterField(model_name="case", name="referral_details", field=sealed(case_from="pk")),
        migrations.AlterField(
            model_name="participant", name="accessibility_needs", field=sealed(case_from="case_id")
        ),
        migrations.AlterField(model_name="participant", name="contact_method", field=sealed(case_from="case_id")),
    ]
