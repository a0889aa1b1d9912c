"""Reads of consent: which scopes a person holds now, and the text they would be agreeing to."""

from dataclasses import dataclass

from django.conf import settings

from mend.consent.models import Consent, ConsentText, HarmedPartyChoices, Mode, Scope
from mend.core import i18n


def current_scopes(participant) -> set[str]:
    """The scopes one person holds now, read afresh (a whole case's: mend.readiness.snapshot)."""
    return set(
        Consent.objects.filter(participant=participant, withdrawn_at__isnull=True).values_list(
            "scope", flat=True
        )
    )


def scopes_and_stopped(participant) -> tuple[set[str], bool]:
    """The scopes one person holds now, and whether they withdrew from taking part (consented once, not
    now), in one query: what their own page needs to say where they stand."""
    current, took_part = set(), False
    for scope, withdrawn_at in Consent.objects.filter(participant=participant).values_list(
        "scope", "withdrawn_at"
    ):
        took_part = took_part or scope == "take_part"
        if withdrawn_at is None:
            current.add(scope)
    return current, took_part and "take_part" not in current


@dataclass(frozen=True)
class TextToRead:
    """The wording of one scope a person reads now: their language's newest version, or, where the program
    has not written one in their language, the program's default language's (then English's)."""

    text: ConsentText
    language: str  # the language the person reads Mend in
    fell_back: bool  # the text is in another language than theirs, not yet written in it


def _languages_to_try(program, language: str) -> list[str]:
    """The person's language, then the program's default, then Mend's own default: the fallback order."""
    order = [language, i18n.supported(program.default_language), settings.LANGUAGE_CODE]
    return list(dict.fromkeys(code for code in order if code))


def texts_to_read(program, language: str) -> dict[str, TextToRead]:
    """Each scope's text a person reading `language` agrees to now, in one query however many languages
    and versions the program has written."""
    order = _languages_to_try(program, language)
    newest: dict[tuple[str, str], ConsentText] = {}
    for text in ConsentText.objects.filter(program=program, language__in=order).order_by("version"):
        newest[(text.scope, text.language)] = text
    found: dict[str, TextToRead] = {}
    for scope in Scope.values:
        for code in order:
            if (scope, code) in newest:
                found[scope] = TextToRead(newest[(scope, code)], language, code != language)
                break
    return found


def languages_behind(program) -> dict[tuple[str, str], list[str]]:
    """For each scope and language whose newest wording has not caught up with a change made since in
    another language: the languages of those changes, in the order they were made. In one query, replaying
    the program's texts in the order they were written:
    - a first version in a language is a translation: it changes nothing for the others;
    - a later version in a language that was behind brings it up to date (a catch-up);
    - a later version in a language that was up to date is a change: every other language with a
      wording of that scope is behind until its own next version."""
    behind: dict[tuple[str, str], list[str]] = {}
    written: dict[str, set[str]] = {}
    texts = (
        ConsentText.objects.filter(program=program).order_by("pk").values_list("scope", "language", "version")
    )
    for scope, language, version in texts:
        caught_up = behind.pop((scope, language), None)
        if version > 1 and not caught_up:
            for other in sorted(written.get(scope, set()) - {language}):
                changes = behind.setdefault((scope, other), [])
                if language not in changes:
                    changes.append(language)
        written.setdefault(scope, set()).add(language)
    return behind


def text_to_read(program, scope: str, language: str) -> TextToRead | None:
    return texts_to_read(program, language).get(scope)


def language_of_place(place) -> str:
    """The language a person in a case reads their consent in (mend.core.i18n.language_of)."""
    return i18n.language_of(place.user, fallback=place.case.program.default_language)


def reads_current(consent: Consent, to_read: ConsentText) -> bool:
    """The one rule for whether a consent was given to the text the person would read now: the same
    words in the same language. A newer version in their language, or their language's own text where
    they agreed to another language's, asks them to read it again; until they do, the consent holds."""
    return consent.language == to_read.language and consent.text_sha256 == to_read.sha256


def current_consents(participant) -> dict[str, Consent]:
    """The consents one person holds now, by scope (what their consent page compares with the texts)."""
    return {
        consent.scope: consent
        for consent in Consent.objects.filter(participant=participant, withdrawn_at__isnull=True)
    }


def scopes_to_read_again(place) -> set[str]:
    """The scopes whose wording changed since this person agreed to it (reads_current), in two queries: for
    a page that points them to their consent page."""
    texts = texts_to_read(place.case.program, language_of_place(place))
    return {
        scope
        for scope, consent in current_consents(place).items()
        if scope in texts and not reads_current(consent, texts[scope].text)
    }


def current_text(program, scope: str, language: str | None = None) -> ConsentText | None:
    """The wording of one scope that a person reading `language` (the program's default language when
    None) agrees to now."""
    found = text_to_read(program, scope, language or i18n.language_of(fallback=program.default_language))
    return found.text if found else None


def current_texts(program, language: str) -> dict[str, ConsentText]:
    """The newest version of each scope's text written in `language` (no fallback): the staff page's."""
    texts: dict[str, ConsentText] = {}
    for text in ConsentText.objects.filter(program=program, language=language).order_by("scope", "version"):
        texts[text.scope] = text
    return texts


def choices_of(participant) -> HarmedPartyChoices:
    """The person harmed's choices, or the defaults (nothing decided, nobody else attends, no updates)."""
    found = HarmedPartyChoices.objects.filter(participant=participant).first()
    return found or HarmedPartyChoices(participant=participant, mode=Mode.UNDECIDED)


def withdrawn_ids(participants) -> set[int]:
    """Of these people, those who withdrew from taking part, or whom staff marked as not in the process, and
    who have not come back: nothing new reaches them."""
    ids = [p.pk for p in participants]
    excluded = {p.pk for p in participants if p.excluded_at is not None}
    ever = set(
        Consent.objects.filter(participant__in=ids, scope="take_part").values_list(
            "participant_id", flat=True
        )
    )
    current = set(
        Consent.objects.filter(participant__in=ids, scope="take_part", withdrawn_at__isnull=True).values_list(
            "participant_id", flat=True
        )
    )
    return (ever - current) | excluded
