"""Forms of the agreement pages. They check shape only; the rules are in the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mend.agreements.models import CheckIn, ItemKind, Outcome
from mend.core.forms import OwnIdsForm

DATE = forms.DateInput(attrs={"type": "date"})


class TermsForm(forms.Form):
    terms = forms.CharField(
        label=_("Shared terms"),
        help_text=_(
            "What everyone agrees to, in plain words. The items below say who does what, and by when."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=2000,
    )


class ItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of item"), choices=ItemKind.choices)
    description = forms.CharField(
        label=_("What will be done"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    owner = forms.TypedChoiceField(label=_("Who does it"), coerce=int, choices=())
    owed_to = forms.TypedChoiceField(
        label=_("Who it is for"),
        help_text=_("Only the people it is for hear how it is going."),
        coerce=int,
        empty_value=None,
        required=False,
        choices=(),
    )
    due_on = forms.DateField(label=_("Due by"), widget=DATE)
    verification = forms.CharField(
        label=_("How it will be checked"),
        help_text=_(
            "For example: a receipt, a certificate of the course, a screenshot, the facilitator reads it."
        ),
        max_length=2000,
    )
    amount = forms.CharField(label=_("Amount (restitution)"), required=False, max_length=20)
    currency = forms.CharField(label=_("Currency, like NZD (restitution)"), required=False, max_length=3)
    schedule = forms.CharField(label=_("Payment schedule (restitution)"), required=False, max_length=500)
    hours = forms.CharField(label=_("Hours (service to the community)"), required=False, max_length=6)
    where = forms.CharField(label=_("Where (service to the community)"), required=False, max_length=500)
    programme = forms.CharField(
        label=_("Course or programme (learning, counselling)"), required=False, max_length=500
    )
    channel = forms.CharField(
        label=_("How the letter is passed on (apology)"), required=False, max_length=500
    )
    spaces = forms.CharField(
        label=_("Spaces or kinds of contact (behaviour)"), required=False, max_length=500
    )
    what = forms.CharField(
        label=_("What is taken down, deleted, returned or fixed (digital repair)"),
        required=False,
        max_length=500,
    )

    DETAIL_FIELDS = (
        "amount",
        "currency",
        "schedule",
        "hours",
        "where",
        "programme",
        "channel",
        "spaces",
        "what",
    )

    def __init__(self, *args, owners=(), owed=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = list(owners)
        self.fields["owed_to"].choices = list(owed) or [("", "")]

    def details(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in self.DETAIL_FIELDS}


class SignForm(forms.Form):
    typed_name = forms.CharField(
        label=_("Type your name to sign"),
        help_text=_("The name you use in this case is fine."),
        max_length=120,
    )
    key_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=22)
    signature = forms.CharField(widget=forms.HiddenInput, required=False, max_length=90)

    def clean(self):
        data = super().clean()
        if not data.get("key_id") or not data.get("signature"):
            raise forms.ValidationError(
                _("Signing happens on your device and needs JavaScript. Please turn it on and try again.")
            )
        return data


class AskMoreForm(OwnIdsForm):
    ids_prefix = "ask"
    note = forms.CharField(
        label=_("What more is needed"),
        help_text=_("Kind and specific: the person will read this."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class PaymentForm(OwnIdsForm):
    ids_prefix = "payment"
    amount = forms.CharField(label=_("Amount paid"), max_length=20)
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class CheckInForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CheckIn.Kind.choices)
    with_participant = forms.TypedChoiceField(label=_("With"), coerce=int, choices=())
    due_on = forms.DateField(label=_("On"), widget=DATE)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["with_participant"].choices = list(people)


class CheckInDoneForm(forms.Form):
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("How the agreement ended"), choices=Outcome.choices)
