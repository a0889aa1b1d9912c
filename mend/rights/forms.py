"""The confirm step of a person's request to delete their information."""

from django import forms
from django.utils.translation import gettext_lazy as _


class DeleteOwnForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that my information will be deleted and cannot be brought back."),
        error_messages={
            "required": _("Tick the box if you want your information deleted. Nothing has been deleted.")
        },
    )
