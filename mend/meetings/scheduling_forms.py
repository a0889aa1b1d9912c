"""The form for scheduling a session."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mend.accounts.forms import TIME_ZONE_CHOICES
from mend.meetings.models import MeetingFormat, MeetingKind


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of session"), choices=MeetingKind.choices)
    format = forms.ChoiceField(label=_("Where"), choices=MeetingFormat.choices)
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}))
    time_zone = forms.ChoiceField(label=_("Time zone of that time"), choices=TIME_ZONE_CHOICES)
    duration_minutes = forms.IntegerField(
        label=_("Length in minutes"), min_value=15, max_value=480, initial=60
    )
    attendees = forms.TypedMultipleChoiceField(
        label=_("Who attends"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].choices = [(p.pk, f"{p.pseudonym} ({p.role_word})") for p in people]
