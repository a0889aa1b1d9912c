"""The forms for scheduling a session, and for changing who attends one."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mend.core.time_zones import time_zone_choices as TIME_ZONE_CHOICES
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

    def __init__(self, *args, people, left_out=(), **kwargs):
        """`people` are offered. `left_out` (on a break, stopped or excluded) are not offered, and listed
        under the form as not taking part for now; a form sent with one of them anyway (they stepped back
        while it was open) still reaches the service, which says exactly what is missing."""
        super().__init__(*args, **kwargs)
        offered = [(p.pk, f"{p.pseudonym} ({p.role_word})") for p in people]
        self.fields["attendees"].choices = offered + [(p.pk, p.pseudonym) for p in left_out]
        self.fields["attendees"].widget.choices = offered
        self.left_out = [f"{p.pseudonym} ({p.role_word})" for p in left_out]


class AttendeesForm(forms.Form):
    """Who attends a meeting ahead, on its page: the people who could attend (as scheduling offers them) and
    those attending now, ticked."""

    attendees = forms.TypedMultipleChoiceField(
        label=_("Who attends"),
        help_text=_(
            "Tick people to invite them, untick people to take them off. Each person hears by email if they "
            "gave an email address. An interpreter comes with the person they help."
        ),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose who attends."),
            "invalid_choice": _("Choose people from the list."),
        },
    )

    def __init__(self, *args, people: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].choices = people
