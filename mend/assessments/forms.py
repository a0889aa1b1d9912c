"""Forms for assessments, acknowledgments, safety plans and conflict declarations."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mend.assessments.models import Outcome


class AssessmentForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect)
    reassess_on = forms.DateField(
        label=_("Assess again on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[f"q_{question['id']}"] = forms.CharField(
                label=question["text"],
                required=False,
                max_length=4000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def answers(self) -> dict[str, str]:
        return {q["id"]: self.cleaned_data.get(f"q_{q['id']}", "") for q in self.questions}


class AcknowledgmentForm(forms.Form):
    text = forms.CharField(
        label=_("In your own words: what happened, and how it affected the other person"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 8}),
    )


class SafetyPlanForm(forms.Form):
    risks = forms.CharField(label=_("Risks"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    measures = forms.CharField(
        label=_("What keeps them safe"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    emergency_contacts = forms.CharField(
        label=_("Emergency contacts"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ConflictForm(forms.Form):
    has_conflict = forms.TypedChoiceField(
        label=_("Do you have a conflict of interest in this case?"),
        coerce=lambda v: v == "yes",
        choices=[("no", _("No, I have no conflict of interest")), ("yes", _("Yes, I have a conflict"))],
        widget=forms.RadioSelect,
    )
    details = forms.CharField(label=_("If yes, say briefly what it is"), required=False, max_length=1000)


class QuestionsForm(forms.Form):
    questions = forms.CharField(
        label=_("Questions, one per line: id | section | question"),
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_(
            "Sections are readiness, safety or digital. "
            "Example: motivation | readiness | What brings them here?"
        ),
    )

    def parsed(self) -> list[dict]:
        rows = []
        for number, line in enumerate(self.cleaned_data["questions"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 3:
                raise forms.ValidationError(
                    _("Line %(n)d needs three parts separated by |: id | section | question.") % {"n": number}
                )
            rows.append({"id": parts[0], "section": parts[1], "text": parts[2]})
        return rows
