"""Forms for consent and the person harmed's choices: they parse, services decide."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mend.consent.models import Mode, ProgressUpdates, Scope


class ConsentForm(forms.Form):
    scope = forms.ChoiceField(choices=Scope.choices)
    decision = forms.ChoiceField(choices=[("give", "give"), ("withdraw", "withdraw")])
    text_sha256 = forms.CharField(required=False, max_length=64)


class ChoicesForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("How do you want to take part?"), choices=Mode.choices, widget=forms.RadioSelect
    )
    supporters_may_attend = forms.BooleanField(label=_("My supporters may attend"), required=False)
    community_may_attend = forms.BooleanField(label=_("Community members may attend"), required=False)
    progress_updates = forms.ChoiceField(
        label=_("How do you want to hear about the other person's progress?"),
        choices=ProgressUpdates.choices,
        widget=forms.RadioSelect,
    )
    progress_every_weeks = forms.IntegerField(
        label=_("If a summary: every how many weeks?"), required=False, min_value=1, max_value=52
    )

    def __init__(self, *args, role_word: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seen_by_same_side"] = seen_field(role_word)


SEEN_LABEL = _(
    "Other people in this case who are also a %(role)s may see my pseudonym (only if they agree too)"
)


def seen_field(role_word: str) -> forms.BooleanField:
    """The choice to be seen by the others on one's own side: off unless the person turns it on."""
    return forms.BooleanField(label=SEEN_LABEL % {"role": role_word}, required=False)


class VisibilityForm(forms.Form):
    """The same-side choice of a person responsible (a person harmed makes it on their choices page)."""

    def __init__(self, *args, role_word: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seen_by_same_side"] = seen_field(role_word)


class ConsentTextForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, required=False)
    scope = forms.ChoiceField(label=_("Consent"), choices=Scope.choices)
    text = forms.CharField(
        label=_("Words people will agree to"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, language: str, **kwargs):
        super().__init__(*args, initial={"language": language}, **kwargs)
        self.language = language

    def clean_language(self) -> str:
        """The language chosen, or the one the page shows when none was sent."""
        return self.cleaned_data.get("language") or self.language
