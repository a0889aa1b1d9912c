"""Consent in the person's own language: each language's wording has its own versions, a consent records the
language and the exact words read, a change of those words asks the person to read them again, and a language
the program has not written yet falls back to its default language, saying so."""

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from mend.accounts.models import User
from mend.accounts.services import program_create
from mend.audit.models import AuditEvent
from mend.consent import selectors
from mend.consent import services as consent_services
from mend.consent.models import Consent, ConsentText, Scope
from mend.consent.texts import DEFAULT_TEXTS
from mend.core import i18n
from mend.core.errors import Conflict, DomainError

SPANISH = "Quiero participar en este proceso. Puedo descansar o parar cuando quiera, sin dar razones."
SPANISH_AGAIN = "Elijo participar en este proceso, y sé que puedo parar en cualquier momento."
FRENCH = "Je choisis de participer à ce processus, et je peux arrêter quand je veux."


def _url(cast) -> str:
    return f"/cases/{cast.case.reference}/consent/"


def _reads(place, language: str) -> None:
    User.objects.filter(pk=place.user_id).update(language=language)
    place.user.refresh_from_db()


def _write(cast, text: str, language: str, scope: str = "take_part") -> ConsentText:
    return consent_services.consent_text_update(
        actor=cast.admin, program=cast.program, scope=scope, text=text, language=language
    )


def _give_on_page(cast, client, scope: str = "take_part"):
    to_read = selectors.text_to_read(cast.program, scope, selectors.language_of_place(cast.harmed))
    return client.post(_url(cast), {"scope": scope, "decision": "give", "text_sha256": to_read.text.sha256})


def _row(page: str, scope: str) -> str:
    """The consent page's list item of one scope."""
    start = page.index(f'<li data-scope="{scope}"')
    return page[start : page.index("</li>", start)]


def test_it_seeds_each_default_text_in_every_language_its_catalogue_translates(db):
    program = program_create(actor=None, name="Tidewater Circle", slug="tidewater", jurisdictions=["NZ"])
    for language in ("en", "es", "fr", "ar"):
        with translation.override(language):
            for scope, msgid in DEFAULT_TEXTS.items():
                found = ConsentText.objects.filter(program=program, scope=scope, language=language)
                translated = translation.gettext(msgid)
                if language == "en" or translated != msgid:
                    text = found.get()
                    assert (text.version, text.text) == (1, translated), (language, scope)
                    assert text.sha256 == hashlib.sha256(translated.encode()).hexdigest()
                else:  # never English words recorded as another language's
                    assert not found.exists(), (language, scope)


def test_it_seeds_again_only_what_is_missing(db):
    program = program_create(actor=None, name="Tidewater Circle", slug="tidewater", jurisdictions=["NZ"])
    before = ConsentText.objects.filter(program=program).count()
    consent_services.consent_texts_seed(actor=None, program=program)
    assert ConsentText.objects.filter(program=program).count() == before


def test_it_versions_each_language_on_its_own(cast):
    english = selectors.current_texts(cast.program, "en")["take_part"]
    first = _write(cast, SPANISH, "es")
    second = _write(cast, SPANISH_AGAIN, "es")
    assert second.version == first.version + 1 and second.language == "es"
    assert selectors.current_texts(cast.program, "en")["take_part"] == english
    assert _write(cast, SPANISH_AGAIN, "es") == second  # the same words make no new version
    event = AuditEvent.objects.filter(code="consent.text_changed").latest("seq")
    assert event.payload == {"scope": "take_part", "language": "es", "version": second.version}


@pytest.mark.parametrize("language", ["de", "", "es-MX", "EN"])
def test_it_refuses_a_language_mend_has_no_interface_in(cast, language):
    with pytest.raises(DomainError, match="language"):
        _write(cast, SPANISH, language)


def test_a_consent_given_in_spanish_records_es_and_the_spanish_words(cast):
    written = _write(cast, SPANISH, "es")
    _reads(cast.harmed, "es")
    client = cast.client("harmed")
    assert SPANISH in client.get(_url(cast)).content.decode()

    assert _give_on_page(cast, client).status_code == 302

    record = Consent.objects.get(participant=cast.harmed, scope="take_part", withdrawn_at=None)
    assert record.language == "es" and record.text == written
    assert record.text_sha256 == hashlib.sha256(SPANISH.encode()).hexdigest()
    event = AuditEvent.objects.filter(code="consent.given").latest("seq")
    assert event.payload["language"] == "es" and event.payload["version"] == written.version


def test_changing_the_spanish_words_asks_the_person_to_read_them_again(cast):
    _write(cast, SPANISH, "es")
    _reads(cast.harmed, "es")
    client = cast.client("harmed")
    _give_on_page(cast, client)
    assert 'data-testid="read-again"' not in _row(client.get(_url(cast)).content.decode(), "take_part")

    changed = _write(cast, SPANISH_AGAIN, "es")

    row = _row(client.get(_url(cast)).content.decode(), "take_part")
    assert 'data-testid="read-again"' in row and SPANISH_AGAIN in row
    assert selectors.scopes_to_read_again(cast.harmed) == {"take_part"}
    # Until they decide, the consent they gave still stands.
    assert "take_part" in selectors.current_scopes(cast.harmed)
    assert _give_on_page(cast, client).status_code == 302
    old, new = Consent.objects.filter(participant=cast.harmed, scope="take_part").order_by("pk")
    assert old.withdrawn_at == new.given_at and new.withdrawn_at is None
    assert (new.text, new.language) == (changed, "es")
    assert AuditEvent.objects.filter(code="consent.given").latest("seq").payload["renews"] == old.pk
    assert 'data-testid="read-again"' not in _row(client.get(_url(cast)).content.decode(), "take_part")
    assert selectors.scopes_to_read_again(cast.harmed) == set()


def test_the_same_words_given_twice_are_refused_kindly(cast):
    _write(cast, SPANISH, "es")
    _reads(cast.harmed, "es")
    text = selectors.text_to_read(cast.program, "take_part", "es").text
    consent_services.consent_give(
        actor=cast.harmed.user, place=cast.harmed, scope="take_part", text_sha256=text.sha256
    )
    with pytest.raises(Conflict, match="already"):
        consent_services.consent_give(
            actor=cast.harmed.user, place=cast.harmed, scope="take_part", text_sha256=text.sha256
        )


def test_another_languages_change_does_not_ask_again(cast):
    _write(cast, SPANISH, "es")
    _reads(cast.harmed, "es")
    client = cast.client("harmed")
    _give_on_page(cast, client)
    _write(cast, "I choose to take part, and I can stop whenever I want to.", "en")
    assert 'data-testid="read-again"' not in _row(client.get(_url(cast)).content.decode(), "take_part")


def test_a_language_not_written_yet_falls_back_and_says_so(cast):
    ConsentText.objects.filter(program=cast.program, language="fr").delete()
    _reads(cast.harmed, "fr")
    client = cast.client("harmed")
    english = selectors.current_texts(cast.program, "en")["take_part"]

    row = _row(client.get(_url(cast)).content.decode(), "take_part")

    assert 'data-testid="text-fell-back"' in row and english.text in row and 'lang="en"' in row
    _give_on_page(cast, client)
    record = Consent.objects.get(participant=cast.harmed, scope="take_part", withdrawn_at=None)
    assert (record.language, record.text) == ("en", english)

    # Once the program writes it in French, the person is asked to read their own language's words.
    _write(cast, FRENCH, "fr")
    row = _row(client.get(_url(cast)).content.decode(), "take_part")
    assert 'data-testid="text-fell-back"' not in row and 'data-testid="read-again"' in row and FRENCH in row


def test_the_fallback_is_the_programs_default_language_before_english(cast):
    ConsentText.objects.filter(program=cast.program, language="fr").delete()
    _write(cast, SPANISH, "es")
    cast.program.default_language = "es"
    cast.program.save(update_fields=["default_language"])
    to_read = selectors.text_to_read(cast.program, "take_part", "fr")
    assert (to_read.text.text, to_read.fell_back) == (SPANISH, True)
    # A scope the program never wrote in Spanish either: English, the last resort.
    ConsentText.objects.filter(program=cast.program, language="es", scope="share_statement").delete()
    assert selectors.text_to_read(cast.program, "share_statement", "fr").text.language == "en"


def test_a_language_mend_has_no_interface_in_reads_the_programs_default(cast):
    _reads(cast.harmed, "mi")
    cast.harmed.refresh_from_db()
    assert selectors.language_of_place(cast.harmed) == "en"
    to_read = selectors.text_to_read(cast.program, "take_part", selectors.language_of_place(cast.harmed))
    assert to_read.text.language == "en" and not to_read.fell_back


def test_consent_page_queries_do_not_grow_with_languages_and_versions(cast):
    client = cast.client("harmed")
    client.get(_url(cast))  # the session and caches warm up
    with CaptureQueriesContext(connection) as before:
        assert client.get(_url(cast)).status_code == 200
    for n in range(3):
        for language in ("es", "fr", "ar"):
            for scope in (Scope.TAKE_PART, Scope.DATA_PROCESSING):
                _write(cast, f"{SPANISH} ({language} {n})", language, scope=scope)
    with CaptureQueriesContext(connection) as after:
        assert client.get(_url(cast)).status_code == 200
    assert len(after) == len(before)
    texts = [q["sql"] for q in after.captured_queries if "consent_consenttext" in q["sql"]]
    assert len(texts) == 1


def test_staff_choose_the_language_of_the_wording_they_edit(cast):
    url = f"/programs/{cast.program.pk}/consent/"
    client = cast.client("admin")
    english_version = selectors.current_texts(cast.program, "en")["take_part"].version
    spanish = selectors.current_texts(cast.program, "es").get("take_part")

    page = client.get(f"{url}?language=es").content.decode()
    assert '<a href="?language=es" lang="es" aria-current="page">' in page
    response = client.post(f"{url}?language=es", {"language": "es", "scope": "take_part", "text": SPANISH})

    assert response.status_code == 302 and response["Location"].endswith("?language=es")
    written = selectors.current_texts(cast.program, "es")["take_part"]
    assert written.text == SPANISH and written.version == (spanish.version + 1 if spanish else 1)
    assert selectors.current_texts(cast.program, "en")["take_part"].version == english_version
    assert SPANISH in client.get(f"{url}?language=es").content.decode()
    # The page's language is the one written when the form sends none.
    client.post(f"{url}?language=fr", {"scope": "take_part", "text": FRENCH})
    assert selectors.current_texts(cast.program, "fr")["take_part"].text == FRENCH
    assert client.post(url, {"language": "xx", "scope": "take_part", "text": FRENCH}).status_code == 400


def test_staff_see_which_scopes_a_language_has_not_written(cast):
    ConsentText.objects.filter(program=cast.program, language="ar", scope="take_part").delete()
    page = cast.client("admin").get(f"/programs/{cast.program.pk}/consent/?language=ar").content.decode()
    assert "Not written in this language yet" in page


def _staff_row(page: str, label: str) -> str:
    """The staff page's table row of one scope."""
    start = page.index(f"<tr><td>{label}</td>")
    return page[start : page.index("</tr>", start)]


def test_staff_are_told_which_languages_still_say_what_they_said_when_one_changes(cast):
    url = f"/programs/{cast.program.pk}/consent/"
    client = cast.client("admin")
    assert selectors.languages_behind(cast.program) == {}  # the seeded texts are translations, not changes

    response = client.post(f"{url}?language=es", {"language": "es", "scope": "take_part", "text": SPANISH})
    said = [str(m) for m in response.wsgi_request._messages]
    assert said == [
        "The new wording is saved. People will be asked to agree to it from now on. "
        "The wording in English, French, Arabic has not changed: you may want to change it too."
    ]
    # Each language the change is missing from says so on its row, and only on that scope's row.
    english = client.get(f"{url}?language=en").content.decode()
    take_part = str(Scope("take_part").label)
    assert "Changed in Spanish after this version was written." in _staff_row(english, take_part)
    assert english.count('data-testid="changed-elsewhere"') == 1
    assert 'data-testid="changed-elsewhere"' not in client.get(f"{url}?language=es").content.decode()

    # English brought up to date: English is no longer behind, and Spanish is not behind English's catch-up.
    _write(cast, "I choose to take part in this process, and I can stop at any time.", "en")
    for language in ("en", "es"):
        assert (
            'data-testid="changed-elsewhere"' not in client.get(f"{url}?language={language}").content.decode()
        )
    french = client.get(f"{url}?language=fr").content.decode()
    assert "Changed in Spanish after this version was written." in _staff_row(french, take_part)

    # A new change in English, now up to date, puts every other language behind, Spanish included.
    _write(cast, "I choose to take part, and I can take a break or stop at any time.", "en")
    assert selectors.languages_behind(cast.program) == {
        ("take_part", "es"): ["en"],
        ("take_part", "fr"): ["es", "en"],
        ("take_part", "ar"): ["es", "en"],
    }
    french = client.get(f"{url}?language=fr").content.decode()
    assert "Changed in Spanish, English after this version was written." in _staff_row(french, take_part)


def test_the_list_of_languages_is_written_in_the_readers_language(cast):
    _write(cast, SPANISH, "es")
    _write(cast, "I choose to take part in this process, and I can stop at any time.", "en")  # a catch-up
    _write(cast, "I choose to take part, and I can take a break or stop at any time.", "en")  # a change
    User.objects.filter(pk=cast.admin.pk).update(language="ar")
    page = cast.client("admin").get(f"/programs/{cast.program.pk}/consent/?language=fr").content.decode()
    start = page.index('data-testid="changed-elsewhere"')
    note = page[start : page.index("</p>", start)]
    with translation.override("ar"):
        names = i18n.list_of([str(translation.get_language_info(c)["name_translated"]) for c in ("es", "en")])
    assert "، " in names and names in note


def test_a_change_in_a_language_no_other_has_written_says_only_that_it_is_saved(cast):
    ConsentText.objects.filter(program=cast.program, scope="take_part").exclude(language="en").delete()
    response = cast.client("admin").post(
        f"/programs/{cast.program.pk}/consent/?language=en",
        {"language": "en", "scope": "take_part", "text": "I choose to take part, and can stop at any time."},
    )
    said = [str(m) for m in response.wsgi_request._messages]
    assert said == ["The new wording is saved. People will be asked to agree to it from now on."]


def test_the_staff_page_reads_which_languages_are_behind_in_one_query(cast):
    for n in range(3):
        _write(cast, f"{SPANISH} Versión {n}.", "es")
    with CaptureQueriesContext(connection) as queries:
        behind = selectors.languages_behind(cast.program)
    assert len(queries) == 1
    assert behind[("take_part", "en")] == ["es"]


@pytest.mark.django_db(transaction=True)
def test_a_program_made_before_languages_gets_the_default_texts_it_lacks():
    """consent/migrations/0003: English texts kept as they were; the interpreter's and each translated
    language's defaults added, as version 1."""
    executor = MigrationExecutor(connection)
    before = [("consent", "0002_text_languages_and_interpreter")]
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    program = apps.get_model("accounts", "Program").objects.create(name="Old Ford Trust", slug="old-ford")
    kept = apps.get_model("consent", "ConsentText").objects.create(
        program=program, scope="take_part", language="en", version=3, text="Our own words.", sha256="0" * 64
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    texts = ConsentText.objects.filter(program_id=program.pk)
    assert texts.get(scope="take_part", language="en").pk == kept.pk  # nothing written over
    interpreter = texts.get(scope="interpreter", language="en")
    assert (interpreter.version, interpreter.text) == (1, DEFAULT_TEXTS["interpreter"])
    for language in ("es", "fr", "ar"):
        with translation.override(language):
            expected = translation.gettext(DEFAULT_TEXTS["take_part"])
        found = texts.filter(scope="take_part", language=language).first()
        assert (found.text if found else DEFAULT_TEXTS["take_part"]) == expected, language
