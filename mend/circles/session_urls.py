"""A case's sessions, under /cases/<reference>/sessions/ (mounted in mend/urls.py)."""

from django.urls import path

from mend.circles import views

session_patterns = (
    [
        path("new/", views.schedule, name="schedule"),
        path("<int:session_id>/cancel/", views.cancel, name="cancel"),
        path("<int:session_id>/restore/", views.restore, name="restore"),
    ],
    "sessions",
)
