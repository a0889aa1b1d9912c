"""Data-rights pages, under /cases/<reference>/ (mounted in mend/urls.py)."""

from django.urls import path

from mend.rights import views

rights_patterns = (
    [
        path("delete-my-information/", views.delete_own, name="delete_own"),
        path("my-information/", views.my_information, name="my_information"),
        path("my-information/data/", views.my_information_data, name="my_information_data"),
    ],
    "rights",
)
