"""Circles, under /circles/ (mounted in mend/urls.py)."""

from django.urls import path

from mend.circles import circle_views as views

circle_patterns = (
    [
        path("", views.circle_list, name="list"),
        path("new/", views.circle_new, name="new"),
        path("vetting/", views.vetting, name="vetting"),
        path("alerts/<int:alert_id>/read/", views.alert_read, name="alert_read"),
        path("<int:circle_id>/", views.circle_detail, name="detail"),
        path("<int:circle_id>/members/", views.member_add, name="member_add"),
        path("<int:circle_id>/members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
        path("<int:circle_id>/meetings/new/", views.meeting_new, name="meeting_new"),
        path("<int:circle_id>/close/", views.circle_close, name="close"),
        path("<int:circle_id>/meetings/<int:session_id>/minutes/", views.minutes, name="minutes"),
        path(
            "<int:circle_id>/meetings/<int:session_id>/minutes/recipients/",
            views.minutes_recipients,
            name="minutes_recipients",
        ),
    ],
    "circles",
)
