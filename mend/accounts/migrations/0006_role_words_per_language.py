"""A program's words for roles become per language: {role: word} -> {default_language: {role: word}}."""

from django.db import migrations

ROLES = {
    "harmed_party",
    "responsible_party",
    "facilitator",
    "co_facilitator",
    "supporter",
    "community_member",
    "interpreter",
}


def per_language(apps, schema_editor):
    Program = apps.get_model("accounts", "Program")
    for program in Program.objects.all():
        words = program.role_words or {}
        if words and set(words) <= ROLES:
            program.role_words = {program.default_language: words}
            program.save(update_fields=["role_words"])


def flat(apps, schema_editor):
    Program = apps.get_model("accounts", "Program")
    for program in Program.objects.all():
        words = program.role_words or {}
        program.role_words = dict(words.get(program.default_language) or {})
        program.save(update_fields=["role_words"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_sealed_keys_and_install_salt")]

    operations = [migrations.RunPython(per_language, flat)]
