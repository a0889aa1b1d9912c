"""The consent pages' contexts: what each page shows, read through the consent selectors."""

from mend.cases.models import Role
from mend.consent import forms, selectors
from mend.consent.models import Scope
from mend.consent.services import SCOPES_FOR_ROLE

CHOICE_FIELDS = (
    "mode",
    "supporters_may_attend",
    "community_may_attend",
    "progress_updates",
    "progress_every_weeks",
)


def consent_rows(place) -> list[dict]:
    """Each scope this person's role is asked about, its current wording, and whether they gave it."""
    texts = selectors.current_texts(place.case.program)
    current = selectors.current_scopes(place)
    return [
        {"scope": scope, "label": Scope(scope).label, "text": texts[scope], "given": scope in current}
        for scope in SCOPES_FOR_ROLE.get(place.role, [])
    ]


def choices_initial(place) -> dict:
    current = selectors.choices_of(place)
    return {name: getattr(current, name) for name in CHOICE_FIELDS} | {
        "seen_by_same_side": place.seen_by_same_side
    }


def visibility_form(place, data=None):
    """The same-side choice on the consent page, for a person responsible only (the person harmed has it on
    their choices page); None for everyone else."""
    if place.role != Role.RESPONSIBLE_PARTY:
        return None
    return forms.VisibilityForm(
        data,
        role_word=place.case.program.word_for(place.role),
        initial={"seen_by_same_side": place.seen_by_same_side},
    )


def program_texts(program) -> list:
    """The program's current consent texts, in the order of the scopes."""
    return sorted(selectors.current_texts(program).values(), key=lambda t: Scope.values.index(t.scope))
