"""The forms of a meeting's page: check-in, check-out, attendance, and a conference's set-up."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mend.core.forms import OwnIdsForm
from mend.meetings.models import Feeling
from mend.meetings.services import AGENDA_MAX


class _FeelingForm(OwnIdsForm):
    """Both forms can be on one page, so each has its own element ids; the field names stay the same."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class CheckInForm(_FeelingForm):
    ids_prefix = "check_in"
    feeling = forms.ChoiceField(
        label=_("How are you arriving today?"), choices=Feeling.choices, widget=forms.RadioSelect
    )
    wants_support = forms.BooleanField(label=_("I would like support"), required=False)


class CheckOutForm(_FeelingForm):
    ids_prefix = "check_out"
    feeling = forms.ChoiceField(
        label=_("How are you leaving?"), choices=Feeling.choices, widget=forms.RadioSelect
    )
    wants_support = forms.BooleanField(label=_("I would like support"), required=False)


class AttendanceForm(forms.Form):
    present = forms.TypedMultipleChoiceField(
        label=_("Who was there"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, people: list[tuple[int, str]], **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["present"].choices = people


class ConferenceForm(forms.Form):
    """The agenda, each attendee's turn in the talking-piece round (blank: not in the round), and who each
    person comes with, chosen from the people supporting them in the case."""

    agenda = forms.CharField(
        label=_("Agenda"),
        help_text=_("Plain words that everyone attending will see. Leave names out."),
        required=False,
        max_length=AGENDA_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def __init__(
        self, *args, attendees: list[tuple[int, str]], supporters: dict[int, list[tuple[int, str]]], **kw
    ):
        super().__init__(*args, **kw)
        count = len(attendees)
        for pk, name in attendees:
            self.fields[f"turn_{pk}"] = forms.IntegerField(
                label=_("Turn of %(name)s in the round") % {"name": name},
                min_value=1,
                max_value=max(count, 1),
                required=False,
            )
        for pk, name in attendees:
            options = supporters.get(pk)
            if options:
                self.fields[f"supporter_{pk}"] = forms.TypedChoiceField(
                    label=_("%(name)s comes with") % {"name": name},
                    choices=[("", _("nobody"))] + options,
                    coerce=int,
                    empty_value=None,
                    required=False,
                )
        self.attendee_ids = [pk for pk, _name in attendees]

    def clean(self):
        data = super().clean()
        turns = {pk: data.get(f"turn_{pk}") for pk in self.attendee_ids if data.get(f"turn_{pk}") is not None}
        if len(set(turns.values())) != len(turns):
            raise forms.ValidationError(
                _("Each turn in the round goes to one person. Two people have the same turn.")
            )
        data["speaking_order"] = sorted(turns, key=turns.get)
        data["supporters"] = {
            pk: data.get(f"supporter_{pk}") for pk in self.attendee_ids if f"supporter_{pk}" in self.fields
        }
        return data
