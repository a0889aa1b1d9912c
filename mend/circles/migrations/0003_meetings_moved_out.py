"""The meetings and their attendance now belong to the meetings app (its migration 0002 takes them over, on
the same tables): here the circles app lets go of them in Django's state only, and the minutes and staff
alerts point at meetings.Meeting, the same table as before. No table or column changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("circles", "0002_minutes_staffalert_vetting_session_agenda_and_more"),
        ("meetings", "0002_meetings_from_circles"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="staffalert",
                    name="session",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="meetings.meeting",
                    ),
                ),
                migrations.AlterField(
                    model_name="minutes",
                    name="session",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="minutes",
                        to="meetings.meeting",
                    ),
                ),
                migrations.DeleteModel(name="Attendance"),
                migrations.DeleteModel(name="Session"),
            ],
        )
    ]
