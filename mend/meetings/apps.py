from django.apps import AppConfig

from mend.core import registry


class MeetingsConfig(AppConfig):
    """Meetings of cases and of circles: scheduling, attendance, the day of the meeting, the video room."""

    name = "mend.meetings"
    label = "meetings"

    def ready(self):
        from mend.meetings.tasks import meeting_jobs_schedule  # layering: needs the loaded models

        registry.register_job_schedule(meeting_jobs_schedule)
