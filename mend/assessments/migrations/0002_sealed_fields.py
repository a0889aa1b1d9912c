# Encryption at rest (issue 6): assessment answers, acknowledgments, safety plans and conflict details are
# sealed with each case's data key. The answers become JSON text first; then existing values are sealed,
# and the fields change class.

import functools

from django.db import migrations, models

import mend.core.at_rest
from mend.core.at_rest import seal_existing_rows

ROWS = [
    {"model": "assessments.Assessment", "case_path": "participant__case_id", "fields": ["answers"],
     "json_fields": ["answers"]},
    {"model": "assessments.Acknowledgment", "case_path": "participant__case_id", "fields": ["text"]},
    {"model": "assessments.SafetyPlan", "case_path": "participant__case_id",
     "fields": ["risks", "measures", "emergency_contacts"]},
    {"model": "assessments.ConflictDeclaration", "case_path": "case_id", "fields": ["details"]},
]


def seal(apps, schema_editor):
    for rows in ROWS:
        seal_existing_rows(apps, schema_editor, **rows)


def unseal(apps, schema_editor):
    for rows in ROWS:
        seal_existing_rows(apps, schema_editor, **rows, reverse=True)


sealed = functools.partial(mend.core.at_rest.SealedTextField, blank=True, default="")
by_participant = "participant.case_id"


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0001_initial"),
        ("keystore", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(model_name="assessment", name="answers", field=models.TextField(default="{}")),
        migrations.RunPython(seal, unseal, elidable=False),
        migrations.AlterField(
            model_name="assessment",
            name="answers",
            field=mend.core.at_rest.SealedJSONField(blank=True, case_from=by_participant, default=dict),
        ),
        migrations.AlterField(model_name="acknowledgment", name="text", field=sealed(case_from=by_participant)),
        migrations.AlterField(model_name="safetyplan", name="risks", field=sealed(case_from=by_participant)),
        migrations.AlterField(model_name="safetyplan", name="measures", field=sealed(case_from=by_participant)),
        migrations.AlterField(
            model_name="safetyplan", name="emergency_contacts", field=sealed(case_from=by_participant)
        ),
        migrations.AlterField(
            model_name="conflictdeclaration", name="details", field=sealed(case_from="case_id")
        ),
    ]
