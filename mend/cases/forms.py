"""Forms for intake, case filters, stage actions and invitations: they parse input, services decide."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from mend.cases import selectors, workflow
from mend.cases.models import ClosureReason, HarmCategory, ReferralSource, Role, Stage
from mend.cases.services import INVITABLE_ROLES
from mend.core.time_zones import time_zone_choices as TIME_ZONE_CHOICES
from mend.core.validators import language_choices


class IntakeForm(forms.Form):
    program = forms.TypedChoiceField(label=_("Program"), coerce=int)
    harm_category = forms.ChoiceField(label=_("Kind of harm"), choices=HarmCategory.choices)
    jurisdictions = forms.CharField(
        label=_("Countries or regions"),
        max_length=200,
        help_text=_("Codes separated by commas, like NZ or AU-NSW, GB."),
    )
    referral_source = forms.ChoiceField(label=_("Referred by"), choices=ReferralSource.choices)
    referral_details = forms.CharField(
        label=_("Referral details"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    intake_notes = forms.CharField(
        label=_("Intake notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    assign_me = forms.BooleanField(label=_("I will facilitate this case"), required=False, initial=True)

    def __init__(self, *args, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [(p.pk, p.name) for p in programs]
        if len(programs) == 1:
            self.fields["program"].initial = programs[0].pk

    def jurisdiction_list(self) -> list[str]:
        return [code for code in self.cleaned_data["jurisdictions"].split(",") if code.strip()]


class CursorField(forms.CharField):
    """A place in the case list, as the list's page links give it (selectors.cursor_of)."""

    default_error_messages = {
        "invalid": _("This page link is not one Mend made. Start again from the newest cases."),
    }
    widget = forms.HiddenInput

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        try:
            return selectors.read_cursor(text)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class QuickSelect(forms.Select):
    """A select drawn in Python rather than with a template per option: the case list draws its menus on
    every page, and the facilitator menu names every colleague. Same attributes and options as Select
    (these menus have no option groups)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option["value"], mark_safe(" selected") if option["selected"] else "", option["label"])
                for _group, group_options, _index in widget["optgroups"]
                for option in group_options
            ),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), options
        )


class CaseFilterForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", _("Any"))] + Stage.choices, widget=QuickSelect
    )
    category = forms.ChoiceField(
        label=_("Kind of harm"),
        required=False,
        choices=[("", _("Any"))] + HarmCategory.choices,
        widget=QuickSelect,
    )
    facilitator = forms.TypedChoiceField(
        label=_("Facilitator"), required=False, coerce=int, empty_value=None, widget=QuickSelect
    )
    # Where the page starts: after a case (older ones) or before it (newer ones), as the page links say.
    after = CursorField(required=False)
    before = CursorField(required=False)

    def __init__(self, *args, facilitators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].choices = [("", _("Anyone"))] + [
            (u.pk, u.display_name) for u in facilitators
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("after") and cleaned.get("before"):
            self.add_error(
                "before",
                _(
                    "This page link asks for two places in the list at once. "
                    "Start again from the newest cases."
                ),
            )
        return cleaned


class TransitionForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in workflow.ACTIONS])
    closure_reason = forms.ChoiceField(
        label=_("Why is the case closing?"), required=False, choices=[("", "")] + ClosureReason.choices
    )
    send_closing_message = forms.BooleanField(
        label=_("Send the person harmed a short, kind closing message"), required=False
    )


class CloseForm(forms.Form):
    closure_reason = forms.ChoiceField(label=_("Why is the case closing?"), choices=ClosureReason.choices)
    send_closing_message = forms.BooleanField(
        label=_("Send the person harmed a short, kind closing message"), required=False, initial=True
    )


class InviteForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Who are you inviting?"),
        choices=[(r, label) for r, label in Role.choices if r in INVITABLE_ROLES],
    )
    supports = forms.TypedChoiceField(
        label=_("Supporter or interpreter for"), required=False, coerce=int, empty_value=None
    )
    expires_in_days = forms.IntegerField(
        label=_("Link works for (days)"), min_value=1, max_value=30, initial=7
    )

    def __init__(self, *args, parties, role_words, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, role_words(r)) for r, _label in self.fields["role"].choices]
        self.fields["supports"].choices = [("", _("Nobody in particular"))] + [
            (p.pk, f"{p} ({role_words(p.role)})") for p in parties
        ]


class AssignForm(forms.Form):
    facilitator = forms.TypedChoiceField(label=_("Facilitator"), coerce=int)
    role = forms.ChoiceField(
        label=_("As"), choices=[("facilitator", _("facilitator")), ("co_facilitator", _("co-facilitator"))]
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].choices = [(u.pk, u.display_name) for u in candidates]


class ExcludeForm(forms.Form):
    reason = forms.CharField(
        label=_("Why, for the team only (the person and the others never see it)"),
        min_length=3,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class InterpreterForm(forms.Form):
    """Which party an interpreter helps: staff attach them to one, or to nobody."""

    party = forms.TypedChoiceField(label=_("Interpreter for"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, parties, role_words, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].choices = [("", _("Nobody for now"))] + [
            (p.pk, f"{p} ({role_words(p.role)})") for p in parties
        ]


class PersonSettingsForm(forms.Form):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=TIME_ZONE_CHOICES)
    preferred_language = forms.ChoiceField(label=_("Language"), choices=language_choices)
