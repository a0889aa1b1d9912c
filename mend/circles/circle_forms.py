"""The forms of the circle pages: starting a circle, adding a member, scheduling a meeting, recording a
volunteer's vetting. They check shape only; the rules live in mend.circles.standing."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mend.circles.models import CircleKind, CircleMember
from mend.core.time_zones import time_zone_choices as TIME_ZONE_CHOICES
from mend.meetings.models import MeetingFormat


def _date(label, *, required=True, help_text=""):
    return forms.DateField(
        label=label, required=required, help_text=help_text, widget=forms.DateInput(attrs={"type": "date"})
    )


class CircleForm(forms.Form):
    program = forms.TypedChoiceField(label=_("Program"), coerce=int)
    kind = forms.ChoiceField(label=_("Kind of circle"), choices=CircleKind.choices)
    name = forms.CharField(
        label=_("Name of the circle"),
        max_length=80,
        help_text=_("A name for the group, never a person's name."),
    )
    keeper = forms.TypedChoiceField(label=_("Keeper"), coerce=int)
    case_reference = forms.CharField(
        label=_("The case it grows from (optional)"),
        required=False,
        max_length=16,
        help_text=_("Its reference, like C-ABCD-EFGH."),
    )
    meets_every_days = forms.IntegerField(
        label=_("Meets every so many days"), min_value=1, max_value=90, initial=7
    )
    starts_on = _date(_("First meeting on or after"))
    ends_on = _date(
        _("Ends on (optional)"),
        required=False,
        help_text=_("A circle of support and accountability runs 12 to 18 months; a year if left empty."),
    )

    def __init__(self, *args, programs, keepers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [(p.pk, p.name) for p in programs]
        if len(programs) == 1:
            self.fields["program"].initial = programs[0].pk
        many = len(programs) > 1
        self.fields["keeper"].choices = [
            (u.pk, f"{u.display_name} ({program.name})" if many else u.display_name) for u, program in keepers
        ]


class MemberForm(forms.Form):
    role = forms.ChoiceField(label=_("Place in the circle"), choices=CircleMember.Role.choices)
    person = forms.TypedChoiceField(label=_("Who"), coerce=int)
    name = forms.CharField(
        label=_("Name in the circle"),
        max_length=40,
        help_text=_("A pseudonym: the others know this person only by it."),
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", _("Choose someone"))] + people


class MeetingForm(forms.Form):
    format = forms.ChoiceField(label=_("Where"), choices=MeetingFormat.choices)
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}))
    time_zone = forms.ChoiceField(label=_("Time zone of that time"), choices=TIME_ZONE_CHOICES)
    duration_minutes = forms.IntegerField(
        label=_("Length in minutes"), min_value=15, max_value=480, initial=90
    )
    members = forms.TypedMultipleChoiceField(
        label=_("Who attends (the keeper always does)"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].choices = [(m.pk, f"{m.name} ({m.get_role_display()})") for m in members]
        self.fields["members"].initial = [m.pk for m in members]


class VettingForm(forms.Form):
    volunteer = forms.TypedChoiceField(label=_("Volunteer"), coerce=int)
    training_completed_on = _date(_("Training completed on"), required=False)
    background_checked_on = _date(_("Background check on"), required=False)

    def __init__(self, *args, volunteers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].choices = [("", _("Choose a volunteer"))] + volunteers
