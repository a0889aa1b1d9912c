"""The snapshot reads a case's people and records in a fixed number of queries, whatever their number, and
is a value: taking it hangs nothing on the model objects, and a change shows in the next snapshot."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mend.accounts.models import Program
from mend.cases import services as case_services
from mend.cases.models import Case, Participant, Role
from mend.consent import services as consent_services
from mend.consent.models import HarmedPartyChoices
from mend.readiness import rules
from mend.readiness.snapshot import (
    PartialSnapshot,
    choices_snapshot,
    consent_snapshot,
    places_of,
    snapshot_of,
)
from tests.builders import consent, make_staff, prepare_for_encounter

pytestmark = pytest.mark.django_db

QUERIES = 7  # places, consents, choices, assessments, acknowledgments, safety plans, conflict declarations


def case_of(program: Program, people: int) -> Case:
    """A case with its facilitator and `people` - 1 others, half harmed (with their choices), half
    responsible."""
    facilitator = make_staff(program, "facilitator", f"f{people}@riverbend.test", f"Fay {people}")
    case = case_services.case_create(
        actor=facilitator,
        program=program,
        harm_category="fraud",
        jurisdictions=["NZ"],
        referral_source="self",
        facilitator=facilitator,
    )
    for n in range(people - 1):
        role = Role.HARMED_PARTY if n % 2 == 0 else Role.RESPONSIBLE_PARTY
        place = Participant.objects.create(case=case, role=role, pseudonym=f"P{n}", joined_at=timezone.now())
        if role == Role.HARMED_PARTY:
            HarmedPartyChoices.objects.create(participant=place, mode="direct")
    return Case.objects.select_related("program").get(pk=case.pk)


def queries_of(function) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        result = function()
    return len(captured), result


@pytest.mark.parametrize("people", [2, 12])
def test_it_reads_everyone_in_a_fixed_number_of_queries(cast, people):
    case = case_of(cast.program, people)
    count, snap = queries_of(lambda: snapshot_of(case))
    assert len(snap.places) == people
    assert count == QUERIES
    # The rules read nothing more.
    count, _missing = queries_of(lambda: rules.encounter_missing(snap))
    assert count == 0
    count, places = queries_of(lambda: places_of(case))
    assert count == 1 and len(places) == people


def test_it_hangs_nothing_on_the_objects_and_a_new_snapshot_sees_a_change(cast):
    prepare_for_encounter(cast)
    case = Case.objects.select_related("program").get(pk=cast.case.pk)
    before = snapshot_of(case)
    assert rules.encounter_missing(before) == []
    harmed = before.place(cast.harmed.pk)
    assert not any(name.startswith("_") and name not in ("_state",) for name in vars(harmed))
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="take_part")
    assert rules.encounter_missing(before) == []  # a value: what was read stays as it was read
    # Wren stopped: off her own path, and the only person harmed, so the harmed side is empty.
    assert rules.encounter_missing(snapshot_of(case)) == ["at least one person harmed taking part"]
    consent(cast.harmed, "take_part")
    assert rules.encounter_missing(snapshot_of(case)) == []


def test_a_rule_that_reads_every_record_refuses_a_partial_snapshot(cast):
    """A partial snapshot's empty records mean "not read", not "nothing missing": the rules that read them
    refuse it rather than let through what they exist to stop."""
    prepare_for_encounter(cast)
    case = Case.objects.select_related("program").get(pk=cast.case.pk)
    attendees = [cast.harmed, cast.responsible]
    for partial in (consent_snapshot(case), choices_snapshot(case)):
        assert not partial.complete
        for rule in (rules.encounter_missing, rules.conflict_missing, rules.each_side_missing):
            with pytest.raises(PartialSnapshot, match=rule.__name__):
                rule(partial)
        with pytest.raises(PartialSnapshot, match="preparation_missing"):
            rules.preparation_missing(partial)
        with pytest.raises(PartialSnapshot, match="meeting_missing"):
            rules.meeting_missing(partial, attendees)
    # What a partial snapshot is for still answers.
    assert rules.facilitator_contact_missing(consent_snapshot(case), cast.harmed) == []
    assert rules.direct_chosen(choices_snapshot(case))
    assert snapshot_of(case).complete
