"""Steps of the crypto-shredding and migration scenarios, each run as its own `python -m` process, so that
each can point Mend at different database files (a copy of the main database, another key store) through
DATABASE_URL and MEND_KEYSTORE_DATABASE_URL, as an operator restoring a backup would. Prints JSON."""

import json
import os
import sys
from types import SimpleNamespace


def _setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()


def _migrate():
    from django.conf import settings
    from django.core.management import call_command

    if "keystore" in settings.DATABASES:
        call_command("migrate", database="keystore", verbosity=0)
    call_command("migrate", verbosity=0)


def _cast():
    from mend.cases import services as case_services
    from mend.cases.models import Role
    from tests.builders import join, make_program, make_staff

    program = make_program()
    coordinator = make_staff(program, "coordinator", "coord@riverbend.test", "Cole Coordinator")
    facilitator = make_staff(program, "facilitator", "fac@riverbend.test", "Fen Facilitator")
    colleague = make_staff(program, "facilitator", "fac2@riverbend.test", "Gil Colleague")
    case = case_services.case_create(
        actor=coordinator, program=program, harm_category="image_based_abuse", jurisdictions=["NZ"],
        referral_source="police", referral_details="Referral from the cyber unit.", facilitator=facilitator,
    )  # fmt: skip
    harmed = join(actor=facilitator, case=case, role=Role.HARMED_PARTY, pseudonym="Wren")
    responsible = join(actor=facilitator, case=case, role=Role.RESPONSIBLE_PARTY, pseudonym="Kestrel")
    return SimpleNamespace(
        program=program, coordinator=coordinator, facilitator=facilitator,
        other_facilitator_same_program=colleague, case=case, harmed=harmed, responsible=responsible,
    )  # fmt: skip


def read(case_id: int) -> dict:
    """Every sealed field of the case, as Mend's own pages would read it."""
    from mend.assessments.models import Acknowledgment, Assessment, ConflictDeclaration, SafetyPlan
    from mend.cases.models import Case, Participant
    from mend.core import at_rest

    case = Case.objects.get(pk=case_id)
    out = {"cases_case.intake_notes": case.intake_notes, "cases_case.referral_details": case.referral_details}
    for place in Participant.objects.filter(case=case).order_by("pk"):
        if place.contact_method:
            out["cases_participant.contact_method"] = place.contact_method
            out["cases_participant.accessibility_needs"] = place.accessibility_needs
    plan = SafetyPlan.objects.filter(participant__case=case).first()
    out.update(
        {f"assessments_safetyplan.{f}": getattr(plan, f) for f in ("risks", "measures", "emergency_contacts")}
    )
    answers = Assessment.objects.get(participant__case=case).answers
    placeholders = {"open": None, "deleted": str(at_rest.DELETED), "unavailable": str(at_rest.UNAVAILABLE)}
    shown = placeholders[getattr(answers, "state", "open")]
    out["assessments_assessment.answers"] = shown or json.dumps(answers, separators=(",", ":"))
    out["assessments_acknowledgment.text"] = Acknowledgment.objects.get(participant__case=case).text
    out["assessments_conflictdeclaration.details"] = ConflictDeclaration.objects.get(case=case).details
    return out


def setup() -> dict:
    from tests.keystore.helpers import fill_every_sealed_field

    _migrate()
    cast = _cast()
    fill_every_sealed_field(cast)
    return {"case": cast.case.pk}


def delete(case_id: int) -> dict:
    """The case closes; the person harmed then asks for deletion, which shreds the closed case."""
    from mend.accounts.models import User
    from mend.cases import services as case_services
    from mend.cases.models import Case, Role
    from mend.rights import services as rights

    case = Case.objects.get(pk=case_id)
    coordinator = User.objects.get(username="coord@riverbend.test")
    case_services.case_transition(actor=coordinator, case=case, action="close", closure_reason="other")
    harmed = case.participants.get(role=Role.HARMED_PARTY)
    rights.participant_data_delete(actor=harmed.user, place=harmed)
    return {"shredded": Case.objects.get(pk=case_id).data_deleted_at is not None}


def legacy() -> dict:
    """Migrating back to before encryption at rest opens every sealed value into plain text; migrating
    forward again, with no data keys at all (an install from before), seals them again."""
    from django.core.management import call_command
    from django.db import connection

    from mend.keystore.models import DataKey
    from tests.keystore.helpers import SECRETS, fill_every_sealed_field

    _migrate()
    cast = _cast()
    fill_every_sealed_field(cast)
    plain = {f"{t}.{c}": v for (t, c), v in SECRETS.items()}
    answers = {"motivation": SECRETS[("assessments_assessment", "answers")]}
    plain["assessments_assessment.answers"] = json.dumps(answers, separators=(",", ":"))

    def raw():
        found = {}
        with connection.cursor() as cursor:
            for table, column in SECRETS:
                cursor.execute(f"SELECT {column} FROM {table}")  # noqa: S608 - fixed names
                found[f"{table}.{column}"] = [str(row[0]) for row in cursor.fetchall() if row[0]]
        return found

    call_command("migrate", "cases", "0003", verbosity=0)
    call_command("migrate", "assessments", "0001", verbosity=0)
    backward = raw()
    DataKey.objects.all().delete()
    call_command("migrate", verbosity=0)
    forward = {"raw": raw(), "read": read(cast.case.pk), "keys": DataKey.objects.count()}
    return {"plain": plain, "forward": forward, "backward": backward}


def main(argv: list[str]) -> None:
    _setup_django()
    step, *args = argv
    if step == "setup":
        result = setup()
    elif step == "read":
        result = read(int(args[0]))
    elif step == "delete":
        result = delete(int(args[0]))
    elif step == "migrate":
        _migrate()
        result = {}
    elif step == "legacy":
        result = legacy()
    else:
        raise SystemExit(f"unknown step {step}")
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
