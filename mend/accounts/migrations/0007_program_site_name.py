"""A program's own site name, shown instead of "Mend" in titles, the header and emails (blank: "Mend")."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_role_words_per_language")]

    operations = [
        migrations.AddField(
            model_name="program",
            name="site_name",
            field=models.CharField(blank=True, db_default="", default="", max_length=60),
        ),
    ]
