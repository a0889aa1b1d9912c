"""Encryption at rest: sensitive fields are stored sealed with their case's data key, read back plain, and
show a calm placeholder, never an error, once the case's keys are destroyed."""

import pytest
from django.db import connection, transaction

from mend.assessments import services as assessments
from mend.assessments.models import Assessment, SafetyPlan
from mend.cases import services as case_services
from mend.cases.models import Case, Participant
from mend.core import at_rest
from mend.keystore import services as keystore
from mend.keystore.models import DataKey
from tests.api.conftest import ApiCaller, token_for
from tests.keystore.helpers import SECRETS, dump, fill_every_sealed_field

DELETED = "This information was deleted."
UNAVAILABLE = "This information cannot be shown right now."


@pytest.fixture
def filled(cast):
    fill_every_sealed_field(cast)
    return cast


def test_it_stores_every_sensitive_field_sealed_and_never_plain(filled):
    stored = dump(filled.case.pk)
    for (table, column), plain in SECRETS.items():
        assert stored[(table, column)], f"{table}.{column} holds nothing"
        for value in stored[(table, column)]:
            assert value.startswith("v1:"), f"{table}.{column} is stored plain"
            assert plain not in value
    with connection.cursor() as cursor:
        for table, column in SECRETS:
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} LIKE %s", ["%Wren%"])  # noqa: S608
            assert cursor.fetchone()[0] == 0


def test_it_reads_back_what_was_written(filled):
    case = Case.objects.get(pk=filled.case.pk)
    harmed = Participant.objects.get(pk=filled.harmed.pk)
    plan = SafetyPlan.objects.get(participant=harmed)
    assert case.intake_notes == SECRETS[("cases_case", "intake_notes")]
    assert case.referral_details == SECRETS[("cases_case", "referral_details")]
    assert harmed.contact_method == SECRETS[("cases_participant", "contact_method")]
    assert plan.emergency_contacts == SECRETS[("assessments_safetyplan", "emergency_contacts")]
    answers = Assessment.objects.get(participant=harmed).answers
    assert answers == {"motivation": SECRETS[("assessments_assessment", "answers")]}


def test_it_opens_all_sealed_fields_of_a_row_with_one_key_read(filled):
    case = Case.objects.get(pk=filled.case.pk)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert case.intake_notes and case.referral_details and case.intake_notes
    assert len(queries) == 1


def test_it_makes_one_data_key_per_case_on_first_use(cast):
    quiet = case_services.case_create(
        actor=cast.coordinator, program=cast.program, harm_category="fraud", jurisdictions=["NZ"],
        referral_source="self",
    )  # fmt: skip
    assert not DataKey.objects.filter(case_id=quiet.pk).exists(), "no text, no key needed"
    assert DataKey.objects.filter(case_id=cast.case.pk).count() == 1
    row = DataKey.objects.get(case_id=cast.case.pk)
    assert len(bytes(row.wrapped)) == 12 + 32 + 16


def test_it_binds_a_sealed_value_to_its_case_and_field(filled):
    other = case_services.case_create(
        actor=filled.coordinator, program=filled.program, harm_category="fraud", jurisdictions=["NZ"],
        referral_source="self", intake_notes="Another case's notes.",
    )  # fmt: skip
    sealed_notes = dump(filled.case.pk)[("cases_case", "intake_notes")][0]
    with connection.cursor() as cursor:
        # Into another field of the same case, and into the same field of another case.
        cursor.execute(
            "UPDATE cases_case SET referral_details = %s WHERE id = %s", [sealed_notes, filled.case.pk]
        )
        cursor.execute("UPDATE cases_case SET intake_notes = %s WHERE id = %s", [sealed_notes, other.pk])
    moved = Case.objects.get(pk=filled.case.pk)
    assert moved.intake_notes == SECRETS[("cases_case", "intake_notes")]
    assert moved.referral_details == UNAVAILABLE
    assert Case.objects.get(pk=other.pk).intake_notes == UNAVAILABLE


def test_it_refuses_plain_text_in_a_query(filled):
    with pytest.raises(TypeError, match="sealed at rest"), transaction.atomic():
        Case.objects.filter(pk=filled.case.pk).update(intake_notes="written around the seal")
    Case.objects.filter(pk=filled.case.pk).update(intake_notes="")  # blanking needs no key


def test_it_does_not_seal_a_value_again_on_an_unrelated_save(filled):
    before = dump(filled.case.pk)[("cases_participant", "contact_method")]
    harmed = Participant.objects.get(pk=filled.harmed.pk)
    harmed.read_receipts = False
    harmed.save()
    harmed.refresh_from_db()
    harmed.save()
    assert dump(filled.case.pk)[("cases_participant", "contact_method")] == before


def test_it_saves_answers_changed_in_place(filled):
    assessment = Assessment.objects.get(participant=filled.harmed)
    assessment.answers["motivation"] = "Feels steadier now."
    assessment.save()
    assert Assessment.objects.get(pk=assessment.pk).answers == {"motivation": "Feels steadier now."}


def test_it_needs_the_master_key_to_open_a_data_key(filled, settings):
    settings.MEND_MASTER_KEY = bytes(32)
    case = Case.objects.get(pk=filled.case.pk)
    assert case.intake_notes == UNAVAILABLE
    with pytest.raises(keystore.KeyUnavailable):
        at_rest.open_for_case(
            case.pk, "cases.case.intake_notes", dump(case.pk)[("cases_case", "intake_notes")][0]
        )


def _shred(cast):
    keystore.case_keys_destroy(actor=cast.coordinator, case=cast.case)


def test_it_shows_a_placeholder_on_every_page_after_the_keys_are_destroyed(filled):
    _shred(filled)
    case = Case.objects.get(pk=filled.case.pk)
    assert case.intake_notes == DELETED and at_rest.is_deleted(case.intake_notes)
    assert Participant.objects.get(pk=filled.harmed.pk).contact_method == DELETED
    assert Assessment.objects.get(participant=filled.harmed).answers == {}

    reference = filled.case.reference
    staff_page = filled.client("facilitator").get(f"/cases/{reference}/")
    assert staff_page.status_code == 200
    assert DELETED in staff_page.content.decode()
    plan_page = filled.client("facilitator").get(f"/cases/{reference}/people/{filled.harmed.pk}/safety-plan/")
    assert plan_page.status_code == 200 and DELETED in plan_page.content.decode()
    own_plan = filled.client("harmed").get(f"/cases/{reference}/people/{filled.harmed.pk}/safety-plan/")
    assert own_plan.status_code == 200 and DELETED in own_plan.content.decode()
    for page in ("assessment/",):
        response = filled.client("facilitator").get(f"/cases/{reference}/people/{filled.harmed.pk}/{page}")
        assert response.status_code == 200
    api = ApiCaller(token_for(filled.facilitator))
    response = api.get(f"/cases/{reference}")
    assert response.status_code == 200
    assert response.json()["referral_details"] == DELETED


def test_it_refuses_new_writes_to_a_shredded_case_with_a_clear_message(filled):
    _shred(filled)
    reference = filled.case.reference
    response = filled.client("facilitator").post(
        f"/cases/{reference}/people/{filled.harmed.pk}/safety-plan/", {"risks": "New.", "measures": "New."}
    )
    assert response.status_code == 400  # the form, shown again with the reason
    assert "information was deleted" in response.content.decode()
    with pytest.raises(keystore.CaseDataDeleted):
        assessments.acknowledgment_submit(
            actor=filled.responsible.user, place=filled.responsible, text="A new acknowledgment, long enough."
        )
    # Nothing new was sealed under a fresh key either.
    assert DataKey.objects.filter(case_id=filled.case.pk, wrapped__isnull=False).count() == 0


def test_it_survives_reloading_and_saving_rows_after_shredding(filled):
    _shred(filled)
    harmed = Participant.objects.get(pk=filled.harmed.pk)
    harmed.refresh_from_db()
    harmed.read_receipts = False
    harmed.save()
    plan = SafetyPlan.objects.get(participant=harmed)
    plan.save()
    assert SafetyPlan.objects.get(pk=plan.pk).risks == DELETED
