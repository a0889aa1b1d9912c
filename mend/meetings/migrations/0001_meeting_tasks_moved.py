"""The meeting reminder jobs moved from mend.circles.meeting_tasks to mend.meetings.tasks (meetings are an app of
their own): runs already booked under the old paths are booked again under the new ones, so that none is lost."""

from django.db import migrations

MOVED = {
    f"mend.circles.meeting_tasks.{name}": f"mend.meetings.tasks.{name}"
    for name in ("meeting_remind", "meeting_reminders_run")
}


def _repath(apps, pairs) -> None:
    results = apps.get_model("django_tasks_database", "DBTaskResult").objects
    for old, new in pairs:
        results.filter(task_path=old).update(task_path=new)


def forward(apps, schema_editor):
    _repath(apps, MOVED.items())


def backward(apps, schema_editor):
    _repath(apps, ((new, old) for old, new in MOVED.items()))


class Migration(migrations.Migration):
    dependencies = [("django_tasks_database", "0021_conditional_partial_index_ordering")]
    operations = [migrations.RunPython(forward, backward)]
