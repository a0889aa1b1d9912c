"""A case's sessions, under /cases/<reference>/sessions/ (mounted in mend/urls.py): scheduling, and each
meeting's own page with what happens on the day (mend.meetings.views)."""

from django.urls import path

from mend.meetings import scheduling_views as views
from mend.meetings import views as meeting_views

session_patterns = (
    [
        path("new/", views.schedule, name="schedule"),
        path("<int:session_id>/cancel/", views.cancel, name="cancel"),
        path("<int:session_id>/restore/", views.restore, name="restore"),
        path("<int:session_id>/", meeting_views.meeting, name="meeting"),
        path("<int:session_id>/conference/", meeting_views.conference, name="conference"),
        path("<int:session_id>/attendees/", meeting_views.attendees, name="attendees"),
        path("<int:session_id>/check-in/", meeting_views.check_in, name="check_in"),
        path("<int:session_id>/check-out/", meeting_views.check_out, name="check_out"),
        path("<int:session_id>/attendance/", meeting_views.attendance, name="attendance"),
        path("<int:session_id>/open/", meeting_views.open_meeting, name="open"),
        path("<int:session_id>/end/", meeting_views.end_meeting, name="end"),
        path("<int:session_id>/invitations/", meeting_views.send_invitations, name="invitations"),
        path("<int:session_id>/invitation.ics", meeting_views.invitation, name="invitation"),
    ],
    "sessions",
)
