"""Data-rights pages, under /cases/<reference>/ (mounted in mend/urls.py)."""

from django.urls import path

from mend.keystore import views

rights_patterns = (
    [path("delete-my-information/", views.delete_own, name="delete_own")],
    "rights",
)
