"""Programs made before consent texts had languages hold English texts only, and none for scopes added since
(the interpreter's): give each Mend's default wording, version 1, for every scope and interface language it
lacks, as consent_texts_seed does for a new program. A language whose catalogue does not translate a text is
left out (its readers see the program's default language's text, and are told so)."""

import hashlib

from django.conf import settings
from django.db import migrations
from django.utils import translation

from mend.consent.texts import DEFAULT_TEXTS


def _default_in(language, msgid):
    with translation.override(language):
        text = translation.gettext(msgid)
    return text if text != msgid or language == settings.LANGUAGE_CODE else None


def seed_missing(apps, schema_editor):
    Program = apps.get_model("accounts", "Program")
    ConsentText = apps.get_model("consent", "ConsentText")
    for program in Program.objects.all():
        have = set(ConsentText.objects.filter(program=program).values_list("scope", "language").distinct())
        for language, _name in settings.LANGUAGES:
            for scope, msgid in DEFAULT_TEXTS.items():
                text = _default_in(language, msgid)
                if text is None or (scope, language) in have:
                    continue
                ConsentText.objects.create(
                    program=program,
                    scope=scope,
                    language=language,
                    version=1,
                    text=text,
                    sha256=hashlib.sha256(text.encode()).hexdigest(),
                )


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_text_languages_and_interpreter")]

    operations = [migrations.RunPython(seed_missing, migrations.RunPython.noop)]
