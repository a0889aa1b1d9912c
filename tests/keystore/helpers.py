"""What the key store tests share: a case whose every sealed field holds something, and a plain dump of
the tables those fields live in, read with SQL as a backup would hold them."""

from django.db import connection

from mend.assessments import services as assessments
from mend.cases.models import Participant

# The plain words written into each sealed field; none of them may ever be found in the database.
SECRETS = {
    ("cases_case", "intake_notes"): "Wren called from the shelter on Harbour Street.",
    ("cases_case", "referral_details"): "Referral from the cyber unit.",
    ("cases_participant", "contact_method"): "wren.secret@example.test",
    ("cases_participant", "accessibility_needs"): "Needs sessions after 6pm, hearing loop.",
    ("assessments_assessment", "answers"): "Still frightened of the old flat.",
    ("assessments_acknowledgment", "text"): "I shared the pictures without asking, and I know it hurt Wren.",
    ("assessments_safetyplan", "risks"): "He waits outside the library on Tuesdays.",
    ("assessments_safetyplan", "measures"): "Staff walk Wren to the bus stop.",
    ("assessments_safetyplan", "emergency_contacts"): "Sister Ivy, 021 555 0199.",
    ("assessments_conflictdeclaration", "details"): "I coached the responsible party's brother at rugby.",
}


def fill_every_sealed_field(cast) -> None:
    """Writes each of SECRETS through the services, as the pages would."""
    case = cast.case
    case.intake_notes = SECRETS[("cases_case", "intake_notes")]
    case.save(update_fields=["intake_notes"])
    harmed = Participant.objects.get(pk=cast.harmed.pk)
    harmed.contact_method = SECRETS[("cases_participant", "contact_method")]
    harmed.accessibility_needs = SECRETS[("cases_participant", "accessibility_needs")]
    harmed.save(update_fields=["contact_method", "accessibility_needs"])
    assessments.assessment_sign_off(
        actor=cast.facilitator,
        place=cast.harmed,
        answers={"motivation": SECRETS[("assessments_assessment", "answers")]},
        outcome="ready",
    )
    assessments.acknowledgment_submit(
        actor=cast.responsible.user,
        place=cast.responsible,
        text=SECRETS[("assessments_acknowledgment", "text")],
    )
    assessments.safety_plan_save(
        actor=cast.facilitator,
        place=cast.harmed,
        risks=SECRETS[("assessments_safetyplan", "risks")],
        measures=SECRETS[("assessments_safetyplan", "measures")],
        emergency_contacts=SECRETS[("assessments_safetyplan", "emergency_contacts")],
    )
    assessments.conflict_declare(
        actor=cast.other_facilitator_same_program,
        case=case,
        has_conflict=True,
        details=SECRETS[("assessments_conflictdeclaration", "details")],
    )


CASE_OF = {
    "cases_case": "id",
    "cases_participant": "case_id",
    "assessments_conflictdeclaration": "case_id",
}


def dump(case_id: int) -> dict[tuple[str, str], list[str]]:
    """The stored form of every sealed field of the case, read with plain SQL: what a copy holds."""
    found: dict[tuple[str, str], list[str]] = {}
    with connection.cursor() as cursor:
        for table, column in SECRETS:
            case_column = CASE_OF.get(table)
            if case_column:
                sql = f"SELECT {column} FROM {table} WHERE {case_column} = %s"  # noqa: S608 - fixed names
            else:
                sql = (
                    f"SELECT t.{column} FROM {table} t JOIN cases_participant p ON p.id = t.participant_id "  # noqa: S608
                    "WHERE p.case_id = %s"
                )
            cursor.execute(sql, [case_id])
            found[(table, column)] = [row[0] for row in cursor.fetchall() if row[0]]
    return found


def purpose(table: str, column: str) -> str:
    app, model = table.split("_", 1)
    return f"{app}.{model}.{column}"
