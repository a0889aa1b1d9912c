"""The consent pages' contexts: what each page shows, read through the consent selectors."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from mend.cases.models import Role
from mend.consent import forms, selectors
from mend.consent.models import Scope
from mend.consent.services import scopes_for
from mend.core import i18n

CHOICE_FIELDS = (
    "mode",
    "supporters_may_attend",
    "community_may_attend",
    "progress_updates",
    "progress_every_weeks",
)


def consent_rows(place) -> list[dict]:
    """Each scope this person's role is asked about, the wording they read now (in their language, or the
    fallback, said so), whether they gave it, and whether the wording changed since they did."""
    texts = selectors.texts_to_read(place.case.program, selectors.language_of_place(place))
    current = selectors.current_consents(place)
    rows = []
    for scope in scopes_for(place):
        if scope not in texts:  # a scope newer than the program's texts: consent/migrations/0003 adds them
            continue
        to_read, consent = texts[scope], current.get(scope)
        rows.append(
            {
                "scope": scope,
                "label": Scope(scope).label,
                "text": to_read.text,
                "dir": i18n.direction(to_read.text.language),
                # The name of the language the text is shown in, when it is not the person's own.
                "fell_back": _name_of(to_read.text.language) if to_read.fell_back else None,
                "given": consent is not None,
                "read_again": consent is not None and not selectors.reads_current(consent, to_read.text),
            }
        )
    return rows


def saved_message(program, scope: str, language: str) -> str:
    """What staff read once a new wording is saved: and which other languages have not had the change yet,
    so that a change made in one language is not silently missing from the others."""
    saved = _("The new wording is saved. People will be asked to agree to it from now on.")
    behind = selectors.languages_behind(program)
    unchanged = [code for code, _name in settings.LANGUAGES if code != language and (scope, code) in behind]
    if not unchanged:
        return saved
    others_say = _("The wording in %(languages)s has not changed: you may want to change it too.")
    return f"{saved} {others_say % {'languages': _names(unchanged)}}"


def _names(codes: list[str]) -> str:
    return i18n.list_of([str(_name_of(code)) for code in codes])


def _name_of(code: str) -> str:
    """A language's name in the language of the page (a code Django does not know is shown as it is)."""
    try:
        return translation.get_language_info(code)["name_translated"]
    except KeyError:
        return code


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


def texts_language(program, requested: str | None) -> str:
    """The language whose texts the staff page shows and edits: the one asked for, else the program's."""
    return i18n.supported(requested) or i18n.language_of(fallback=program.default_language)


def program_texts(program, language: str) -> dict:
    """The staff page's context: each scope's newest text in `language` (each language has its own
    versions), what a reader sees where none is written yet, and the languages to choose from."""
    texts = selectors.current_texts(program, language)
    fallback = selectors.texts_to_read(program, language)
    behind = selectors.languages_behind(program)
    rows = [
        {
            "label": Scope(scope).label,
            "text": texts.get(scope),
            "shown_in": _name_of(fallback[scope].text.language) if scope in fallback else None,
            "changed_in": _names(behind.get((scope, language), [])),
        }
        for scope in Scope.values
    ]
    languages = [
        {"code": code, "name": name, "current": code == language} for code, name in settings.LANGUAGES
    ]
    return {"program": program, "language": language, "rows": rows, "languages": languages}
