"""The retention job moved from mend.keystore.tasks to mend.rights.tasks (the keystore keeps keys only):
runs already booked under the old path are booked again under the new one, so that none is lost."""

from django.db import migrations

OLD = "mend.keystore.tasks.retention_purge"
NEW = "mend.rights.tasks.retention_purge"


def forward(apps, schema_editor):
    apps.get_model("django_tasks_database", "DBTaskResult").objects.filter(task_path=OLD).update(task_path=NEW)


def backward(apps, schema_editor):
    apps.get_model("django_tasks_database", "DBTaskResult").objects.filter(task_path=NEW).update(task_path=OLD)


class Migration(migrations.Migration):
    dependencies = [("django_tasks_database", "0021_conditional_partial_index_ordering")]
    operations = [migrations.RunPython(forward, backward)]
