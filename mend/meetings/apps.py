from django.apps import AppConfig

from mend.core import registry


class MeetingsConfig(AppConfig):
    """Meetings of cases and of circles: scheduling, attendance, the day of the meeting, the video room."""

    name = "mend.meetings"
    label = "meetings"

    def ready(self):
        from mend.cases import hooks as case_hooks  # layering: needs the loaded models
        from mend.consent import hooks as consent_hooks  # layering: needs the loaded models
        from mend.meetings import room, scheduling  # layering: needs the loaded models
        from mend.meetings.tasks import meeting_jobs_schedule  # layering: needs the loaded models

        registry.register_job_schedule(meeting_jobs_schedule)
        case_hooks.place_left.register(room.meeting_remove_person)
        case_hooks.case_rechecked.register(scheduling.meetings_cancel_unconsented)
        case_hooks.case_rechecked.register(scheduling.meetings_add_interpreters)
        case_hooks.case_paused.register(scheduling.meetings_hold_all)
        case_hooks.case_closing.register(scheduling.meetings_cancel_all)
        consent_hooks.took_part_withdrawn.register(scheduling.meetings_cancel_for)
        consent_hooks.break_taken.register(scheduling.meetings_hold_for)
        consent_hooks.consent_given.register(scheduling.meetings_add_interpreters_for)
