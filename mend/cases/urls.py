"""The staff forms about one person in a case: their place in the process, their time zone and language."""

from django.urls import path

from mend.cases import views

person_patterns = (
    [
        path("people/<int:participant_id>/exclude/", views.person_exclude, name="exclude"),
        path("people/<int:participant_id>/settings/", views.person_settings, name="settings"),
        path("people/<int:participant_id>/interpreter/", views.person_interpreter, name="interpreter"),
    ],
    "cases_people",
)
